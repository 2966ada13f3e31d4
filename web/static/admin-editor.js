// The process editor's script (process page, form editor, expert editor).
// - Draws the server's Mermaid text as an SVG with the vendored Mermaid: vendor/mermaid.min.js is
//   mermaid 11.17.2 from the npm registry (dist/mermaid.min.js; MIT, see vendor/MERMAID-LICENSE).
// - While the form or the YAML is edited, asks POST …/diagram (debounced) for the new Mermaid
//   text and problems, and redraws.
// - Shows only the arguments the chosen effect type takes; asks before data-confirm buttons.
// Everything works without it except the drawing: the Mermaid text stays on the page.
// No inline scripts anywhere: the Content-Security-Policy forbids them.
(() => {
  "use strict";

  const DELAY_MS = 600;
  const t = (key, fallback, values) => window.tempodesk.t(key, fallback, values); // app.js
  const NO_DIAGRAM = () =>
    t("diagramNone", "No diagram: the definition cannot be read yet (see the problems).");
  let drawings = 0;

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setStatus(text) {
    const status = document.getElementById("diagram-status");
    if (status) status.textContent = text;
  }

  async function draw(text) {
    const target = document.getElementById("diagram");
    const source = document.getElementById("diagram-source");
    const sourceBox = source ? source.closest("details") : null;
    if (source) source.textContent = text;
    if (sourceBox) sourceBox.hidden = !text;
    if (!target) return;
    const mine = ++drawings;
    if (!text) {
      target.replaceChildren();
      setStatus(NO_DIAGRAM());
      return;
    }
    if (!window.mermaid) {
      setStatus(
        t("diagramUnsupported", "The diagram cannot be drawn here; its Mermaid text is below."),
      );
      return;
    }
    try {
      const { svg, bindFunctions } = await window.mermaid.render(`diagram-svg-${mine}`, text);
      if (mine !== drawings) return; // a newer drawing has started meanwhile
      target.innerHTML = svg; // sanitised by Mermaid (securityLevel "strict")
      if (bindFunctions) bindFunctions(target);
      setStatus("");
      if (sourceBox) sourceBox.open = false;
    } catch (error) {
      if (mine !== drawings) return;
      setStatus(
        t(
          "diagramFailed",
          "The diagram could not be drawn ({error}); its Mermaid text is below.",
          { error: error.message || error },
        ),
      );
      if (sourceBox) sourceBox.open = true;
    }
  }

  function showProblems(problems) {
    const list = document.getElementById("diagram-problems");
    if (!list) return;
    list.replaceChildren(
      ...problems.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }),
    );
    list.hidden = problems.length === 0;
  }

  function liveDiagram(form) {
    const url = form.getAttribute("data-diagram-url");
    let timer = null;
    let latest = 0;

    async function refresh() {
      const mine = ++latest;
      let result;
      try {
        const response = await fetch(url, {
          method: "POST",
          // URL-encoded, not multipart: a big process has more inputs than Flask's
          // MAX_FORM_PARTS allows a multipart body.
          body: new URLSearchParams(new FormData(form)),
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        result = await response.json();
      } catch (error) {
        if (mine === latest) {
          setStatus(
            t("diagramOffline", "The live diagram is not available right now ({error}).", {
              error: error.message,
            }),
          );
        }
        return;
      }
      if (mine !== latest) return; // an answer to an older edit
      showProblems(result.problems || []);
      await draw(result.mermaid || "");
    }

    const schedule = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY_MS);
    };
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  function effectArguments(form) {
    let byType = {};
    try {
      byType = JSON.parse(form.getAttribute("data-effect-args") || "{}");
    } catch (_error) {
      return;
    }
    const update = (select) => {
      const effect = select.closest("[data-effect]");
      const shown = byType[select.value]; // unknown type: show every argument
      for (const arg of effect.querySelectorAll(".effect-arg")) {
        arg.hidden = Array.isArray(shown) && !shown.includes(arg.getAttribute("data-arg"));
      }
    };
    for (const select of form.querySelectorAll("select[data-effect-type]")) {
      update(select);
      select.addEventListener("change", () => update(select));
    }
  }

  // app.js asks before forms with data-confirm; these are single buttons of a bigger form.
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (window.mermaid) {
      window.mermaid.initialize({
        startOnLoad: false,
        securityLevel: "strict",
        suppressErrorRendering: true,
        theme: "default",
      });
    }
    const source = document.getElementById("diagram-source");
    if (source && source.textContent.trim()) draw(source.textContent);
    for (const form of document.querySelectorAll("form[data-diagram-url]")) {
      liveDiagram(form);
      effectArguments(form);
    }
  });
})();
