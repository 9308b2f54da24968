// The intake form (受理登记 and 修改工单): extended fields by bureau and case type, the content counter, filling the
// caller from the screen pop, the searchable area select, and the keyboard rules (Enter never submits; Ctrl+Enter
// submits to the office). Loaded as a static file: the pages carry no inline script.
(function () {
  "use strict";
  const form = document.getElementById("intake-form");
  if (!form) return;

  // Extended fields apply to one bureau and/or case type: only those that apply are shown and sent.
  const bureau = document.getElementById("id_bureau");
  const type = document.getElementById("id_case_type");
  function refreshExtended() {
    document.querySelectorAll(".extended-field").forEach(function (el) {
      const show = (!el.dataset.bureau || (bureau && el.dataset.bureau === bureau.value)) &&
                   (!el.dataset.caseType || (type && el.dataset.caseType === type.value));
      el.hidden = !show;
      el.querySelectorAll("input,select").forEach(function (i) { i.disabled = !show; });
    });
  }
  if (bureau) bureau.addEventListener("change", refreshExtended);
  if (type) type.addEventListener("change", refreshExtended);
  refreshExtended();

  // Characters typed so far (phone intake asks for at least 50).
  const content = document.getElementById("id_content");
  const counter = document.getElementById("content-count");
  function count() {
    if (content && counter) {
      counter.textContent = (counter.dataset.before || "") + content.value.trim().length + (counter.dataset.after || "");
    }
  }
  if (content) content.addEventListener("input", count);
  count();

  // "填入来电人信息" in the screen pop copies the profile into the empty caller fields.
  document.addEventListener("click", function (e) {
    const b = e.target.closest("[data-fill-citizen]");
    if (!b) return;
    const map = {name: "id_citizen_name", gender: "id_citizen_gender", email: "id_citizen_email",
                 address: "id_citizen_address", workUnit: "id_citizen_work_unit"};
    Object.keys(map).forEach(function (k) {
      const el = document.getElementById(map[k]);
      if (el && !el.value && b.dataset[k]) el.value = b.dataset[k];
    });
  });

  // 事发地所属区域: type a name or pinyin initials to narrow the 140 options; the first match is chosen while the
  // choice is empty or filtered out. Left empty, a warning says the dispatcher will get no default unit.
  const area = document.getElementById("id_location_unit");
  const areaSearch = document.getElementById("location-unit-search");
  const areaWarning = document.getElementById("location-unit-warning");
  function refreshAreaWarning() {
    if (area && areaWarning) areaWarning.hidden = area.value !== "";
  }
  function filterArea() {
    const q = areaSearch.value.trim().toLowerCase();
    let first = null;
    Array.prototype.forEach.call(area.options, function (option) {
      if (!option.value) return;
      const name = option.textContent.trim().toLowerCase();
      const match = !q || name.indexOf(q) !== -1 || (option.dataset.pinyin || "").indexOf(q) === 0;
      option.hidden = !match;
      if (match && first === null) first = option;
    });
    const current = area.options[area.selectedIndex];
    if (q && first && (!current || !current.value || current.hidden)) {
      area.value = first.value;
      area.dispatchEvent(new Event("change", {bubbles: true}));
    }
    refreshAreaWarning();
  }
  if (area && areaSearch) areaSearch.addEventListener("input", filterArea);
  if (area) area.addEventListener("change", refreshAreaWarning);
  refreshAreaWarning();

  // Enter in a field must not send the case half-filled: only Ctrl+Enter or a button submits.
  form.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.isComposing) return;
    const t = e.target;
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      const submit = form.querySelector('button[name="action"][value="submit"]');
      if (submit) submit.click();
      return;
    }
    if (t.tagName === "INPUT" && t.type !== "submit" && t.type !== "button" && t.type !== "reset") {
      e.preventDefault();
    }
  });
})();
