// The leaderboard's scatter: accuracy against p50 latency or energy per inference, the
// Pareto front of the whole view joined by a line, points labelled by method and coloured
// by budget track; estimated and declared figures hollow. Data: the json_script
// "pareto-data" (leaderboard.presenters.chart_points); drawn with the vendored Chart.js.
(function () {
  "use strict";
  var source = document.getElementById("pareto-data");
  var canvas = document.getElementById("pareto-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  // Colour-blind-safe (Okabe-Ito), darkened where needed for contrast on white.
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8a6d00", "#56B4E9"];
  var trackColour = {};
  data.tracks.forEach(function (track, index) { trackColour[track.slug] = PALETTE[index % PALETTE.length]; });
  var xSelect = document.getElementById("chart-x");
  var logX = document.getElementById("chart-log-x");
  var logY = document.getElementById("chart-log-y");
  var AXES = {
    latency_p50_us: { title: "p50 latency (\u00b5s), lower is better", front: "latency_front", label: "latency_label" },
    energy_mj: { title: "energy per inference (mJ), lower is better", front: "energy_front", label: "energy_label" },
  };

  function measured(point, axis) {
    var label = point[AXES[axis].label];
    return !label || label === "measured";
  }

  function datasets(axis) {
    var byTrack = {};
    var front = [];
    var reference = [];
    data.points.forEach(function (point) {
      var x = point[axis];
      if (x === null || x === undefined || point.accuracy === null || point.accuracy === undefined) return;
      var item = { x: x, y: point.accuracy * 100, name: point.name, url: point.url, estimated: !measured(point, axis) };
      if (point.kind === "reference") { reference.push(item); return; }
      if (point[AXES[axis].front]) front.push(item);
      if (!point.on_page && !point[AXES[axis].front]) return;
      var key = point.track || "";
      (byTrack[key] = byTrack[key] || { name: point.track_name, points: [] }).points.push(item);
    });
    front.sort(function (a, b) { return a.x - b.x; });
    var sets = Object.keys(byTrack).map(function (key) {
      var colour = trackColour[key] || "#555555";
      return {
        label: byTrack[key].name,
        data: byTrack[key].points,
        backgroundColor: byTrack[key].points.map(function (p) { return p.estimated ? "rgba(255,255,255,0)" : colour; }),
        borderColor: colour,
        borderWidth: 2,
        pointRadius: 5,
        pointHoverRadius: 7,
        pointStyle: byTrack[key].points.map(function (p) { return p.estimated ? "rectRot" : "circle"; }),
      };
    });
    sets.push({
      label: "Pareto front", data: front, type: "line", showLine: true, fill: false,
      borderColor: "#1d232a", borderWidth: 1.5, borderDash: [5, 3], pointRadius: 0, order: 10,
    });
    sets.push({
      label: "reference model", data: reference, pointStyle: "crossRot", pointRadius: 9,
      borderColor: "#1d232a", borderWidth: 2, backgroundColor: "#1d232a",
    });
    return sets;
  }

  // Method names beside the points (the front's and the page's), within reason.
  var labels = {
    id: "footprintLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillStyle = "#1d232a";
      var drawn = 0;
      chart.data.datasets.forEach(function (set, index) {
        if (set.type === "line") return;
        var meta = chart.getDatasetMeta(index);
        if (meta.hidden) return;
        meta.data.forEach(function (element, i) {
          if (drawn >= 60) return;
          var name = set.data[i].name;
          var width = ctx.measureText(name).width;
          // Beside the point, on whichever side the plot has room for the name.
          var x = element.x + 7 + width > chart.chartArea.right ? element.x - 7 - width : element.x + 7;
          ctx.fillText(name, x, element.y - 6);
          drawn += 1;
        });
      });
      ctx.restore();
    },
  };

  var chart = new Chart(canvas, {
    type: "scatter",
    data: { datasets: datasets(xSelect.value) },
    plugins: [labels],
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { type: logX.checked ? "logarithmic" : "linear", title: { display: true, text: AXES[xSelect.value].title } },
        y: { type: logY.checked ? "logarithmic" : "linear", title: { display: true, text: "accuracy (%), higher is better" } },
      },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (item) {
              var p = item.raw;
              return p.name + ": " + p.y.toFixed(2) + " %, " + Number(p.x).toPrecision(3) + (p.estimated ? " (estimated or declared)" : "");
            },
          },
        },
      },
      onClick: function (event, elements) {
        if (!elements.length) return;
        var point = chart.data.datasets[elements[0].datasetIndex].data[elements[0].index];
        if (point && point.url) window.location.href = point.url;
      },
    },
  });
  canvas.dataset.axis = xSelect.value;

  function redraw() {
    chart.data.datasets = datasets(xSelect.value);
    chart.options.scales.x.type = logX.checked ? "logarithmic" : "linear";
    chart.options.scales.y.type = logY.checked ? "logarithmic" : "linear";
    chart.options.scales.x.title.text = AXES[xSelect.value].title;
    chart.update();
    canvas.dataset.axis = xSelect.value;
    canvas.dataset.points = String(chart.data.datasets.reduce(function (n, set) { return n + (set.type === "line" ? 0 : set.data.length); }, 0));
  }
  [xSelect, logX, logY].forEach(function (control) { control.addEventListener("change", redraw); });
  redraw();
})();
