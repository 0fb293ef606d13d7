/* The phone pages of inspection coverage (geoapp/web/views/field_coverage.py): an inspector's
 * visit to the nearest inspection point, a unit's patrol check-in.  Each record goes into the
 * page's own queue (field-queue.js: IndexedDB, a client_id made before the first try) and is
 * sent at once when there is a network, or when it returns: stored once whatever happens. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("field-cfg").textContent);
  var L_ = cfg.labels;
  var queue = window.GeoappField.queue;
  var here = null;

  function fill(t, v) { return String(t).replace(/%\((\w+)\)s/g, function (_, k) { return String(v[k]); }); }
  function metres(lon1, lat1, lon2, lat2) {
    var r = 6371000, rad = Math.PI / 180;
    var dx = (lon2 - lon1) * rad * Math.cos((lat1 + lat2) / 2 * rad), dy = (lat2 - lat1) * rad;
    return Math.round(r * Math.sqrt(dx * dx + dy * dy));
  }
  var position = document.getElementById("position");

  function fillPoints() {
    var select = document.getElementById("point-select");
    if (!select || !cfg.points) return;
    var keep = select.value;
    var points = cfg.points.slice();
    if (here) {
      points.forEach(function (p) { p.d = metres(here.lon, here.lat, p.lon, p.lat); });
      points.sort(function (a, b) { return a.d - b.d; });
    }
    while (select.options.length > 1) select.remove(1);
    points.forEach(function (p) {
      var text = p.name + " · " + p.kind_label + (p.d != null ? " · " + fill(L_.distance, { metres: p.d }) : "");
      select.add(new Option(text, p.point_id));
    });
    if (keep) select.value = keep;
    else if (here && points.length) select.value = points[0].point_id;
  }

  function locate() {
    if (!navigator.geolocation) return;
    navigator.geolocation.watchPosition(function (pos) {
      here = { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: Math.round(pos.coords.accuracy) };
      position.textContent = here.lat.toFixed(5) + ", " + here.lon.toFixed(5) + " " + fill(L_.accuracy, { metres: here.accuracy });
      position.setAttribute("data-ready", "1");
      fillPoints();
    }, function (err) {
      position.textContent = fill(L_.no_location, { error: err.message });
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 });
  }

  function describe(item) {
    if (item.state === "sent") {
      var c = item.result && item.result.checkin;
      if (c) return fill(L_.sent_checkin, { distance: Math.round(c.distance_m), accuracy: c.accuracy_m == null ? "?" : Math.round(c.accuracy_m) });
      return L_.sent_visit;
    }
    if (item.state === "failed") return fill(L_.refused, { error: item.error });
    if (item.state === "waiting") return item.error === "sign_in" ? L_.sign_in : L_.waiting;
    return item.state === "sending" ? L_.sending : L_.queued;
  }

  queue.onchange = function (items) {
    var list = document.getElementById("queue");
    list.textContent = "";
    items.slice().reverse().forEach(function (item) {
      var li = document.createElement("li");
      li.className = "card state-" + item.state;
      var what = item.report.point_id || item.report.area_id || "";
      li.textContent = what + " · " + describe(item);
      list.appendChild(li);
    });
    var last = items[items.length - 1];
    if (last) {
      var status = document.getElementById("form-status");
      status.textContent = describe(last);
      status.setAttribute("data-state", last.state);
    }
  };

  function send() { return queue.flush(cfg.urls.submit, cfg.urls.page); }

  // the photo chosen in a form, kept in the queue with the report (sent as multipart "photo")
  function chosenPhotos(form) {
    var input = form.querySelector('input[name="photo"]');
    return input && input.files && input.files.length ? [input.files[0]] : [];
  }

  var visit = document.getElementById("visit-form");
  if (visit) {
    visit.addEventListener("change", function () {
      var problems = visit.querySelector('input[name="result"]:checked').value === "problems";
      visit.querySelector(".problem-fields").hidden = !problems;
    });
    visit.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = new FormData(visit);
      var status = document.getElementById("form-status");
      if (!data.get("point_id")) { status.textContent = L_.need_point; return; }
      if (!data.get("round")) { status.textContent = L_.need_round; return; }
      var report = { point_id: data.get("point_id"), round: data.get("round"), result: data.get("result") };
      if (report.result === "problems") {
        if (!data.get("category")) { status.textContent = L_.need_problem; return; }
        var p = { category: data.get("category"), deduction: Number(data.get("deduction") || 0) };
        if (data.get("description")) p.description = data.get("description");
        report.problems = [p];
      }
      if (here) { report.lon = here.lon; report.lat = here.lat; report.accuracy_m = here.accuracy; }
      queue.add(report, chosenPhotos(visit)).then(function () { visit.querySelector('input[name="photo"]').value = ""; }).then(send);
    });
  }

  var patrol = document.getElementById("patrol-form");
  if (patrol) {
    patrol.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = new FormData(patrol);
      if (!here) { document.getElementById("form-status").textContent = L_.need_position; return; }
      var report = { area_id: data.get("area_id"), lon: here.lon, lat: here.lat, accuracy_m: here.accuracy };
      if (data.get("note")) report.note = data.get("note");
      queue.add(report, chosenPhotos(patrol)).then(function () { patrol.querySelector('input[name="photo"]').value = ""; }).then(send);
    });
  }

  // the field pages' service worker keeps this page and its files: it opens with no network
  if ("serviceWorker" in navigator && cfg.urls.sw) {
    navigator.serviceWorker.register(cfg.urls.sw, { scope: cfg.urls.scope }).catch(function () { /* no offline */ });
    navigator.serviceWorker.ready.then(function () { document.body.setAttribute("data-offline-ready", "1"); });
  }
  fillPoints();
  locate();
  queue.all().then(function (items) { queue.onchange(items); });
  send();
  window.addEventListener("online", send);
})();
