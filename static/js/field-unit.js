/* A unit's work list on the phone (templates/field/unit.html): its open problems on a map,
 * the way from the phone's position to one of them, and "rectified" with an after-photo
 * (shrunk on the phone by field-photo.js) sent to /field/api/problems/<id>/rectify.
 *
 * Marks for tests on <body>: data-map-ready, data-located, data-after-photo (problem id of
 * the shrunk photo), data-rectified (id of the problem just reported rectified).
 */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("field-cfg").textContent);
  var L_ = cfg.labels;
  var photo = window.GeoappField.photo;
  var body = document.body;

  function fill(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }

  var map = L.map("field-map", { attributionControl: false });
  if (cfg.urls.tiles) L.tileLayer(cfg.urls.tiles, { maxZoom: 19 }).addTo(map);
  var markers = {};
  cfg.points.forEach(function (p) {
    markers[p.id] = L.circleMarker([p.lat, p.lon], {
      radius: 9, weight: 2, color: "#fff", fillOpacity: 1, fillColor: p.overdue ? "#b00020" : "#e67e22"
    }).addTo(map).on("click", function () { select(p.id); });
  });
  if (cfg.points.length) {
    map.fitBounds(L.latLngBounds(cfg.points.map(function (p) { return [p.lat, p.lon]; })).pad(0.2), { maxZoom: 17 });
  } else if (cfg.bounds) {
    map.fitBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]);
  } else {
    map.setView([0, 0], 2);
  }
  body.setAttribute("data-map-ready", "1");

  var here = null, hereMarker = null, way = null;

  function showDistances() {
    if (!here) return;
    cfg.points.forEach(function (p) {
      var cell = document.querySelector('.distance[data-id="' + p.id + '"]');
      if (cell) cell.textContent = fill(L_.distance, { metres: Math.round(map.distance(here, [p.lat, p.lon])) });
    });
  }

  function select(id) {
    var p = cfg.points.filter(function (q) { return q.id === id; })[0];
    Array.prototype.forEach.call(document.querySelectorAll(".card"), function (c) {
      c.classList.toggle("active", Number(c.getAttribute("data-id")) === id);
    });
    if (!p) return;
    if (way) { map.removeLayer(way); way = null; }
    if (here) {
      way = L.polyline([here, [p.lat, p.lon]], { color: "#1d5fa8", weight: 4, dashArray: "6 6" }).addTo(map);
      map.fitBounds(way.getBounds().pad(0.3), { maxZoom: 18 });
    } else {
      map.setView([p.lat, p.lon], 18);
    }
    var card = document.querySelector('.card[data-id="' + id + '"]');
    if (card && card.scrollIntoView) card.scrollIntoView({ block: "nearest" });
  }

  document.getElementById("locate").addEventListener("click", function () {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(function (pos) {
      here = [pos.coords.latitude, pos.coords.longitude];
      if (hereMarker) hereMarker.setLatLng(here);
      else hereMarker = L.circleMarker(here, { radius: 8, color: "#fff", weight: 3, fillColor: "#1d5fa8", fillOpacity: 1 }).addTo(map);
      showDistances();
      body.setAttribute("data-located", "1");
    }, function (err) {
      alert(fill(L_.no_location, { error: err.message || err.code }));
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });

  Array.prototype.forEach.call(document.querySelectorAll("button.show"), function (b) {
    b.addEventListener("click", function () { select(Number(b.getAttribute("data-id"))); });
  });

  Array.prototype.forEach.call(document.querySelectorAll("button.open-rectify"), function (b) {
    b.addEventListener("click", function () {
      var form = document.querySelector('form.rectify[data-id="' + b.getAttribute("data-id") + '"]');
      form.hidden = !form.hidden;
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("form.rectify"), function (form) {
    var id = form.getAttribute("data-id");
    var shrunk = null;
    var info = form.querySelector(".photo-info");
    var out = form.querySelector(".form-status");
    function say(text, error) { out.textContent = text; out.classList.toggle("error", !!error); }
    form.querySelector(".after-photo").addEventListener("change", function (e) {
      var file = e.target.files && e.target.files[0];
      if (!file) return;
      photo.shrink(file).then(function (p) {
        shrunk = p;
        info.textContent = fill(L_.shrunk, { before: photo.size(p.before), after: photo.size(p.after) });
        body.setAttribute("data-after-photo", id);
      }, function (err) { say(fill(L_.photo_failed, { error: err.message }), true); });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!shrunk) { say(L_.need_photo, true); return; }
      var data = new FormData();
      data.append("photo", shrunk.blob, "after.jpg");
      data.append("note", form.querySelector(".note").value);
      say(L_.sending);
      fetch(cfg.urls.rectify.replace("__ID__", id), {
        method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (answer) {
          if (!r.ok) throw new Error(answer.message || r.status);
          say(L_.done);
          form.closest(".card").classList.add("done");
          form.querySelector("button[type=submit]").disabled = true;
          if (markers[id]) markers[id].setStyle({ fillColor: "#2ca02c" });
          body.setAttribute("data-rectified", id);
        });
      }, function () { throw new Error(L_.offline); }).catch(function (err) {
        say(fill(L_.refused, { error: err.message }), true);
      });
    });
  });
})();
