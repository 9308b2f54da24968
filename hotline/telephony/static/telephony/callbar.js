// The workbench call bar: keeps one EventSource on the signed-in agent's channel and re-renders the bar
// (server-side, through htmx) whenever the agent's state changes or a call rings. No inline script (CSP).
(function () {
  "use strict";
  var source = null;
  var sourceUrl = "";

  function refresh() {
    var bar = document.getElementById("callbar");
    if (bar && window.htmx && bar.dataset.barUrl) {
      window.htmx.ajax("GET", bar.dataset.barUrl, { target: "#callbar", swap: "outerHTML" });
    }
  }

  function connect() {
    var bar = document.getElementById("callbar");
    var url = bar ? bar.dataset.eventsUrl || "" : "";
    if (url === sourceUrl) {
      return;
    }
    if (source) {
      source.close();
      source = null;
    }
    sourceUrl = url;
    if (!url) {
      return;
    }
    source = new EventSource(url);
    source.addEventListener("message", function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "ringing" || message.type === "agent_state" ||
          message.type === "supervisor_message" || message.type === "help_handled") {
        refresh();
      }
    });
  }

  document.addEventListener("htmx:afterSettle", connect);
  // A refused action (4xx) re-renders the bar with its error instead of being dropped by htmx.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (event.detail.target && event.detail.target.id === "callbar" && status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
