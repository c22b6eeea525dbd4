// Forms posted through htmx. Kept in a file rather than in hx-on attributes, which the
// Content-Security-Policy would refuse to run.
//
// After a success: empty the form (data-reset-on-success), fold away the <details> around
// it (data-close-on-success) and clear its feedback.
//
// After a failure, which htmx does not swap in: say why in the form's own live region
// (.form-feedback, role="alert"), and keep the form as it is, text and all. A 400 carries
// its message in a role="alert" element; other answers (403, 404, 413, 429, 5xx, no
// connection) get the translated words that includes/htmx_form_messages.html renders in
// #htmx-form-messages. An error page is never put into the thread.
(function () {
  "use strict";

  function formOf(event) {
    var elt = (event.detail && event.detail.elt) || event.target;
    if (!(elt instanceof Element)) return null;
    return elt instanceof HTMLFormElement ? elt : elt.closest("form");
  }

  function feedbackOf(form) {
    return form ? form.querySelector(".form-feedback") : null;
  }

  function say(form, text) {
    var box = feedbackOf(form);
    if (box) box.textContent = text;
  }

  function words(name) {
    var holder = document.getElementById("htmx-form-messages");
    return (holder && holder.getAttribute("data-" + name)) || "";
  }

  function language() {
    return document.documentElement.lang || "en";
  }

  // Retry-After is whole seconds or an HTTP date; null when absent or unreadable.
  function retryAfterSeconds(xhr) {
    var value = xhr.getResponseHeader("Retry-After");
    if (!value) return null;
    if (/^\s*\d+\s*$/.test(value)) return Math.max(1, parseInt(value, 10));
    var when = Date.parse(value);
    return isNaN(when) ? null : Math.max(1, Math.ceil((when - Date.now()) / 1000));
  }

  function throttled(xhr) {
    var seconds = retryAfterSeconds(xhr);
    if (seconds === null) return words("throttled");
    var category = "other";
    var number = String(seconds);
    try {
      category = new Intl.PluralRules(language()).select(seconds);
      number = new Intl.NumberFormat(language()).format(seconds);
    } catch (error) {
      // An unknown language tag: the "other" form and plain digits still read right.
    }
    var text = words("throttled-" + category) || words("throttled-other");
    return text.replace("{seconds}", number);
  }

  // The text of the answer's role="alert" element, if it has one (the views' 400s do).
  function serverMessage(xhr) {
    var body = xhr.responseText || "";
    if (!body) return "";
    // DOMParser builds an inert document: nothing in it runs or loads.
    var doc = new DOMParser().parseFromString(body, "text/html");
    var alert = doc.querySelector("[role=alert]");
    return alert ? alert.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function messageFor(xhr) {
    var status = xhr.status;
    if (status === 400 || status === 422) return serverMessage(xhr) || words("refused");
    if (status === 401 || status === 403) return words("forbidden");
    if (status === 404 || status === 410) return words("not-found");
    if (status === 413) return words("too-large");
    if (status === 429) return throttled(xhr);
    if (status === 0) return words("offline");
    if (status >= 500) return words("server-error");
    return words("refused");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    // Emptied first, so that the same message said again is announced again.
    say(formOf(event), "");
  });

  document.addEventListener("htmx:responseError", function (event) {
    say(formOf(event), messageFor(event.detail.xhr));
  });

  document.addEventListener("htmx:sendError", function (event) {
    say(formOf(event), words("offline"));
  });

  document.addEventListener("htmx:timeout", function (event) {
    say(formOf(event), words("offline"));
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !event.detail.successful) return;
    say(form, "");
    if (form.hasAttribute("data-reset-on-success")) form.reset();
    if (form.hasAttribute("data-close-on-success")) {
      var details = form.closest("details");
      if (details) details.open = false;
    }
  });
})();
