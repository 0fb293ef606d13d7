/* A problem's page (/problems/<id>): its point on a small map, workflow buttons with a note,
   photo upload, duplicate link/unlink and position/category edits, all with fetch();
   the page reloads to show the new state and history. */
(function () {
  "use strict";

  var send = window.GeoappHttp.send;

  function sendJSON(url, method, body) {
    return send(url, { method: method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  }

  window.ProblemPage = function (map, cfg) {
    var L_ = cfg.labels;
    var statusLine = document.getElementById("action-status");
    function status(text, isError) {
      statusLine.textContent = text || "";
      statusLine.classList.toggle("error", !!isError);
    }
    function reload() { window.location.reload(); }
    function fail(err) { status(window.GeoappHttp.fill(L_.failed_because, { error: err.message }), true); }

    send(cfg.urls.areas + "?simplify=2").then(function (fc) {
      L.geoJSON(fc, { interactive: false, style: { color: "#556", weight: 0.7, fillOpacity: 0 } }).addTo(map);
    }).catch(fail);
    if (cfg.point) {
      L.marker([cfg.point[1], cfg.point[0]]).addTo(map);
      map.setView([cfg.point[1], cfg.point[0]], 17);
    }

    Array.prototype.forEach.call(document.querySelectorAll("button.transition"), function (b) {
      b.addEventListener("click", function () {
        var note = document.getElementById("note").value;
        if (b.getAttribute("data-note-required") === "true" && !note.trim()) {
          status(L_.note_required, true);
          return;
        }
        b.disabled = true;
        status(L_.saving);
        sendJSON(cfg.urls.transitions, "POST", { to: b.getAttribute("data-to"), note: note || null })
          .then(reload, function (err) { b.disabled = false; fail(err); });
      });
    });

    Array.prototype.forEach.call(document.querySelectorAll("button.link-dup"), function (b) {
      b.addEventListener("click", function () {
        var note = (document.getElementById("note") || {}).value || null;
        sendJSON(cfg.urls.duplicate, "PUT", { duplicate_of: Number(b.getAttribute("data-id")), note: note })
          .then(reload, fail);
      });
    });
    var unlink = document.getElementById("unlink");
    if (unlink) {
      unlink.addEventListener("click", function () {
        if (!window.confirm(L_.confirm_unlink)) return;
        sendJSON(cfg.urls.duplicate, "DELETE", {}).then(reload, fail);
      });
    }

    // the page shows only the controls this account may use: each may be absent
    var photoInput = document.getElementById("photo-input");
    if (photoInput) photoInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(photoInput.files || []);
      status(L_.saving);
      files.reduce(function (chain, file) {
        return chain.then(function () {
          var fd = new FormData();
          fd.append("photo", file, file.name);
          return send(cfg.urls.photos, { method: "POST", body: fd });
        });
      }, Promise.resolve()).then(reload, fail);
    });

    var editForm = document.getElementById("edit-form");
    if (editForm) editForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { category: document.getElementById("edit-category").value };
      var lon = document.getElementById("edit-lon").value.trim();
      var lat = document.getElementById("edit-lat").value.trim();
      if (lon && lat && (!cfg.point || Number(lon) !== cfg.point[0] || Number(lat) !== cfg.point[1] ||
          document.getElementById("edit-crs").value !== "wgs84")) {
        body.lon = Number(lon);
        body.lat = Number(lat);
        body.crs = document.getElementById("edit-crs").value;
      }
      var note = document.getElementById("note");
      if (note && note.value.trim()) body.note = note.value;
      sendJSON(cfg.urls.patch, "PATCH", body).then(reload, fail);
    });

    document.body.setAttribute("data-map-ready", "1");
    return { map: map };
  };
})();
