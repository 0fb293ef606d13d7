/* geoapp problem clusters: the server's cluster answer (GeoJSON from /api/problems/clusters)
 * made into the dots geoapp-canvas.js draws, off the page's main thread.
 *
 * One file, two uses:
 * - in the page (inlined before geoapp-map.js) it defines GeoappClusters.prepare (used for
 *   the first answer, which the page's head asked for before any script had loaded) and
 *   GeoappClusters.worker(src), which starts this same file, at URL src, as a dedicated Web
 *   Worker;
 * - in that worker it fetches each answer the page asks for, parses and prepares it there
 *   and posts back only the dots: the download, the JSON parsing and the preparation of a
 *   large answer never hold the main thread while the map is moved.
 * The counts are the server's, untouched: every dot's count is its cluster's "count", and
 * the total is their sum (the page shows the server's numberFiltered when given).
 *
 * Messages: page → worker {seq, url, colours}; worker → page {seq, dots, total,
 * numberFiltered} or {seq, error}. Only the latest seq counts; the page drops older ones.
 */
(function (scope) {
  "use strict";

  // black or white, whichever reads better on a #rrggbb background
  function textOn(hex) {
    var n = parseInt(String(hex).slice(1), 16);
    if (isNaN(n)) return "#111";
    var luma = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
    return luma > 150 ? "#111" : "#fff";
  }

  // a cluster answer (FeatureCollection) → {dots, total, numberFiltered}; colours: status →
  // #rrggbb. A dot takes the colour of its most urgent problem (p.worst: overdue, then open,
  // then closed), never of the most common one: one overdue problem among a hundred closed
  // ones must show; a cluster's ring is split by p.ring, most urgent first.
  function prepare(fc, colours) {
    var total = 0;
    var dots = (fc.features || []).map(function (f) {
      var p = f.properties, c = f.geometry.coordinates;
      total += p.count;
      var worst = p.worst || p.status;
      if (p.count === 1) {
        return {
          lon: c[0], lat: c[1], id: p.id, count: 1, worst: worst,
          radius: worst === "overdue" ? 7 : 6, weight: worst === "overdue" ? 2 : 1, color: "#222",
          fillColor: colours[worst] || "#777", fillOpacity: 0.9,
        };
      }
      var fill = colours[worst] || "#777";
      return {
        lon: c[0], lat: c[1], count: p.count, label: String(p.count), worst: worst,
        ring: (p.ring || []).map(function (r) { return { color: colours[r[0]] || "#777", value: r[1], name: r[0] }; }),
        radius: Math.round(12 + Math.min(12, Math.log(p.count) * 2)),
        weight: 4, color: "#fff", fillColor: fill, fillOpacity: 1, labelColor: textOn(fill),
      };
    });
    return { dots: dots, total: total, numberFiltered: fc.numberFiltered };
  }

  // the API's answer as JSON, or an Error with the API's message
  function fetchJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.message || r.status + " " + r.statusText);
        });
      }
      return r.json();
    });
  }

  if (typeof document === "undefined" && typeof scope.postMessage === "function") {
    // --- in the worker -------------------------------------------------------------------
    scope.onmessage = function (event) {
      var ask = event.data;
      fetchJSON(ask.url).then(function (fc) {
        var out = prepare(fc, ask.colours || {});
        out.seq = ask.seq;
        scope.postMessage(out);
      }).catch(function (err) {
        scope.postMessage({ seq: ask.seq, error: String((err && err.message) || err) });
      });
    };
    return;
  }

  // --- in the page ---------------------------------------------------------------------------
  // A worker running this file (its URL: src) that answers ask(url, colours) with a promise
  // of {dots, total, numberFiltered}; null when the browser cannot start one (the page then
  // prepares answers itself). An ask overtaken by a later one resolves to null at once (the
  // page wants only the latest).
  function worker(src) {
    if (!src || typeof Worker === "undefined") return null;
    var w;
    try {
      w = new Worker(src);
    } catch (e) {
      return null;
    }
    var seq = 0, waiting = null;
    w.onmessage = function (event) {
      var out = event.data;
      if (!waiting || out.seq !== seq) return;
      var done = waiting;
      waiting = null;
      if (out.error !== undefined) done.reject(new Error(out.error));
      else done.resolve(out);
    };
    return {
      ask: function (url, colours) {
        if (waiting) waiting.resolve(null);
        seq++;
        w.postMessage({ seq: seq, url: new URL(url, location.href).href, colours: colours });
        return new Promise(function (resolve, reject) { waiting = { resolve: resolve, reject: reject }; });
      },
      terminate: function () { w.terminate(); },
    };
  }

  scope.GeoappClusters = { prepare: prepare, worker: worker, textOn: textOn };
})(self);
