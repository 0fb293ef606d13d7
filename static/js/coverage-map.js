/* The coverage map: areas and inspection points coloured by the days since their last
 * inspection or patrol (GET /api/coverage/map gives each feature its colour and class). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("coverage-cfg").textContent);
  var map = L.map("coverage-map", { preferCanvas: true });
  map.setView([28.2, 114.9], 13);
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function popup(p) {
    var when = p.days == null ? cfg.labels.never : cfg.labels.days.replace("%(days)s", p.days);
    var head = p.layer === "area" ? cfg.labels.area : cfg.labels.point;
    return "<strong>" + esc(p.name) + "</strong><br>" + esc(head) + " · " + esc(p.kind) + "<br>" + esc(when);
  }
  fetch(cfg.data, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var areas = data.features.filter(function (f) { return f.properties.layer === "area"; });
      var points = data.features.filter(function (f) { return f.properties.layer === "point"; });
      var areaLayer = L.geoJSON({ type: "FeatureCollection", features: areas }, {
        style: function (f) {
          return { color: "#555", weight: 1, fillColor: f.properties.colour, fillOpacity: 0.55 };
        },
        onEachFeature: function (f, layer) { layer.bindPopup(popup(f.properties)); }
      }).addTo(map);
      var pointLayer = L.geoJSON({ type: "FeatureCollection", features: points }, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {
            radius: 5, color: "#222", weight: 1, fillColor: f.properties.colour, fillOpacity: 0.95
          });
        },
        onEachFeature: function (f, layer) { layer.bindPopup(popup(f.properties)); }
      }).addTo(map);
      var bounds = areaLayer.getBounds();
      if (!bounds.isValid()) bounds = pointLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
      document.getElementById("coverage-map").setAttribute("data-features", String(data.features.length));
    });
})();
