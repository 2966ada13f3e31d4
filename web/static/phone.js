// Telephony in the desk: the screen pop of an incoming call (every page of an agent with an
// extension) and a ticket's calls, live while one rings. Both poll small JSON endpoints;
// the HTML they carry is rendered (and escaped) by the server.
(() => {
  "use strict";

  function poll(element, apply) {
    const tick = () => {
      fetch(element.dataset.url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => setTimeout(tick, data ? apply(data) : 15000))
        .catch(() => setTimeout(tick, 15000));
    };
    tick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const pop = document.getElementById("phone-pop");
    if (pop) {
      let shown = "";
      poll(pop, (data) => {
        const key = data.ids.join(",");
        if (key !== shown) {
          // Replaced only when the calls change: a click on its buttons is never lost.
          pop.innerHTML = data.html;
          pop.hidden = data.count === 0;
          shown = key;
        }
        return 2000;
      });
    }
    const calls = document.getElementById("phone-calls");
    if (calls) {
      const records = calls.querySelector("[data-records]");
      const prompt = calls.querySelector("[data-outcome-prompt]");
      let html = records.innerHTML;
      poll(calls, (data) => {
        if (data.html !== html) {
          records.innerHTML = data.html;
          html = data.html;
        }
        prompt.hidden = !data.needs_outcome;
        return data.live ? 1000 : 5000;
      });
    }
  });
})();
