/* The small map of the OGC API's HTML pages (geoapp/templates/ogc/): the page's features,
   read from the JSON in #ogc-features, drawn with Leaflet and no basemap (no request leaves
   the server). */
(function () {
  "use strict";
  var box = document.getElementById("ogc-map");
  var source = document.getElementById("ogc-features");
  if (!box || !source || !window.L) {
    return;
  }
  var geometries = JSON.parse(source.textContent).filter(function (g) {
    return g;
  });
  var map = L.map(box, { attributionControl: false });
  var layer = L.geoJSON(geometries, {
    style: { color: "#1f6feb", weight: 2, fillOpacity: 0.15 },
    pointToLayer: function (feature, at) {
      return L.circleMarker(at, { radius: 5, color: "#c2410c", weight: 2, fillOpacity: 0.6 });
    },
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { maxZoom: 17, padding: [12, 12] });
  } else {
    map.setView([0, 0], 1);
  }
})();
