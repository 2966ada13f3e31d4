/* Tempodesk: put a support form into another site's page.
 *
 *   <script src="https://desk.example.com/support/<form>/embed.js" async></script>
 *
 * The form runs in an iframe served by Tempodesk (/support/<form>/embed), which only the
 * form's allowed origins may frame (Content-Security-Policy: frame-ancestors).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var frame = document.createElement("iframe");
  frame.src = script.src.replace(/\/embed\.js(\?.*)?$/, "/embed");
  frame.title = script.getAttribute("data-title") || "Support";
  frame.style.width = "100%";
  frame.style.minHeight = (script.getAttribute("data-height") || "760") + "px";
  frame.style.border = "0";
  frame.setAttribute("loading", "lazy");
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
