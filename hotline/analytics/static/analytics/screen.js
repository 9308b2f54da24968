// The big screen (MON-3): one EventSource; each message is the whole snapshot, rendered in place (no reload).
// Charts use ECharts when the page loaded it (npm `echarts`, served at one static path); without it the
// panels show the same figures as lists. No inline script (CSP): the first snapshot is a json_script block.
(function () {
  "use strict";
  var charts = {};

  function text(value, suffix) {
    return value === null || value === undefined ? "—" : String(value) + (suffix || "");
  }

  function series(key, data) {
    if (key === "trend") {
      return data.trend.map(function (d) { return { name: d.day.slice(5), n: d.n }; });
    }
    if (key === "ranking") {
      return data.ranking.map(function (r) { return { name: r.name, n: r.open, overdue: r.overdue }; });
    }
    return data[key];
  }

  function option(key, rows) {
    var names = rows.map(function (r) { return r.name; });
    var axis = { axisLabel: { color: "#9fb6d8", fontSize: 14 }, axisLine: { lineStyle: { color: "#1f4f99" } } };
    if (key === "by_channel" || key === "by_type") {
      return {
        textStyle: { color: "#e6eefc" },
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["40%", "70%"], label: { color: "#e6eefc", fontSize: 16 },
          data: rows.map(function (r) { return { name: r.name, value: r.n }; }) }],
      };
    }
    if (key === "ranking") {
      return {
        legend: { top: 0, right: 0, textStyle: { color: "#e6eefc", fontSize: 14 } },
        grid: { left: 160, right: 24, top: 32, bottom: 24 },
        xAxis: Object.assign({ type: "value" }, axis),
        yAxis: Object.assign({ type: "category", data: names.slice().reverse() }, axis),
        series: [
          { name: "在办", type: "bar", data: rows.map(function (r) { return r.n; }).reverse(), itemStyle: { color: "#3ba0ff" } },
          { name: "超期", type: "bar", data: rows.map(function (r) { return r.overdue; }).reverse(), itemStyle: { color: "#ff6b6b" } },
        ],
      };
    }
    var horizontal = key === "hot_topics";
    return {
      grid: { left: horizontal ? 120 : 48, right: 24, top: 16, bottom: 32 },
      xAxis: Object.assign(horizontal ? { type: "value" } : { type: "category", data: names }, axis),
      yAxis: Object.assign(horizontal ? { type: "category", data: names.slice().reverse() } : { type: "value" }, axis),
      series: [{ type: key === "trend" ? "line" : "bar", itemStyle: { color: "#7fd3ff" },
        data: horizontal ? rows.map(function (r) { return r.n; }).reverse() : rows.map(function (r) { return r.n; }) }],
    };
  }

  function render(data) {
    document.querySelectorAll("[data-field]").forEach(function (el) {
      var value = data[el.dataset.field];
      el.textContent = el.dataset.field === "now" ? String(value).slice(0, 16).replace("T", " ") : text(value);
    });
    document.querySelectorAll("[data-rate]").forEach(function (el) {
      el.textContent = text((data[el.dataset.rate] || {}).value, "%");
    });
    document.querySelectorAll("[data-chart]").forEach(function (panel) {
      var key = panel.dataset.chart;
      var rows = series(key, data) || [];
      var list = panel.querySelector(".list");
      list.replaceChildren();
      rows.forEach(function (r) {
        var li = document.createElement("li");
        li.textContent = r.name + "：" + r.n + (r.overdue !== undefined ? "（超期 " + r.overdue + "）" : "");
        list.appendChild(li);
      });
      if (window.echarts) {
        panel.classList.add("charted");
        if (!charts[key]) {
          charts[key] = window.echarts.init(panel.querySelector(".chart"));
        }
        charts[key].setOption(option(key, rows), true);
      }
    });
  }

  function fit() {
    var scale = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    document.body.style.transform = scale < 1 ? "scale(" + scale + ")" : "";
  }

  function live(ok) {
    var badge = document.querySelector('[data-testid="screen-live"]');
    badge.textContent = ok ? badge.dataset.liveLabel : badge.dataset.offLabel;
    badge.classList.toggle("on", ok);
  }

  document.addEventListener("DOMContentLoaded", function () {
    fit();
    window.addEventListener("resize", fit);
    render(JSON.parse(document.getElementById("screen-data").textContent));
    var source = new EventSource(document.body.dataset.stream);
    source.addEventListener("open", function () { live(true); });
    source.addEventListener("error", function () { live(false); });
    source.addEventListener("message", function (event) {
      render(JSON.parse(event.data));
    });
  });
})();
