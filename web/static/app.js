// Tempodesk's shared script: the page's texts for the other scripts, and confirmation
// questions for actions that ask for one.
// (No inline scripts anywhere: the Content-Security-Policy forbids them.)
window.tempodesk = (() => {
  "use strict";

  // The plural rules of the UI's languages (the catalogs' Plural-Forms; English otherwise).
  const PLURAL = {
    cs: (n) => (n === 1 ? 0 : n >= 2 && n <= 4 ? 1 : 2),
  };

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.hasOwn(values, name) ? String(values[name]) : whole,
    );
  }

  // A text of the page's <template id="i18n"> (its data-* attribute ``key`` in camelCase),
  // else ``fallback``; {name} placeholders are filled from ``values``.
  function t(key, fallback, values = {}) {
    const source = document.getElementById("i18n");
    const text = (source && source.dataset[key]) || fallback;
    return fill(text, values);
  }

  // A plural text: the form for ``n`` by the page's language ({n} is filled in).
  function nt(key, one, many, n, values = {}) {
    const source = document.getElementById("i18n");
    const forms = source && source.dataset[key] ? source.dataset[key].split("|") : [one, many];
    const rule = PLURAL[document.documentElement.lang] || ((k) => (k === 1 ? 0 : 1));
    const form = forms[Math.min(rule(n), forms.length - 1)];
    return fill(form, { ...values, n });
  }

  return { t, nt };
})();

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", () => {
  // Open an action's form, then put the cursor in its first field.
  for (const details of document.querySelectorAll("details.action")) {
    details.addEventListener("toggle", () => {
      if (details.open) {
        const first = details.querySelector("textarea, input:not([type=hidden]), select");
        if (first) first.focus();
      }
    });
  }
});
