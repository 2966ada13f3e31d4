// The template editor's live preview. The server renders the text being edited in the same
// sandbox that sends it (against a real ticket or a sample one); the result is shown as text,
// never as HTML. Loaded only on the template editor; no inline scripts (CSP).
(() => {
  "use strict";

  const DELAY_MS = 400;
  const t = (key, fallback, values) => window.tempodesk.t(key, fallback, values); // app.js

  function setup(form) {
    const url = form.getAttribute("data-preview-url");
    const smsMax = Number(form.getAttribute("data-sms-max") || "0");
    const meta = document.querySelector('meta[name="csrf-token"]');
    const token = meta ? meta.getAttribute("content") : "";
    const channel = form.querySelector('[name="channel"]');
    const ticket = form.querySelector("[data-preview-ticket]");
    const panes = Array.from(form.querySelectorAll("fieldset[data-language]"));
    const latest = new Map(); // language -> number of its newest request
    const timers = new Map();

    function isEmail() {
      return !channel || channel.value === "email";
    }

    function showChannel() {
      for (const element of form.querySelectorAll("[data-email-only]")) {
        element.hidden = !isEmail();
      }
    }

    function out(pane, name) {
      return pane.querySelector(`[data-preview="${name}"]`);
    }

    function show(pane, result) {
      out(pane, "subject").textContent = result.subject || "";
      out(pane, "body").textContent = result.body || "";
      out(pane, "error").textContent = result.error ? whereLabel(result.part) + result.error : "";
      let status = result.status || "";
      if (!result.error && !status && !isEmail() && smsMax) {
        status = t("previewChars", "{n} of {max} characters", {
          n: (result.body || "").length,
          max: smsMax,
        });
      }
      out(pane, "status").textContent = status;
    }

    function whereLabel(part) {
      if (part === "subject") return `${t("previewSubject", "Subject:")} `;
      if (part === "body") return `${t("previewText", "Text:")} `;
      return "";
    }

    async function refresh(pane) {
      const language = pane.getAttribute("data-language");
      const subject = pane.querySelector('[data-source="subject"]');
      const body = pane.querySelector('[data-source="body"]');
      const request = (latest.get(language) || 0) + 1;
      latest.set(language, request);
      if (!body.value.trim() && !(isEmail() && subject.value.trim())) {
        show(pane, { status: t("previewEmpty", "Nothing to preview in this language.") });
        return;
      }
      out(pane, "status").textContent = t("previewRendering", "Rendering…");
      let result;
      try {
        const response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-CSRFToken": token,
          },
          body: JSON.stringify({
            channel: channel ? channel.value : "email",
            language,
            subject: subject.value,
            body: body.value,
            ticket: ticket ? ticket.value.trim() : "",
          }),
        });
        const type = response.headers.get("Content-Type") || "";
        result = type.includes("application/json")
          ? await response.json()
          : {
              error: t("previewHttp", "The preview failed (HTTP {status}). Reload the page.", {
                status: response.status,
              }),
            };
      } catch (_error) {
        result = { error: t("previewUnavailable", "The preview is not available right now.") };
      }
      if (latest.get(language) === request) {
        show(pane, result); // an older answer never overwrites a newer one
      }
    }

    function schedule(pane) {
      const language = pane.getAttribute("data-language");
      clearTimeout(timers.get(language));
      timers.set(
        language,
        setTimeout(() => refresh(pane), DELAY_MS),
      );
    }

    for (const pane of panes) {
      for (const source of pane.querySelectorAll("[data-source]")) {
        source.addEventListener("input", () => schedule(pane));
      }
    }
    const everything = () => {
      showChannel();
      for (const pane of panes) schedule(pane);
    };
    if (channel) channel.addEventListener("change", everything);
    if (ticket) ticket.addEventListener("input", () => panes.forEach(schedule));
    everything();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-preview-url]")) {
      setup(form);
    }
  });
})();
