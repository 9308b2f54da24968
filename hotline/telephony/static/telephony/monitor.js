// The supervisors' live board: one EventSource on the board channel; any change re-reads the board (server-side,
// through htmx), at most once per 300 ms however many changes arrive. No inline script (CSP).
(function () {
  "use strict";
  var pending = null;

  function refresh() {
    pending = null;
    var board = document.getElementById("monitor-board");
    if (board && window.htmx) {
      window.htmx.ajax("GET", board.dataset.boardUrl, { target: "#monitor-board", swap: "innerHTML" });
    }
  }

  function start() {
    var board = document.getElementById("monitor-board");
    if (!board || !board.dataset.eventsUrl) {
      return;
    }
    var source = new EventSource(board.dataset.eventsUrl);
    source.addEventListener("message", function () {
      if (pending === null) {
        pending = window.setTimeout(refresh, 300);
      }
    });
    // After a reconnect, whatever changed meanwhile is read once.
    source.addEventListener("open", function () {
      if (pending === null) {
        pending = window.setTimeout(refresh, 300);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
