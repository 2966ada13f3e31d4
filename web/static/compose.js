// The composer of the ticket page (see web/compose/), and the contact look-up of
// "New ticket". Everything here has a plain-form fallback: without JavaScript the Insert
// button adds the text to the draft on the server, and the draft is saved on each submit.
// No inline scripts or styles: the Content-Security-Policy forbids them.
(() => {
  "use strict";

  const SAVE_AFTER_MS = 800;
  const t = (key, fallback, values) => window.tempodesk.t(key, fallback, values); // app.js
  const SKIPPED = new Set(["csrf_token", "expected_state", "request_id", "attachments"]);

  function csrfToken(form) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) return meta.getAttribute("content");
    const input = form && form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  // ------------------------------------------------------------------------- drafts

  function draftFields(form) {
    const fields = {};
    const data = new FormData(form);
    for (const name of new Set(data.keys())) {
      if (SKIPPED.has(name) || name.startsWith("compose_")) continue;
      const values = data.getAll(name).filter((v) => typeof v === "string");
      const element = form.elements.namedItem(name);
      const many = element && typeof element.length === "number" && !(element instanceof HTMLSelectElement);
      fields[name] = many ? values : values[values.length - 1] || "";
    }
    return fields;
  }

  function setupDrafts(form) {
    const url = form.getAttribute("data-draft-url");
    const status = form.querySelector("[data-draft-status]");
    const discard = form.querySelector("[data-discard]");
    let timer = null;
    let sending = false;
    let again = false;
    let submitted = false;

    function say(text) {
      if (status) status.textContent = text;
    }

    async function save(keepalive = false) {
      timer = null;
      if (submitted) return;
      if (sending) {
        again = true;
        return;
      }
      sending = true;
      try {
        const response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          keepalive,
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-CSRFToken": csrfToken(form),
          },
          body: JSON.stringify({ fields: draftFields(form) }),
        });
        if (!response.ok) throw new Error(String(response.status));
        const result = await response.json();
        if (!submitted) {
          say(result.saved ? t("draftSaved", "Draft saved.") : "");
          if (discard) discard.hidden = !result.saved;
        }
      } catch (error) {
        say(t("draftFailed", "The draft could not be saved."));
      } finally {
        sending = false;
        if (again && !submitted) {
          again = false;
          schedule();
        }
      }
    }

    function schedule() {
      if (submitted) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, SAVE_AFTER_MS);
    }

    form.addEventListener("input", (event) => {
      if (event.target && event.target.type === "file") return;
      schedule();
    });
    form.addEventListener("change", (event) => {
      const target = event.target || {};
      if (target.type === "file" || (target.name || "").startsWith("compose_")) return;
      schedule();
    });
    // Leaving the page within the pause after typing: save what was typed last.
    window.addEventListener("pagehide", () => {
      if (timer) {
        clearTimeout(timer);
        save(true);
      }
    });
    form.addEventListener("submit", (event) => {
      const button = event.submitter;
      if (button && button.hasAttribute("data-insert-button")) return; // handled below
      if (button && button.hasAttribute("data-discard")) {
        event.stopPropagation(); // not the action: no confirmation question (app.js)
      }
      // Sending (or discarding): no late save may bring the draft back. A confirmation
      // question (app.js, which runs after this) may still cancel the submit.
      if (timer) clearTimeout(timer);
      timer = null;
      submitted = true;
      setTimeout(() => {
        if (event.defaultPrevented) submitted = false;
      }, 0);
    });
  }

  // ---------------------------------------------------------------- canned answers

  function insertAtCursor(textarea, text) {
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? start;
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(end);
    textarea.value = before + text + after;
    const cursor = start + text.length;
    textarea.focus();
    textarea.setSelectionRange(cursor, cursor);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async function insert(button) {
    const target = button.getAttribute("data-insert-button");
    const form = button.form;
    const select = form.querySelector(`select[data-insert-for="${CSS.escape(target)}"]`);
    const textarea = document.getElementById(target);
    const error = form.querySelector(`[data-insert-error="${CSS.escape(target)}"]`);
    const show = (message) => {
      if (!error) return;
      error.textContent = message;
      error.hidden = !message;
    };
    const option = select && select.selectedOptions[0];
    if (!option || !option.value || !textarea) {
      show(t("insertChoose", "Choose a canned answer or a template first."));
      return;
    }
    show("");
    button.disabled = true;
    try {
      const response = await fetch(option.getAttribute("data-url"), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const result = await response.json().catch(() => ({}));
      if (!response.ok) {
        show(
          (result.error && result.error.message) ||
            t("insertFailed", "The text could not be inserted."),
        );
        return;
      }
      insertAtCursor(textarea, result.text || "");
      select.value = "";
      linkArticle(option, form);
    } catch (failure) {
      show(t("insertOffline", "The text could not be inserted (no connection?)."));
    } finally {
      button.disabled = false;
    }
  }

  // A knowledge-base article inserted into a reply is linked to the ticket (web/kb/tickets.py).
  function linkArticle(option, form) {
    const url = option.getAttribute("data-link-url");
    if (!url) return;
    const body = new URLSearchParams({ article_id: option.getAttribute("data-article") || "" });
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
      body,
    }).catch(() => {}); // the link is a convenience: the inserted text is what matters
  }

  // The filter above the insert menu: shows the texts whose title has what is typed.
  function setupFilter(input) {
    const select = document.querySelector(
      `select[data-insert-for="${CSS.escape(input.getAttribute("data-insert-filter"))}"]`,
    );
    if (!select) return;
    input.hidden = false;
    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      let first = null;
      for (const option of select.options) {
        if (!option.value) continue;
        const text = option.textContent.toLowerCase();
        const shown = words.every((w) => text.includes(w));
        option.hidden = !shown;
        option.disabled = !shown;
        if (shown && !first) first = option;
      }
      if (words.length && first) select.value = first.value;
    });
  }

  // ------------------------------------------------------------ new ticket: look-up

  function setupLookup(box) {
    const form = box.closest("form");
    const email = form.querySelector('[name="email"]');
    const phone = form.querySelector('[name="phone"]');
    const url = box.getAttribute("data-lookup-url");
    let latest = 0;

    async function lookUp() {
      const query = new URLSearchParams({ email: email.value.trim(), phone: phone.value.trim() });
      if (!email.value.trim() && !phone.value.trim()) {
        box.textContent = "";
        return;
      }
      const mine = ++latest;
      try {
        const response = await fetch(`${url}?${query}`, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        const result = await response.json();
        if (mine !== latest) return;
        box.textContent = "";
        if (result.found) {
          box.append(`${t("lookupFound", "Existing contact:")} `);
          const link = document.createElement("a");
          link.href = result.url;
          link.textContent = result.name || result.email || result.phone;
          box.append(link);
          const details = [result.email, result.phone].filter(Boolean).join(", ");
          if (details) box.append(` (${details})`);
        } else {
          box.append(
            t("lookupNone", "No contact has this email or phone: a new contact will be created."),
          );
        }
      } catch (failure) {
        // The look-up button still works without it.
      }
    }

    for (const input of [email, phone]) {
      if (input) input.addEventListener("change", lookUp);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-draft-url]")) {
      setupDrafts(form);
    }
    document.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("[data-insert-button]");
      if (!button) return;
      event.preventDefault();
      insert(button);
    });
    for (const box of document.querySelectorAll("[data-lookup-url]")) {
      setupLookup(box);
    }
    for (const input of document.querySelectorAll("[data-insert-filter]")) {
      setupFilter(input);
    }
  });
})();
