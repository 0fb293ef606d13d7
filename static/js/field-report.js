/* The phone's report page (templates/field/report.html): the point from the phone's
 * position (its accuracy shown and sent) or a tap, dragged to where the problem is; the
 * responsible unit looked up before sending; photos shrunk on the phone (field-photo.js);
 * every report saved in the phone's queue first (field-queue.js) and sent from there, now
 * or when the network returns.  Registers the service worker that opens this page offline.
 *
 * Marks for tests on <body>: data-map-ready, data-located, data-point-placed,
 * data-lookup (done|offline|failed), data-photos (count shrunk), data-queue (items not
 * yet sent), data-offline-ready (service worker active).
 */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("field-cfg").textContent);
  var L_ = cfg.labels;
  var photo = window.GeoappField.photo;
  var queue = window.GeoappField.queue;
  var body = document.body;
  var $ = function (id) { return document.getElementById(id); };

  function fill(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function status(text, error) {
    var s = $("form-status");
    s.textContent = text || "";
    s.classList.toggle("error", !!error);
  }

  // --- the map and the point ---------------------------------------------------------
  var map = L.map("field-map", { zoomControl: true, attributionControl: false });
  if (cfg.urls.tiles) L.tileLayer(cfg.urls.tiles, { maxZoom: 19 }).addTo(map);
  if (cfg.bounds) map.fitBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]);
  else map.setView([0, 0], 2);
  fetch(cfg.urls.areas, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
    .then(function (fc) {
      if (fc) L.geoJSON(fc, { interactive: false, style: { color: "#1f6f43", weight: 1, fillOpacity: 0.05 } }).addTo(map);
    }).catch(function () { /* offline and never cached: the map has no outlines */ })
    .then(function () { body.setAttribute("data-map-ready", "1"); });
  window.fieldMap = map;

  var point = null;  // {lon, lat, accuracy}
  var marker = null, circle = null;

  function showAccuracy() {
    $("accuracy").textContent = point && point.accuracy != null
      ? fill(L_.accuracy, { metres: Math.round(point.accuracy) }) : "";
  }

  function lookup() {
    var where = $("where");
    where.className = "where";
    where.textContent = L_.looking_up;
    var q = "?lon=" + encodeURIComponent(point.lon) + "&lat=" + encodeURIComponent(point.lat);
    return fetch(cfg.urls.lookup + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (d) {
        where.textContent = "";
        if (!d.area) {
          where.textContent = L_.outside;
          where.className = "where outside";
        } else {
          where.appendChild(el("span", fill(L_.unit, { name: (d.responsible_unit || {}).name || "—" }), "unit"));
          where.appendChild(el("br"));
          where.appendChild(el("span", fill(L_.area, { name: d.area.name }), "area"));
        }
        body.setAttribute("data-lookup", "done");
      }, function () {
        where.textContent = L_.lookup_offline;
        body.setAttribute("data-lookup", navigator.onLine ? "failed" : "offline");
      });
  }

  function setPoint(lat, lon, accuracy) {
    point = { lon: Number(lon.toFixed(7)), lat: Number(lat.toFixed(7)), accuracy: accuracy };
    var ll = [point.lat, point.lon];
    if (!marker) {
      marker = L.marker(ll, { draggable: true, autoPan: true, title: "report" }).addTo(map);
      marker.on("dragend", function () {
        var p = marker.getLatLng();
        setPoint(p.lat, p.lng, null);  // placed by hand: the phone's fix no longer describes it
      });
    } else {
      marker.setLatLng(ll);
    }
    if (circle) { map.removeLayer(circle); circle = null; }
    if (accuracy != null) circle = L.circle(ll, { radius: accuracy, weight: 1, interactive: false }).addTo(map);
    showAccuracy();
    body.setAttribute("data-point-placed", "1");
    return lookup();
  }

  map.on("click", function (e) { setPoint(e.latlng.lat, e.latlng.lng, null); });

  $("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { status(fill(L_.no_location, { error: "—" }), true); return; }
    $("where").textContent = L_.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var c = pos.coords;
      map.setView([c.latitude, c.longitude], Math.max(map.getZoom(), 17));
      setPoint(c.latitude, c.longitude, c.accuracy);
      body.setAttribute("data-located", "1");
    }, function (err) {
      status(fill(L_.no_location, { error: err.message || err.code }), true);
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });

  // --- the bottom sheet ----------------------------------------------------------------
  var sheet = $("sheet"), handle = $("sheet-handle");
  function openSheet(open) {
    sheet.classList.toggle("open", open);
    handle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  handle.addEventListener("click", function () { openSheet(!sheet.classList.contains("open")); });
  $("report-form").addEventListener("focusin", function () { openSheet(true); });

  // --- photos -------------------------------------------------------------------------
  var photos = [];  // {blob, gps, url}
  function renderPhotos() {
    var list = $("photo-list");
    list.textContent = "";
    photos.forEach(function (p, i) {
      var li = el("li");
      li.setAttribute("data-bytes", String(p.after));
      var img = el("img");
      img.src = p.url;
      img.alt = "";
      li.appendChild(img);
      li.appendChild(el("span", fill(L_.shrunk, { before: photo.size(p.before), after: photo.size(p.after) }), "size"));
      if (p.gps) {
        var use = el("button", L_.photo_gps, "use-gps");
        use.type = "button";
        use.addEventListener("click", function () {
          map.setView([p.gps.lat, p.gps.lon], Math.max(map.getZoom(), 17));
          setPoint(p.gps.lat, p.gps.lon, null);
        });
        li.appendChild(use);
      }
      var drop = el("button", L_.remove, "drop");
      drop.type = "button";
      drop.addEventListener("click", function () {
        URL.revokeObjectURL(p.url);
        photos.splice(i, 1);
        renderPhotos();
      });
      li.appendChild(drop);
      list.appendChild(li);
    });
    body.setAttribute("data-photos", String(photos.length));
  }

  $("photos").addEventListener("change", function (e) {
    var files = Array.prototype.slice.call(e.target.files || []).slice(0, cfg.max_photos - photos.length);
    e.target.value = "";
    body.removeAttribute("data-photos");
    files.reduce(function (chain, file) {
      return chain.then(function () {
        return photo.shrink(file).then(function (p) {
          p.url = URL.createObjectURL(p.blob);
          photos.push(p);
        }, function (err) { status(fill(L_.photo_failed, { error: err.message }), true); });
      });
    }, Promise.resolve()).then(renderPhotos);
  });

  // --- the queue ----------------------------------------------------------------------
  var categoryLabels = {};
  Array.prototype.forEach.call($("category").options, function (o) { categoryLabels[o.value] = o.textContent; });

  function stateText(item) {
    if (item.state === "sent") {
      return fill(L_.sent, { id: item.result.problem_id || item.result.id, unit: item.result.unit || L_.no_unit });
    }
    if (item.state === "failed") return fill(L_.refused, { error: item.error });
    if (item.state === "waiting") return item.error === "sign_in" ? L_.sign_in : L_.waiting;
    return L_[item.state] || item.state;
  }

  function renderQueue(items) {
    var list = $("queue-list");
    list.textContent = "";
    var pending = 0;
    items.slice().reverse().forEach(function (item) {
      if (item.state !== "sent") pending++;
      var li = el("li");
      li.setAttribute("data-state", item.state);
      li.setAttribute("data-id", item.client_id);
      li.appendChild(el("div", stateText(item), "state"));
      var r = item.report;
      var count = item.state === "sent" ? item.photo_count || 0 : item.photos.length;
      li.appendChild(el("div", (categoryLabels[r.category] || r.category) + " · " +
        new Date(item.created).toLocaleString() + " · " + fill(L_.photos_n, { count: count })));
      if (r.description) li.appendChild(el("div", r.description, "desc"));
      if (item.state === "sent" && item.result.page) {
        var a = el("a", L_.open_problem);
        a.href = item.result.page;
        li.appendChild(a);
      }
      if (item.state === "failed" || item.state === "waiting") {
        var again = el("button", L_.retry);
        again.type = "button";
        again.addEventListener("click", function () { queue.retry(item.client_id).then(send); });
        li.appendChild(again);
      }
      if (item.state === "failed") {
        var drop = el("button", L_.remove);
        drop.type = "button";
        drop.addEventListener("click", function () { queue.remove(item.client_id); });
        li.appendChild(drop);
      }
      list.appendChild(li);
    });
    if (!items.length) list.appendChild(el("li", L_.queue_empty, "empty"));
    $("queue-count").textContent = String(pending);
    $("queue-count").classList.toggle("waiting", pending > 0);
    body.setAttribute("data-queue", String(pending));
  }
  queue.onchange = renderQueue;

  function send() {
    if (!navigator.onLine) return Promise.resolve();
    return queue.flush(cfg.urls.submit, cfg.urls.scope).catch(function () { /* kept for later */ });
  }

  $("queue-toggle").addEventListener("click", function () { $("queue").hidden = !$("queue").hidden; });
  $("queue-close").addEventListener("click", function () { $("queue").hidden = true; });
  window.addEventListener("online", send);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) send(); });
  setInterval(send, 30000);

  // --- sending ------------------------------------------------------------------------
  $("report-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!point) { status(L_.need_point, true); return; }
    var category = $("category").value;
    if (!category) { status(L_.need_category, true); $("category").focus(); return; }
    if (!$("round").value.trim()) { status(L_.need_round, true); $("round").focus(); return; }
    var report = {
      lon: point.lon, lat: point.lat, crs: "wgs84", category: category,
      round: $("round").value.trim(),
      deduction: Number($("deduction").value || 0),
      description: $("description").value.trim() || undefined,
      accuracy_m: point.accuracy != null ? Math.round(point.accuracy * 10) / 10 : null
    };
    var blobs = photos.map(function (p) { return p.blob; });
    queue.add(report, blobs).then(function () {
      photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
      photos = [];
      renderPhotos();
      $("description").value = "";
      status(navigator.onLine ? L_.saved : L_.saved_offline);
      openSheet(false);
      return send();
    }).catch(function (err) { status(err.message, true); });
  });

  queue.all().then(renderQueue).then(send);

  if ("serviceWorker" in navigator && cfg.urls.sw) {
    navigator.serviceWorker.register(cfg.urls.sw, { scope: cfg.urls.scope }).catch(function () { /* no offline */ });
    navigator.serviceWorker.ready.then(function () { body.setAttribute("data-offline-ready", "1"); });
  }
})();
