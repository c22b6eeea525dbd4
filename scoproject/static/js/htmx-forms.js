// After a form posted through htmx succeeds: empty it (data-reset-on-success) and fold
// away the <details> around it (data-close-on-success). Kept in a file rather than in
// hx-on attributes, which the Content-Security-Policy would refuse to run.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !event.detail.successful) return;
    if (form.hasAttribute("data-reset-on-success")) form.reset();
    if (form.hasAttribute("data-close-on-success")) {
      var details = form.closest("details");
      if (details) details.open = false;
    }
  });
})();
