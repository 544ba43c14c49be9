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
(() => {
  // A job page follows its job live; when it finishes, the page reloads to show the outcome.
  const box = document.getElementById("job");
  if (!box || box.getAttribute("data-finished") === "true") return;
  const url = box.getAttribute("data-job-url");
  const tick = () => {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.json())
      .then((job) => {
        document.getElementById("job-state").textContent = job.state;
        if (job.progress !== null) document.getElementById("job-progress").value = job.progress;
        document.getElementById("job-message").textContent = job.progress_message || "";
        if (["succeeded", "dead", "discarded"].includes(job.state)) {
          window.location.reload();
        } else {
          setTimeout(tick, 1000);
        }
      })
      .catch(() => setTimeout(tick, 3000));
  };
  setTimeout(tick, 1000);
})();

// ==== requirements ====
(() => {
  // "Select all" boxes (data-select-all="form id") tick every row box bound to that form.
  // They are hidden in the markup, so a page without this script shows no dead control.
  document.querySelectorAll("[data-select-all]").forEach((box) => {
    box.hidden = false;
    box.addEventListener("change", () => {
      const form = box.getAttribute("data-select-all");
      document
        .querySelectorAll('input[type="checkbox"][form="' + form + '"]')
        .forEach((row) => {
          row.checked = box.checked;
        });
    });
  });
})();
// ==== end of requirements ====
