// Live PMR-AS: send the form's values to the server, which scores them with pmrtrial.scores (one formula).
(function () {
  "use strict";
  var form = document.getElementById("crf");
  if (!form || !form.dataset.previewUrl) { return; }
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  function show(id, value) { var el = document.getElementById(id); if (el) { el.textContent = (value === null || value === undefined) ? "—" : value; } }
  function refresh() {
    var data = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[id^=id_], select[id^=id_]"), function (el) {
      if (el.name && el.name !== "reason" && el.value !== "") { data[el.name] = el.value; }
    });
    fetch(form.dataset.previewUrl, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body: JSON.stringify(data)})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var d = body.derived || {};
        show("crp-pmr-as", d.crp_pmr_as); show("esr-pmr-as", d.esr_pmr_as); show("activity", d.crp_pmr_as_activity);
      })
      .catch(function () { show("crp-pmr-as", "?"); });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 200); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(refresh, 50); });
})();
