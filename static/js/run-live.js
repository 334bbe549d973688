// The run page while a run is not finished: polls runs/<id>/status.json and updates the
// state, the phase, the elapsed time, the phase timings and the log tails in place. Every
// value is written as text (textContent), never as markup: logs are the submission's output.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || live.dataset.terminal === "true") return;
  var url = live.dataset.statusUrl;
  var POLL_MS = 2000;
  var since = Date.parse(document.getElementById("live-elapsed").dataset.since);

  function text(id, value) {
    var element = document.getElementById(id);
    if (element) element.textContent = value;
  }

  function duration(seconds) {
    if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min " + Math.round(seconds % 60) + " s";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function phases(list) {
    var body = document.querySelector("#phases tbody");
    if (!body) return;
    body.textContent = "";
    list.forEach(function (phase) {
      var row = document.createElement("tr");
      row.dataset.state = phase.state;
      if (phase.current) row.className = "current-phase";
      [phase.words, phase.started_at.slice(11, 19), phase.current ? duration(phase.seconds) + " so far" : duration(phase.seconds)]
        .forEach(function (value, index) {
          var cell = document.createElement("td");
          if (index === 2) cell.className = "num";
          cell.textContent = value;
          row.appendChild(cell);
        });
      body.appendChild(row);
    });
  }

  function logs(list) {
    var box = document.getElementById("logs");
    if (!box || !list.length) return;
    box.textContent = "";
    list.forEach(function (tail) {
      var heading = document.createElement("h3");
      heading.textContent = tail.phase;
      var pre = document.createElement("pre");
      pre.className = "log";
      pre.id = "log-" + tail.phase.replace(/[^a-z0-9_-]/gi, "-").toLowerCase();
      pre.textContent = tail.text || "(no output)";
      box.appendChild(heading);
      box.appendChild(pre);
    });
  }

  function failure(info) {
    if (!info || document.getElementById("failure")) return;
    var box = document.createElement("div");
    box.className = "error";
    box.id = "failure";
    var strong = document.createElement("strong");
    strong.textContent = "The run failed" + (info.phase ? " in " + info.phase : "") + (info.code ? " (" + info.code + ")" : "") + ".";
    var reason = document.createElement("p");
    reason.textContent = info.reason;
    var hint = document.createElement("p");
    hint.className = "small";
    hint.id = "failure-hint";
    hint.textContent = "What to do: " + info.what_to_do;
    box.appendChild(strong);
    box.appendChild(reason);
    box.appendChild(hint);
    live.after(box);
  }

  function apply(status) {
    var badge = document.getElementById("run-state");
    badge.textContent = status.state_label;
    badge.dataset.state = status.state;
    badge.className = "state state-" + status.state;
    text("live-state", status.state_label);
    text("live-phase", status.phase);
    text("live-attempt", String(status.attempt));
    text("live-host", status.runner_host || "\u2014");
    text("live-elapsed", duration(status.elapsed_s));
    phases(status.phases);
    logs(status.logs);
    failure(status.failure);
    if (status.terminal) {
      live.dataset.terminal = "true";
      var queued = document.getElementById("queued-note");
      if (queued) queued.hidden = true;
      var cancel = document.getElementById("cancel-run");
      if (cancel) cancel.closest("form").hidden = true;
      if (status.result_url) document.getElementById("live-result").hidden = false;
    }
  }

  function tick() {
    if (!isNaN(since) && live.dataset.terminal !== "true") text("live-elapsed", duration((Date.now() - since) / 1000));
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) apply(status);
        if (!status || !status.terminal) window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 2); });
  }
  window.setInterval(tick, 1000);
  poll();
})();
