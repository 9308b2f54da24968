// Behaviour shared by every page. It lives here, not in the templates, so the Content-Security-Policy can
// forbid inline script and inline event handlers (script-src 'self').
(function () {
  "use strict";
  // <form data-confirm="…">: ask before submitting (capture phase, so htmx never sees a cancelled submit).
  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);
  document.addEventListener("click", function (e) {
    if (!(e.target instanceof Element)) return;
    // <button data-print>: print the page.
    if (e.target.closest("[data-print]")) window.print();
    // <button data-dismiss-closest="#id">: hide the closest matching ancestor.
    const dismiss = e.target.closest("[data-dismiss-closest]");
    if (dismiss) {
      const target = dismiss.closest(dismiss.getAttribute("data-dismiss-closest"));
      if (target) target.hidden = true;
    }
  });
})();
