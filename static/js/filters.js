// The leaderboard's filter form applies itself when a select changes (it works without
// this script too: its Apply button submits the same GET form).
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", function () { form.submit(); });
  });
})();
