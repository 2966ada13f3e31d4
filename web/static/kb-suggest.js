// Suggestions of help-centre articles while a customer types (web/kb/help_centre.py,
// GET /help/suggest?q=): attaches to every input or textarea with data-kb-suggest (its value
// is the endpoint) and lists matching articles below it. Texts come from the page's
// data attributes; links are built with DOM calls, never HTML strings.
(() => {
  "use strict";

  const WAIT_MS = 400;

  function setup(field) {
    const url = field.getAttribute("data-kb-suggest") || "/help/suggest";
    const box = document.createElement("div");
    box.className = "kb-suggest";
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    box.hidden = true;
    field.insertAdjacentElement("afterend", box);
    let timer = null;
    let latest = 0;

    async function ask() {
      const text = field.value.trim();
      if (text.length < 3) {
        box.hidden = true;
        return;
      }
      const mine = ++latest;
      try {
        const response = await fetch(`${url}?${new URLSearchParams({ q: text.slice(-200) })}`, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok || mine !== latest) return;
        const result = await response.json();
        show(result.articles || []);
      } catch (failure) {
        // no suggestions: the form works without them
      }
    }

    function show(articles) {
      box.replaceChildren();
      if (!articles.length) {
        box.hidden = true;
        return;
      }
      const title = document.createElement("p");
      title.className = "kb-suggest-title";
      title.textContent = field.getAttribute("data-kb-suggest-title") || "These articles may help:";
      const list = document.createElement("ul");
      for (const article of articles) {
        if (typeof article.url !== "string" || !article.url.startsWith("/")) continue;
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = article.url;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = article.title;
        item.append(link);
        list.append(item);
      }
      box.append(title, list);
      box.hidden = false;
    }

    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT_MS);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const field of document.querySelectorAll("[data-kb-suggest]")) setup(field);
  });
})();
