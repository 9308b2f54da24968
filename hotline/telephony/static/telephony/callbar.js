// The workbench call bar: keeps one EventSource on the signed-in agent's channel and re-renders the bar
// (server-side, through htmx) whenever the agent's state changes or a call rings. No inline script (CSP).
//
// Pushes, button posts and re-reads overlap on a busy server, so two rules keep the newest state on screen:
// - one re-read at a time, and a push that arrives meanwhile asks for one more read afterwards (htmx's own queue
//   would keep the bar element of when it was asked for; a bar swapped in between then takes the answer unseen);
// - a re-read whose bar was replaced on its way (by a button's answer) is lost, so it asks for a fresh read. A
//   button's answer rendered before a push was read cannot replace that read's bar: its own target is gone.
(function () {
  "use strict";
  var source = null;
  var sourceUrl = "";
  var reading = false;
  var readAgain = false;

  function refresh() {
    var bar = document.getElementById("callbar");
    if (!bar || !window.htmx || !bar.dataset.barUrl) {
      return;
    }
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    readAgain = false;
    var done = function () {
      reading = false;
      if (readAgain) {
        refresh();
      }
    };
    window.htmx.ajax("GET", bar.dataset.barUrl, { target: "#callbar", swap: "outerHTML" }).then(done, done);
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
    // Reconnected: what was pushed while the stream was down is read now. Not on the first open: the bar was
    // just rendered, and re-rendering it would wipe what the agent is typing into it (the sign-in password).
    var opened = false;
    source.addEventListener("open", function () {
      if (opened) {
        refresh();
      }
      opened = true;
    });
    source.addEventListener("message", function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "ringing" || message.type === "agent_state" ||
          message.type === "supervisor_message" || message.type === "help_handled") {
        refresh();
      }
    });
  }

  document.addEventListener("htmx:afterSettle", connect);
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "callbar") {
      return;
    }
    // A refused action (4xx) re-renders the bar with its error instead of being dropped by htmx.
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    if (!document.body.contains(target)) {
      readAgain = true;
      if (!reading) {
        refresh();
      }
    }
  });
})();
