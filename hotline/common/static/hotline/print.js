// Printed documents: the toolbar's button prints; ?autoprint=1 opens the print dialog once the page is shown.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print-now]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    if (new URLSearchParams(window.location.search).get("autoprint") === "1") {
      window.print();
    }
  });
})();
