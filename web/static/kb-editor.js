// The knowledge base's rich-text editor (web/templates/kb/_editor.html): a contenteditable
// area with a small toolbar that writes its HTML into the form's textarea. Without
// JavaScript the textarea itself is the editor. The server sanitises every body (nh3), so
// this only has to be convenient; no inline scripts or styles (the Content-Security-Policy).
(() => {
  "use strict";

  const DROPPED = "script,style,iframe,object,embed,img,svg,math,form,input,textarea,select,button,link,meta";

  // The textarea's HTML as inert nodes (a <template> runs and loads nothing), without
  // elements we never keep and without event or style attributes.
  function inertCopy(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const node of template.content.querySelectorAll(DROPPED)) node.remove();
    for (const element of template.content.querySelectorAll("*")) {
      for (const attribute of Array.from(element.attributes)) {
        const name = attribute.name.toLowerCase();
        if (name !== "href" && name !== "colspan" && name !== "rowspan") {
          element.removeAttribute(attribute.name);
        } else if (name === "href" && /^\s*(javascript|data|vbscript):/i.test(attribute.value)) {
          element.removeAttribute(attribute.name);
        }
      }
    }
    return template.content;
  }

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function run(command, editable, button) {
    editable.focus();
    if (command === "heading") {
      const current = document.queryCommandValue("formatBlock").toLowerCase();
      document.execCommand("formatBlock", false, current === "h2" ? "p" : "h2");
    } else if (command === "link") {
      const address = window.prompt(button.getAttribute("data-prompt") || "https://", "https://");
      if (address && /^(https?:|mailto:|\/)/i.test(address.trim())) {
        document.execCommand("createLink", false, address.trim());
      }
    } else if (command === "code") {
      const selected = String(window.getSelection() || "");
      document.execCommand("insertHTML", false, `<code>${escapeHtml(selected || "code")}</code>`);
    } else {
      document.execCommand(command, false);
    }
  }

  function setup(box) {
    const textarea = document.getElementById(box.getAttribute("data-kb-editor"));
    const editable = box.querySelector(".kb-editable");
    if (!textarea || !editable) return;
    editable.replaceChildren(inertCopy(textarea.value));
    box.hidden = false;
    textarea.hidden = true;
    const sync = () => {
      textarea.value = editable.innerHTML;
    };
    editable.addEventListener("input", sync);
    box.querySelector(".kb-toolbar").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-command]");
      if (!button) return;
      event.preventDefault();
      run(button.getAttribute("data-command"), editable, button);
      sync();
    });
    if (textarea.form) textarea.form.addEventListener("submit", sync);
  }

  document.addEventListener("DOMContentLoaded", () => {
    try {
      document.execCommand("defaultParagraphSeparator", false, "p");
    } catch (ignored) {
      // an old browser: its own separator
    }
    for (const box of document.querySelectorAll("[data-kb-editor]")) setup(box);
  });
})();
