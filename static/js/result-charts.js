// The result page's charts, drawn with the vendored Chart.js: the latency distribution of
// the reference and the submission (histogram or cumulative distribution) from every timed
// query, and the trial-log curves of the declared search. Data: json_script elements.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  var COLOURS = { reference: "#5b6570", submission: "#0072B2" };
  var LINE_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];

  function read(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var latency = read("latency-data");
  var canvas = document.getElementById("latency-chart");
  if (latency && canvas) {
    var view = document.getElementById("latency-view");
    var logScale = document.getElementById("latency-log");
    var edges = latency.edges_us;
    var centres = edges.slice(0, -1).map(function (edge, i) { return Math.sqrt(edge * edges[i + 1]); });

    function datasets(kind) {
      return latency.subjects.map(function (subject) {
        var colour = COLOURS[subject.subject] || "#333333";
        var points = kind === "cdf"
          ? subject.cdf_us.map(function (us, i) { return { x: us, y: latency.quantiles[i] * 100 }; })
          : subject.fraction.map(function (fraction, i) { return { x: centres[i], y: fraction * 100 }; });
        return {
          label: subject.name + " (median " + subject.p50_us.toFixed(1) + " \u00b5s)",
          data: points,
          borderColor: colour,
          backgroundColor: kind === "cdf" ? colour : colour + "55",
          borderWidth: 2,
          pointRadius: 0,
          showLine: true,
          fill: kind !== "cdf",
          stepped: kind === "cdf" ? false : "middle",
          borderDash: subject.subject === "reference" ? [6, 3] : [],
        };
      });
    }

    var chart = new Chart(canvas, {
      type: "scatter",
      data: { datasets: datasets(view.value) },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { type: logScale.checked ? "logarithmic" : "linear", title: { display: true, text: "latency of one query (\u00b5s)" } },
          y: { min: 0, title: { display: true, text: "share of the timed queries (%)" } },
        },
        plugins: { legend: { position: "bottom" } },
      },
    });
    canvas.dataset.view = view.value;

    function redraw() {
      chart.data.datasets = datasets(view.value);
      chart.options.scales.x.type = logScale.checked ? "logarithmic" : "linear";
      chart.options.scales.y.title.text = view.value === "cdf" ? "queries at or under this latency (%)" : "share of the timed queries (%)";
      chart.update();
      canvas.dataset.view = view.value;
    }
    view.addEventListener("change", redraw);
    logScale.addEventListener("change", redraw);
  }

  var curves = read("trial-data");
  if (curves) {
    Object.keys(curves).forEach(function (name) {
      var target = document.getElementById("curve-" + name);
      if (!target) return;
      var curve = curves[name];
      new Chart(target, {
        type: "scatter",
        data: {
          datasets: curve.series.map(function (series, index) {
            var colour = LINE_COLOURS[index % LINE_COLOURS.length];
            return {
              label: series.name, data: series.points, showLine: true, stepped: series.step ? "before" : false,
              borderColor: colour, backgroundColor: colour, borderDash: series.dashed ? [5, 3] : [],
              pointRadius: series.points.length <= 40 ? 2.5 : 0, borderWidth: 1.6,
            };
          }),
        },
        options: {
          maintainAspectRatio: false,
          animation: false,
          scales: {
            x: { title: { display: true, text: curve.x_label } },
            y: { title: { display: true, text: curve.y_label } },
          },
          plugins: { legend: { position: "bottom" } },
        },
      });
    });
  }
})();
