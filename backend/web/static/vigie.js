// Behaviour the pages need, from this file only: the Content-Security-Policy forbids inline scripts.
"use strict";

// A form with data-confirm="question" asks before it is sent (revoking a tablet, for instance).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
