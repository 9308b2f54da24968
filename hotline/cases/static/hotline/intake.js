// The intake screen: extended fields per bureau/type, the content counter, filling the caller from a match,
// Ctrl+Enter to submit. Loaded only by cases/intake.html.
(function () {
  "use strict";
  const form = document.getElementById("intake-form");
  if (!form) return;
  const bureau = document.getElementById("id_bureau"), type = document.getElementById("id_case_type");
  function refreshExtended() {
    document.querySelectorAll(".extended-field").forEach(function (el) {
      const show = (!el.dataset.bureau || el.dataset.bureau === bureau.value) &&
                   (!el.dataset.caseType || el.dataset.caseType === type.value);
      el.hidden = !show;
      el.querySelectorAll("input,select").forEach(function (i) { i.disabled = !show; });
    });
  }
  bureau.addEventListener("change", refreshExtended);
  type.addEventListener("change", refreshExtended);
  refreshExtended();
  const content = document.getElementById("id_content"), counter = document.getElementById("content-count");
  function count() {
    counter.textContent = counter.dataset.before + content.value.trim().length + counter.dataset.after;
  }
  content.addEventListener("input", count);
  count();
  document.addEventListener("click", function (e) {
    const b = e.target instanceof Element ? e.target.closest("[data-fill-citizen]") : null;
    if (!b) return;
    const map = {name: "id_citizen_name", gender: "id_citizen_gender", email: "id_citizen_email",
                 address: "id_citizen_address", workUnit: "id_citizen_work_unit"};
    Object.keys(map).forEach(function (k) {
      const el = document.getElementById(map[k]);
      if (el && !el.value && b.dataset[k]) el.value = b.dataset[k];
    });
  });
  form.addEventListener("keydown", function (e) {
    if (e.ctrlKey && e.key === "Enter") form.querySelector('button[value="submit"]').click();
  });
})();
