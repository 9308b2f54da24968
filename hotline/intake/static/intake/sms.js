// SMS screen: a common phrase picked from the list is inserted into the message at the cursor.
(function () {
  "use strict";
  const pick = document.querySelector("[data-sms-phrase]");
  const text = document.querySelector("[data-sms-text]");
  if (!pick || !text) return;
  pick.addEventListener("change", function () {
    if (!pick.value) return;
    const start = text.selectionStart ?? text.value.length;
    const end = text.selectionEnd ?? text.value.length;
    text.value = text.value.slice(0, start) + pick.value + text.value.slice(end);
    text.focus();
    pick.value = "";
  });
})();
