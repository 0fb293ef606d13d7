/* The desktop forms of inspection coverage: saving a point's name and kind on the register
 * page (PATCH /api/points/<id>) and recording a visit (POST /api/visits). */
(function () {
  "use strict";
  var http = window.GeoappHttp;

  var table = document.getElementById("points-table");
  if (table) {
    table.addEventListener("click", function (ev) {
      var button = ev.target.closest(".save-point");
      if (!button) return;
      var row = button.closest("tr");
      var status = row.querySelector(".row-status");
      var url = table.getAttribute("data-patch").replace("__ID__", row.getAttribute("data-id"));
      http.send(url, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          name: row.querySelector(".point-name").value,
          kind: row.querySelector(".point-kind").value
        })
      }).then(function () { status.textContent = "✓"; }, function (err) { status.textContent = err.message; });
    });
  }

  var form = document.getElementById("visit-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = new FormData(form);
      var body = { point_id: data.get("point_id"), round: data.get("round"), result: data.get("result") };
      if (data.get("note")) body.note = data.get("note");
      if (body.result === "problems") {
        var problem = { category: data.get("category"), deduction: Number(data.get("deduction") || 0) };
        if (data.get("description")) problem.description = data.get("description");
        body.problems = [problem];
      }
      var status = document.getElementById("visit-status");
      // multipart: the visit as JSON text in "report", with the photo when one is chosen
      var sent = new FormData();
      sent.append("report", JSON.stringify(body));
      var photo = form.querySelector('input[name="photo"]');
      if (photo && photo.files.length) sent.append("photo", photo.files[0]);
      http.send(form.getAttribute("data-submit"), { method: "POST", body: sent }).then(function (answer) {
        status.textContent = "✓ " + answer.visit.point_name + " · " + answer.visit.round;
        status.setAttribute("data-visit", answer.visit.id);
      }, function (err) { status.textContent = err.message; });
    });
  }
})();
