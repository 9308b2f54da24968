// The screen-pop page: 受理登记 carries the number being looked up to the intake form (/cases/new/?citizen_phone=).
(function () {
  "use strict";
  const phone = document.getElementById("pop-phone");
  const link = document.getElementById("pop-intake");
  if (!phone || !link) return;
  function update() {
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("citizen_phone", phone.value.trim());
    link.href = url.pathname + url.search;
  }
  phone.addEventListener("input", update);
  update();
})();
