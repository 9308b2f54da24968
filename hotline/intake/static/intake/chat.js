// Online chat (citizen page and agent page): the transcript by GET, new lines over SSE, sending by POST.
// The box carries its URLs in data attributes; every text goes in through textContent (never as HTML).
(function () {
  "use strict";
  function start(box) {
    var list = box.querySelector("[data-chat-lines]");
    var form = box.querySelector("form[data-chat-send]");
    var state = box.querySelector("[data-chat-state]");
    var seen = {};
    var last = 0;
    var self = box.dataset.self;
    function add(line) {
      if (seen[line.id]) return;
      seen[line.id] = true;
      last = Math.max(last, line.id);
      var row = document.createElement("div");
      row.className = "chat-line chat-" + line.author + (line.author === self ? " chat-self" : "");
      row.dataset.testid = "chat-line";
      row.setAttribute("data-testid", "chat-line");
      row.setAttribute("data-author", line.author);
      var who = document.createElement("div");
      who.className = "chat-who small text-muted";
      who.textContent = (box.dataset["label" + line.author.charAt(0).toUpperCase() + line.author.slice(1)] || line.author) +
        " " + new Date(line.at).toLocaleTimeString();
      var text = document.createElement("div");
      text.className = "chat-text";
      text.textContent = line.text;
      row.appendChild(who);
      row.appendChild(text);
      list.appendChild(row);
      list.scrollTop = list.scrollHeight;
    }
    function activeNow() {
      // A transcript fetched before the close can answer after it: a closed chat never reopens on screen.
      if (state && box.dataset.status !== "closed") state.textContent = box.dataset.activeText || "";
    }
    function closed() {
      box.dataset.status = "closed";
      if (state) state.textContent = box.dataset.closedText || "";
      if (form) form.querySelectorAll("input,textarea,button").forEach(function (el) { el.disabled = true; });
    }
    function load() {
      return fetch(box.dataset.linesUrl + "?after=" + last, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          data.lines.forEach(add);
          if (data.status === "closed") closed();
          else if (data.status === "active") activeNow();
        });
    }
    var source;
    load().then(function () {
      if (box.dataset.status === "closed") return;
      source = new EventSource(box.dataset.eventsUrl);
      source.onmessage = function (event) {
        var msg = JSON.parse(event.data);
        if (msg.type === "line") add(msg);
        else if (msg.type === "status") {
          if (msg.status === "closed") { closed(); source.close(); }
          else if (msg.status === "active") activeNow();
        }
      };
      source.onopen = function () { box.dataset.live = "1"; load(); };
    });
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var input = form.querySelector("[name=text]");
        if (!input.value.trim()) return;
        var body = new FormData(form);
        var error = form.querySelector("[data-chat-error]");
        fetch(box.dataset.sendUrl, { method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken") } })
          .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
          .then(function (res) {
            if (res.ok) { add(res.data); input.value = ""; if (error) error.textContent = ""; }
            else if (error) error.textContent = res.data.detail || "";
          });
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chat-box]").forEach(start);
    var queue = document.querySelector("[data-chat-queue]");
    if (queue) {
      var src = new EventSource(queue.dataset.eventsUrl);
      src.onmessage = function () {
        fetch(queue.dataset.partialUrl, { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) { queue.innerHTML = html; });
      };
    }
  });
})();
