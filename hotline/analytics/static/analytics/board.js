// Live boards (MON-1, MON-2): each section keeps one EventSource on its board's stream; every message is the
// section's whole snapshot (already scoped by the server), rendered here. Durations tick locally between
// messages. No inline script (CSP): the first snapshot comes in a json_script block.
(function () {
  "use strict";

  function cell(text, cls) {
    var td = document.createElement("td");
    if (cls) {
      td.className = cls;
    }
    td.textContent = text === null || text === undefined ? "—" : String(text);
    return td;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) {
      return "—";
    }
    var s = Math.max(0, Math.floor(seconds));
    var m = Math.floor(s / 60);
    return (m >= 60 ? Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0") : String(m)) + ":" + String(s % 60).padStart(2, "0");
  }

  function renderCases(section, data) {
    section.querySelectorAll("[data-field]").forEach(function (el) {
      var value = data[el.dataset.field];
      el.textContent = value === null || value === undefined ? "—" : String(value);
    });
    var body = section.querySelector('[data-rows="units"]');
    body.replaceChildren();
    data.units.forEach(function (u) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      var link = document.createElement("a");
      link.href = "?unit=" + encodeURIComponent(u.unit);
      link.textContent = u.name;
      name.appendChild(link);
      tr.append(name, cell(u.open, "text-end"), cell(u.due_today, "text-end"), cell(u.overdue, "text-end text-danger"));
      body.appendChild(tr);
    });
  }

  var received = Date.now();
  var agents = [];

  function renderAgents(section) {
    var body = section.querySelector('[data-rows="agents"]');
    var elapsed = (Date.now() - received) / 1000;
    body.replaceChildren();
    agents.forEach(function (a) {
      var tr = document.createElement("tr");
      tr.dataset.state = a.state;
      var caseCell = document.createElement("td");
      if (a.case) {
        var link = document.createElement("a");
        link.href = a.case.url;
        link.textContent = a.case.number;
        caseCell.appendChild(link);
      } else {
        caseCell.textContent = "—";
      }
      tr.append(
        cell(a.agent_id),
        cell(a.name),
        cell(a.state_label + (a.reason ? "（" + a.reason + "）" : "")),
        cell(a.seconds === null ? null : duration(a.seconds + elapsed), "text-end"),
        cell(a.call ? a.call.caller : null),
        caseCell
      );
      body.appendChild(tr);
    });
  }

  function renderCalls(section, data) {
    received = Date.now();
    agents = data.agents;
    var body = section.querySelector('[data-rows="queues"]');
    body.replaceChildren();
    data.queues.forEach(function (q) {
      var tr = document.createElement("tr");
      tr.append(cell(q.name), cell(q.waiting, "text-end"), cell(q.longest_wait, "text-end"));
      Object.keys(data.states).forEach(function (s) {
        tr.appendChild(cell(q.agents[s] || 0, "text-end"));
      });
      tr.append(cell(q.average_wait, "text-end"), cell(q.average_talk, "text-end"));
      body.appendChild(tr);
    });
    renderAgents(section);
  }

  function status(ok) {
    var badge = document.querySelector('[data-testid="board-live"]');
    if (badge) {
      badge.textContent = ok ? badge.dataset.liveLabel : badge.dataset.offLabel;
      badge.className = "badge " + (ok ? "text-bg-success" : "text-bg-warning");
    }
  }

  function start(section, dataId, render) {
    var initial = document.getElementById(dataId);
    if (initial) {
      render(section, JSON.parse(initial.textContent));
    }
    if (!section.dataset.stream) {
      return;
    }
    var source = new EventSource(section.dataset.stream);
    source.addEventListener("open", function () {
      status(true);
    });
    source.addEventListener("error", function () {
      status(false);
    });
    source.addEventListener("message", function (event) {
      render(section, JSON.parse(event.data));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var cases = document.querySelector('[data-board="cases"]');
    if (cases) {
      start(cases, "board-cases-data", renderCases);
    }
    var calls = document.querySelector('[data-board="calls"]');
    if (calls) {
      start(calls, "board-calls-data", renderCalls);
      window.setInterval(function () {
        renderAgents(calls);
      }, 1000);
    }
  });
})();
