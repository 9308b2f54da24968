// The workbench call bar: keeps one EventSource on the signed-in agent's channel and re-renders the bar
// (server-side, through htmx) whenever the agent's state changes or a call rings. No inline script (CSP).
//
// Pushes, button posts and re-reads overlap on a busy server, so two rules keep the newest state on screen:
// - one re-read at a time, and a push that arrives meanwhile asks for one more read afterwards (htmx's own queue
//   would keep the bar element of when it was asked for; a bar swapped in between then takes the answer unseen);
// - a re-read whose bar was replaced on its way (by a button's answer) is lost, so it asks for a fresh read. A
//   button's answer rendered before a push was read cannot replace that read's bar: its own target is gone.
// A re-read replaces the whole bar, so what the agent is typing into it (a transfer target, a help request, the
// sign-in password) is carried over: every field of the old bar the agent changed or is in is copied into the
// field of the same id in the new bar, with the focus and the caret. A button's answer (a POST) is not: it is the
// result of what was typed.
// A re-read that fails (a 5xx, or no answer) is tried again a little later, a few times: otherwise the bar would
// show the old state until the next push, which may never come (a ringing call).
(function () {
  "use strict";
  var source = null;
  var sourceUrl = "";
  var reading = false;
  var readAgain = false;
  var typed = null;
  var failedReads = 0;
  var MAX_RETRIES = 5;

  function changed(field) {
    if (field.tagName === "SELECT") {
      var option = field.options[field.selectedIndex];
      return !!option && !option.defaultSelected;
    }
    return field.value !== field.defaultValue;
  }

  function keepTyped(bar) {
    var kept = [];
    var fields = bar.querySelectorAll("input[id], select[id], textarea[id]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "hidden" || field.type === "submit" || field.type === "button") {
        continue;
      }
      var focused = field === document.activeElement;
      if (!focused && !changed(field)) {
        continue;
      }
      var item = { id: field.id, value: field.value, focused: focused, start: null, end: null };
      try {
        item.start = field.selectionStart;
        item.end = field.selectionEnd;
      } catch (e) {
        // fields without a caret (select, number)
      }
      kept.push(item);
    }
    return kept;
  }

  function restoreTyped() {
    var kept = typed;
    var bar = document.getElementById("callbar");
    if (!kept || !bar) {
      return;
    }
    typed = null;
    for (var i = 0; i < kept.length; i++) {
      var item = kept[i];
      var field = document.getElementById(item.id);
      if (!field || !bar.contains(field)) {
        continue;
      }
      field.value = item.value;
      if (item.focused) {
        field.focus();
        if (item.start !== null) {
          try {
            field.setSelectionRange(item.start, item.end);
          } catch (e) {
            // fields without a caret
          }
        }
      }
    }
  }

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

  function retryLater() {
    if (failedReads >= MAX_RETRIES) {
      return;
    }
    failedReads += 1;
    window.setTimeout(refresh, 400 * failedReads);
  }

  function isBarRead(detail) {
    var target = detail.target;
    var config = detail.requestConfig;
    return !!target && target.id === "callbar" && !!config && String(config.verb).toLowerCase() === "get";
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

  document.addEventListener("htmx:sendError", function (event) {
    if (isBarRead(event.detail)) {
      retryLater();
    }
  });
  document.addEventListener("htmx:afterSwap", restoreTyped);
  document.addEventListener("htmx:afterSettle", function () {
    restoreTyped();
    connect();
  });
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
    var reread = isBarRead(event.detail);
    if (reread && status >= 500) {
      retryLater();
    } else if (reread && status < 400) {
      failedReads = 0;
    }
    typed = reread && event.detail.shouldSwap && document.body.contains(target) ? keepTyped(target) : null;
  });
})();
