/* geoapp data loading, inlined into the <head> of map pages (see map_base.html) so that the
 * layers' data requests start while the HTML is still arriving, before any script file has
 * loaded. geoapp-map.js takes the answers from GeoappData.getJSON.
 */
(function () {
  "use strict";

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value === null || value === undefined || value === "") return;
      (Array.isArray(value) ? value : [value]).forEach(function (v) {
        if (v !== "") parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(v));
      });
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  // responses already asked for by GeoappMap.prefetch, by URL
  var prefetched = {};

  function getJSON(url) {
    if (prefetched[url]) {
      var early = prefetched[url];
      delete prefetched[url];
      return early;
    }
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.message || r.status + " " + r.statusText);
        });
      }
      return r.json();
    });
  }


  function layerParams(cfg) {
    var out = {};
    if (cfg.display_crs) out.display_crs = cfg.display_crs;
    return Object.assign(out, cfg.scope || {});
  }

  function areaParams(cfg) {
    // outlines for display: simplified together (shared edges stay shared) to a tolerance
    // far below a pixel at the zooms the map opens at
    var out = layerParams(cfg);
    if (cfg.area_simplify) out.simplify = cfg.area_simplify;
    return out;
  }

  function initialCluster(cfg, zoom) {
    // the first problem request covers the whole data extent (and more), so it can be
    // asked for before the map exists
    var b = cfg.bounds, padX = (b[2] - b[0]) * 0.5, padY = (b[3] - b[1]) * 0.5;
    var params = Object.assign({}, layerParams(cfg), cfg.filters || {}, {
      zoom: zoom,
      bbox: [b[0] - padX, b[1] - padY, b[2] + padX, b[3] + padY].map(function (v) { return v.toFixed(6); }).join(","),
    });
    return cfg.urls.clusters + query(params);
  }

  function fitZoom(cfg, width, height) {
    // the zoom Leaflet's fitBounds picks for cfg.bounds in a width × height map
    function x(lon) { return (lon + 180) / 360 * 256; }
    function y(lat) {
      var s = Math.sin(lat * Math.PI / 180);
      return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256;
    }
    var b = cfg.bounds;
    var scale = Math.min(width / (x(b[2]) - x(b[0])), height / (y(b[1]) - y(b[3])));
    return Math.max(0, Math.min(cfg.max_zoom || 19, Math.floor(Math.log(scale) / Math.LN2)));
  }

  // Called from the page's <head>: start the data requests before the body is parsed.
  function prefetch(cfg) {
    var params = query(layerParams(cfg));
    if (cfg.show_districts !== false) prefetched[cfg.urls.districts + params] = getJSON(cfg.urls.districts + params);
    var aParams = query(areaParams(cfg));
    prefetched[cfg.urls.areas + aParams] = getJSON(cfg.urls.areas + aParams);
    var unitParams = query(cfg.display_crs ? { display_crs: cfg.display_crs } : {});
    prefetched[cfg.urls.units + unitParams] = getJSON(cfg.urls.units + unitParams);
    if (cfg.map_size && cfg.bounds) {
      var zoom = fitZoom(cfg, window.innerWidth - cfg.map_size[0], window.innerHeight - cfg.map_size[1]);
      var url = initialCluster(cfg, zoom);
      prefetched[url] = getJSON(url);
    }
  }

  window.GeoappData = {
    query: query,
    getJSON: getJSON,
    layerParams: layerParams,
    areaParams: areaParams,
    initialCluster: initialCluster,
    prefetch: prefetch,
    prefetched: prefetched,
  };
})();
