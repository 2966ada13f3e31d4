// Tempodesk desk: keyboard shortcuts, list selection and the split view's preview pane,
// the bulk bar, drag and drop in the left panel, panel counts, and presence on a ticket.
// Every page works without it (plain links and forms); this only makes them quicker.
// No inline scripts anywhere: the Content-Security-Policy forbids them.
(() => {
  "use strict";

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const csrfToken = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const narrow = () => window.matchMedia("(max-width: 800px)").matches;
  const { t, nt } = window.tempodesk; // the page's texts (app.js)

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(body),
    }).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    });
  }

  function isTyping(element) {
    if (!element || element === document.body) return false;
    if (element.isContentEditable) return true;
    if (element.tagName === "TEXTAREA" || element.tagName === "SELECT") return true;
    if (element.tagName !== "INPUT") return false;
    return !["checkbox", "radio", "button", "submit", "reset"].includes(element.type);
  }

  // ---------------------------------------------------------------- list selection

  const rows = () => $$("[data-row]");
  let selected = null;
  let previewToken = 0;

  function selectRow(row, { focus = true } = {}) {
    if (!row) return;
    if (selected) {
      selected.classList.remove("selected");
      selected.removeAttribute("aria-current");
    }
    selected = row;
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    const link = $("a[data-open]", row);
    if (focus && link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    showPreview(row);
  }

  function moveSelection(step) {
    const all = rows();
    if (!all.length) return;
    const index = selected ? all.indexOf(selected) : -1;
    const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : index + step;
    selectRow(all[Math.min(Math.max(next, 0), all.length - 1)]);
  }

  function openSelected() {
    const row = selected || (document.activeElement && document.activeElement.closest("[data-row]"));
    const link = row && $("a[data-open]", row);
    if (link) window.location.assign(link.href);
    return Boolean(link);
  }

  function showPreview(row) {
    const pane = $("#preview");
    if (!pane || narrow() || !row.dataset.preview) return;
    const token = ++previewToken;
    pane.setAttribute("aria-busy", "true");
    fetch(row.dataset.preview, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      })
      .then((html) => {
        if (token !== previewToken) return; // a later selection won
        pane.innerHTML = html; // our own server-rendered, escaped partial
      })
      .catch(() => {
        if (token !== previewToken) return;
        pane.textContent = t(
          "previewFailed",
          "The preview could not be loaded. Open the ticket instead.",
        );
      })
      .finally(() => pane.removeAttribute("aria-busy"));
  }

  // In the split view a click previews; Ctrl/Cmd-click, phones and "o" still open.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("[data-row] a[data-open]");
    if (!link || !$("#preview") || narrow()) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    selectRow(link.closest("[data-row]"));
  });

  // ---------------------------------------------------------------- bulk bar

  function updateBulkCount() {
    const counter = $("#bulk-count");
    if (!counter) return;
    const ticked = $$('input[name="ticket"][form="bulk-form"]:checked').length;
    counter.textContent = ticked
      ? nt("bulkSelected", "{n} selected ticket:", "{n} selected tickets:", ticked)
      : t("bulkIdle", "Tick tickets (or press x) to act on several at once.");
    // Nothing ticked: the bar stays small (without JavaScript it is always complete).
    $("#bulk-form").classList.toggle("idle", ticked === 0);
    const all = $("[data-select-all]");
    if (all) {
      const boxes = $$('input[name="ticket"][form="bulk-form"]');
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-select-all]")) {
      for (const box of $$('input[name="ticket"][form="bulk-form"]')) box.checked = target.checked;
    }
    if (target.matches('input[name="ticket"], [data-select-all]')) updateBulkCount();
    if (target.matches("select[data-autosubmit]") && target.form) target.form.requestSubmit();
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id !== "bulk-form") return;
    const ticked = $$('input[name="ticket"][form="bulk-form"]:checked').length;
    const submitter = event.submitter;
    if (submitter && submitter.value === "perform") {
      const select = $("#bulk-action");
      const label = select && select.selectedOptions[0] ? select.selectedOptions[0].text : "";
      const question = nt("bulkConfirm", "{label}: on {n} ticket?", "{label}: on {n} tickets?",
        ticked, { label });
      if (select && select.value && !window.confirm(question)) {
        event.preventDefault();
      }
    }
  });

  // ---------------------------------------------------------------- left panel

  function setupPanel() {
    const list = $("[data-panel]");
    if (!list) return;
    const status = $("#panel-status");
    let dragged = null;

    list.addEventListener("dragstart", (event) => {
      dragged = event.target.closest && event.target.closest("li[data-key]");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.key);
    });
    list.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      const over = event.target.closest && event.target.closest("li[data-key]");
      if (!over || over === dragged) return;
      const box = over.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", (event) => {
      if (dragged) event.preventDefault();
    });
    list.addEventListener("dragend", () => {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      const views = $$("li[data-key]", list).map((item) => item.dataset.key);
      postJSON(list.dataset.orderUrl, { views })
        .then(() => {
          if (status) status.textContent = t("panelSaved", "The new order of the lists is saved.");
        })
        .catch(() => window.location.reload());
    });

    // The page shows the counts kept from the last seconds; without them it asks at once.
    // Counts go stale while the agent works: refresh them now and then.
    if (list.dataset.countsUrl) {
      const refresh = () =>
        fetch(list.dataset.countsUrl, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : {}))
          .then((counts) => {
            for (const [key, value] of Object.entries(counts)) {
              const cell = $(`[data-count-for="${CSS.escape(key)}"]`, list);
              if (cell) cell.textContent = value;
            }
            delete list.dataset.countsPending;
          })
          .catch(() => {});
      if ("countsPending" in list.dataset) refresh();
      window.setInterval(() => {
        if (!document.hidden) refresh();
      }, 60000);
    }
  }

  // ---------------------------------------------------------------- presence

  function setupPresence() {
    const region = $("#presence");
    if (!region || !region.dataset.url) return;
    let lastTyped = 0;

    function render(others) {
      region.replaceChildren(
        ...others.map((other) => {
          const span = document.createElement("span");
          span.className = `presence-${other.activity}`;
          span.textContent = other.text;
          return span;
        }),
      );
    }

    // The page itself wrote nothing (a GET never writes): the first ping tells the desk
    // that the agent has now read the ticket as far as this page shows it.
    let read = Number(region.dataset.seenSeq) || null;

    function ping() {
      const activity = Date.now() - lastTyped < 20000 ? "composing" : "viewing";
      const body = read === null ? { activity } : { activity, read };
      postJSON(region.dataset.url, body)
        .then((data) => {
          read = null;
          render(data.others || []);
        })
        .catch(() => {});
    }

    document.addEventListener("input", (event) => {
      const form = event.target.closest && event.target.closest("form");
      if (!form || !/\/actions\//.test(form.getAttribute("action") || "")) return;
      const quiet = Date.now() - lastTyped > 20000;
      lastTyped = Date.now();
      if (quiet) ping(); // tell the others at once that a reply is being written
    });
    window.setInterval(ping, 20000);
    ping();
  }

  // ---------------------------------------------------------------- keyboard

  function openActionForm(actionId) {
    const form = $$("form[action]").find((f) =>
      (f.getAttribute("action") || "").endsWith(`/actions/${actionId}`),
    );
    const details = form && form.closest("details");
    if (!details) return false;
    details.open = true;
    details.scrollIntoView({ block: "nearest" });
    const first = $("textarea, input:not([type=hidden]), select", form);
    if (first) first.focus();
    return true;
  }

  function showShortcuts() {
    const dialog = $("#shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const dialog = $("#shortcuts");
    if (dialog && dialog.open) return;
    let handled = true;
    switch (event.key) {
      case "j":
        moveSelection(1);
        break;
      case "k":
        moveSelection(-1);
        break;
      case "o":
        handled = openSelected();
        break;
      case "Enter": {
        // Enter on a button or an unrelated link keeps its own meaning.
        const target = event.target;
        const onRowLink = target.matches && target.matches("[data-row] a[data-open]");
        if (target !== document.body && !onRowLink) return;
        handled = openSelected();
        break;
      }
      case "x": {
        const box = selected && $('input[name="ticket"]', selected);
        if (box) {
          box.checked = !box.checked;
          updateBulkCount();
        } else handled = false;
        break;
      }
      case "/": {
        const search = $("#desk-search");
        if (search) search.focus();
        else handled = false;
        break;
      }
      case "r":
        handled = openActionForm("reply");
        break;
      case "c":
        handled = openActionForm("comment");
        break;
      case "u": {
        const back = $("[data-back-to-list]");
        if (back) window.location.assign(back.href);
        else handled = false;
        break;
      }
      case "?":
        showShortcuts();
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of $$("[data-open-shortcuts]")) {
      button.hidden = false;
      button.addEventListener("click", showShortcuts);
    }
    for (const label of $$(".select-all")) label.hidden = false;
    for (const button of $$(".js-hide")) button.hidden = true;
    setupPanel();
    setupPresence();
    updateBulkCount();
  });
})();
