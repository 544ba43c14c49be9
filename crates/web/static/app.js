// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("submit", (event) => {
  // Forms that change something irreversible ask first (data-confirm="question").
  const form = event.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("click", (event) => {
  // Copy buttons (data-copy="element id") put a shown-once secret on the clipboard.
  const button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.getAttribute("data-copy"));
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent.trim()).then(() => {
      button.textContent = "Copied";
    });
  }
});
document.addEventListener("change", (event) => {
  // Filter selects marked data-autosubmit refresh their form at once.
  const el = event.target;
  if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.requestSubmit();
  }
});
