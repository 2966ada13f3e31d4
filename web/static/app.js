// Tempodesk's only script: confirmation questions for actions that ask for one.
// (No inline scripts anywhere: the Content-Security-Policy forbids them.)
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
