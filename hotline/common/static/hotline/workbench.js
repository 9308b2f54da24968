// Behaviour of the staff workbench, without inline scripts (Content-Security-Policy friendly).
//  - Multi-unit pickers keep a visible list of chosen units across searches (the list carries the form values).
//  - The docked reminder opens when something new arrives and stays closed once closed (per browser).
(function () {
  "use strict";

  var CLOSED_KEY = "hotline.notices.closed";

  function addChosen(list, value, label) {
    if (!value) return;
    var exists = Array.prototype.some.call(list.querySelectorAll("input[type=hidden]"), function (input) {
      return input.value === value;
    });
    if (exists) return;
    var chip = document.createElement("span");
    chip.className = "badge text-bg-primary chosen-unit";
    chip.dataset.value = value;
    chip.dataset.testid = "chosen-unit";
    chip.setAttribute("data-testid", "chosen-unit");
    chip.appendChild(document.createTextNode(label.trim() + " "));
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn-close btn-close-white btn-sm ms-1";
    remove.setAttribute("aria-label", (list.dataset.removeLabel || "×") + " " + label.trim());
    remove.dataset.chosenRemove = "1";
    chip.appendChild(remove);
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = list.dataset.name;
    input.value = value;
    chip.appendChild(input);
    list.appendChild(chip);
    refreshEmpty(list);
  }

  function refreshEmpty(list) {
    var empty = list.querySelector(".chosen-empty");
    if (empty) empty.hidden = list.querySelector(".chosen-unit") !== null;
  }

  function initPicker(select) {
    if (select.dataset.chosenReady) return;
    var list = document.getElementById(select.dataset.chosenList);
    if (!list) return;
    select.dataset.chosenReady = "1";
    list.dataset.name = select.name;
    select.removeAttribute("name"); // the chosen list submits the values, not the (re-searched) options
    Array.prototype.forEach.call(select.selectedOptions, function (option) {
      addChosen(list, option.value, option.textContent);
      option.selected = false;
    });
    select.addEventListener("change", function () {
      Array.prototype.slice.call(select.selectedOptions).forEach(function (option) {
        addChosen(list, option.value, option.textContent);
        option.selected = false;
      });
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-chosen-remove]");
      if (!button) return;
      button.closest(".chosen-unit").remove();
      refreshEmpty(list);
    });
  }

  function syncNotices(root) {
    var dock = root.querySelector("details[data-notice-key]");
    if (!dock) return;
    var key = dock.dataset.noticeKey;
    var closed = null;
    try { closed = window.localStorage.getItem(CLOSED_KEY); } catch (e) { /* storage disabled */ }
    dock.open = closed !== key;
    dock.addEventListener("toggle", function () {
      try {
        if (dock.open) window.localStorage.removeItem(CLOSED_KEY);
        else window.localStorage.setItem(CLOSED_KEY, key);
      } catch (e) { /* storage disabled */ }
    });
    var close = dock.querySelector("[data-notice-close]");
    if (close) close.addEventListener("click", function () { dock.open = false; });
  }

  function init(root) {
    root.querySelectorAll("select[data-chosen-list]").forEach(initPicker);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var target = event.detail.target;
      if (target.id === "notice-area") syncNotices(target);
      init(target.parentElement || target);
    });
  });
})();
