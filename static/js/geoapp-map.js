/* geoapp map layers: districts, contracted areas, units, problem clusters, lookup, search.
 *
 * The folium map is built on the server; this file adds the data layers, fetched from the
 * JSON API so the page stays small whatever the number of problems. Every value taken from
 * the data goes through esc() before it reaches HTML.
 */
(function () {
  "use strict";

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // A time from the API (ISO 8601 with an offset) as every page shows it: Beijing time
  // (UTC+8, no daylight saving), "2024-04-15 08:30"; unreadable text is shown as it is.
  function when(iso) {
    if (!iso) return "";
    var ms = Date.parse(iso);
    if (isNaN(ms)) return String(iso);
    return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16).replace("T", " ");
  }

  // the data functions come from geoapp-prefetch.js, inlined in the page's <head>
  var D = window.GeoappData;
  var query = D.query, getJSON = D.getJSON, prefetched = D.prefetched;
  var areaParams = D.areaParams, initialCluster = D.initialCluster;

  function unitText(name, contact, phone) {
    if (!name) return "—";
    var extra = [contact, phone].filter(Boolean).map(esc).join(" ");
    return esc(name) + (extra ? "（" + extra + "）" : "");
  }

  function row(label, value) {
    return "<tr><th>" + esc(label) + "</th><td>" + value + "</td></tr>";
  }

  // The layer control, always open. Leaflet measures the map and the list to cap the
  // list's height, which forces a layout of the whole page before its first frame; the cap
  // is in geoapp.css instead.
  var PinnedLayers = null;
  var pinnedLayersMethods = {
    _expandIfNotCollapsed: function () {
      if (this._map) {
        L.DomUtil.addClass(this._container, "leaflet-control-layers-expanded");
        this._checkDisabledLayers();
      }
      return this;
    },
  };

  function GeoappMap(map, cfg) {
    if (window.performance && performance.mark) performance.mark("geoapp-start");
    var Coverage = GeoappCanvas.Coverage(), Dots = GeoappCanvas.Dots();
    var L_ = cfg.labels;
    var filters = cfg.filters || {};
    var extra = cfg.display_crs ? { display_crs: cfg.display_crs } : {};
    var statusColours = cfg.status_colours;
    var statusLabels = cfg.status_labels;
    var pending = 0;
    var ready = { districts: false, areas: false, units: false, problems: false };

    // districts, areas and problems share one canvas, in that order: far quicker to draw
    // than hundreds of SVG paths, and each canvas is a window-sized bitmap to allocate and
    // composite
    map.createPane("data").style.zIndex = 390;
    var canvas = L.canvas({ pane: "data" });

    var districtLayer = L.featureGroup();
    // district names (always) and area names (from street zoom on), never overlapping
    var names = new (GeoappLabels.Names())().addTo(map);
    var labelLayer = names.group("districts");
    var areaNames = names.group("areas");
    var areaLayer = L.featureGroup();
    var unitLayer = L.featureGroup();
    var problemLayer = L.featureGroup();
    var highlight = L.featureGroup().addTo(map);

    function status(text, isError) {
      var box = document.getElementById("map-status");
      if (!box) return;
      box.textContent = text || "";
      box.className = isError ? "map-status error" : "map-status";
    }

    function markReady(part) {
      if (window.performance && performance.mark) performance.mark("geoapp-" + part);
      ready[part] = true;
      if (ready.districts && ready.areas && ready.units && ready.problems) {
        document.body.setAttribute("data-map-ready", "1");
      }
    }

    function fail(part) {
      return function (err) {
        status(window.GeoappHttp.fill(L_.load_failed_because, { error: err.message }), true);
        markReady(part);
      };
    }

    // The first answers of the four layers are applied together, in one task, once all have
    // come (or failed), in the order they were asked for: the canvas is then drawn once and
    // the names placed once for all of them, not again as each answer arrives.
    // together(answer, apply, failed) → a promise settled once apply (or failed, on an
    // error) has run.
    var together = (function (count) {
      var slots = [];
      function runAll() {
        names.batch(function () {
          slots.forEach(function (slot) {
            try {
              if (slot.ok) slot.apply(slot.value);
              else slot.failed(slot.value);
            } catch (err) {
              slot.failed(err);
            }
          });
        });
        slots.forEach(function (slot) { slot.done(); });
      }
      return function (answer, apply, failed) {
        var slot = { apply: apply, failed: failed };
        slots.push(slot);
        return new Promise(function (done) {
          slot.done = done;
          answer.then(function (value) { slot.ok = true; slot.value = value; },
            function (err) { slot.ok = false; slot.value = err; })
            .then(function () {
              slot.settled = true;
              if (slots.length === count && slots.every(function (x) { return x.settled; })) runAll();
            });
        });
      };
    })(cfg.show_districts !== false ? 4 : 3);

    function scope(params) {
      var out = Object.assign({}, params, extra);
      if (cfg.scope) Object.assign(out, cfg.scope);
      return out;
    }

    // --- districts and contracted areas: one canvas, districts underneath -------------------
    var districtShapes = new Coverage({
      renderer: canvas,
      style: function (f) {
        return { color: f.properties.colour, weight: 3, fillColor: f.properties.colour, fillOpacity: 0.16 };
      },
      tooltip: function (f) {
        var p = f.properties;
        return "<b>" + esc(p.name) + "</b><br>" + esc(L_.lead_colon) + unitText(p.lead_unit_name, p.lead_unit_contact, p.lead_unit_phone);
      },
    });
    var areaShapes = new Coverage({
      renderer: canvas,
      style: function () { return cfg.area_style || { color: "#444", weight: 0.8, fillOpacity: 0 }; },
      hover: { weight: 2.5, color: "#000" },
      tooltip: function (f) {
        var p = f.properties;
        return "<table class='area-tip'>" +
          row(L_.area, esc(p.name)) +
          row(L_.kind, esc(p.kind_label || p.kind)) +
          row(L_.district, esc(p.district_name)) +
          row(L_.responsible, esc(p.responsible_unit_name)) +
          row(L_.contact, [p.contact, p.phone].filter(Boolean).map(esc).join(" ")) +
          "</table>";
      },
    });
    // switched off and on again in the layer control, a layer goes back to its place:
    // districts, then areas, under the problems
    function restack() {
      if (areaShapes._map) areaShapes.bringToBack();
      if (districtShapes._map) districtShapes.bringToBack();
    }
    districtShapes.on("add", restack);
    areaShapes.on("add", restack);
    if (cfg.show_districts !== false) {
      districtShapes.addTo(districtLayer);
      together(getJSON(cfg.urls.districts + query(scope({}))), function (fc) {
        districtShapes.setData(fc);
        var labels = [];
        fc.features.forEach(function (f) {
          var p = f.properties, box = districtShapes.featureBounds(f);
          var at = p.label_point ? L.latLng(p.label_point[1], p.label_point[0]) : box && box.getCenter();
          if (!at) return;  // no geometry, no label point
          labels.push({
            key: "district:" + p.id, lat: at.lat, lon: at.lng,
            className: "district-label", border: p.colour,
            html: esc(p.name) + "<br><small>" + esc(p.lead_unit_name) + "</small>",
            priority: 1e15 + (p.area_count || 0),
          });
        });
        names.setGroup("districts", labels);
        markReady("districts");
      }, fail("districts"));
      districtLayer.addTo(map);
      labelLayer.addTo(map);
    } else {
      markReady("districts");
    }

    areaShapes.addTo(areaLayer);
    together(getJSON(cfg.urls.areas + query(areaParams(cfg))), function (fc) {
      areaShapes.setData(fc);
      names.setGroup("areas", fc.features.filter(function (f) { return f.properties.label_point; }).map(function (f) {
        var p = f.properties;
        return {
          key: "area:" + p.id, lon: p.label_point[0], lat: p.label_point[1],
          className: "area-label", html: esc(p.name),
          priority: p.area_m2 || 0, minZoom: cfg.area_label_zoom || 16,
        };
      }));
      if (cfg.fit_areas && areaShapes.featureCount()) map.fitBounds(areaShapes.getBounds(), { padding: [20, 20] });
      markReady("areas");
    }, fail("areas"));
    areaLayer.addTo(map);
    areaNames.addTo(map);

    // --- units ------------------------------------------------------------------------------
    together(getJSON(cfg.urls.units + query(extra)), function (fc) {
      fc.features.forEach(function (f) {
        var p = f.properties;
        if (cfg.unit_ids ? cfg.unit_ids.indexOf(p.id) < 0 : p.kind !== "lead") return;
        var c = f.geometry.coordinates;
        var icon = L.divIcon({ className: "unit-icon", html: "<span class='unit-flag'>★</span>", iconSize: [22, 22], iconAnchor: [11, 11] });
        L.marker([c[1], c[0]], { icon: icon, title: p.name })
          .bindTooltip(esc(p.name) + "（" + esc(p.kind_label || p.kind) + "）")
          .bindPopup("<b>" + esc(p.name) + "</b><br>" + esc(p.kind_label || p.kind) + "<br>" + unitText(p.contact, p.phone, "") +
            "<br><a href='" + esc(cfg.urls.unit_page.replace("__ID__", encodeURIComponent(p.id))) + "'>" + esc(L_.unit_page) + "</a>")
          .addTo(unitLayer);
      });
      markReady("units");
    }, fail("units"));
    unitLayer.addTo(map);

    // --- problems: clusters from the server -----------------------------------------------------
    var loadSeq = 0;
    function problemPopup(id, latlng) {
      getJSON(cfg.urls.problem.replace("__ID__", id) + query(extra)).then(function (f) {
        var p = f.properties;
        // an overdue problem says so, in the colour its dot is drawn in (the dot is dark red
        // while the status alone, "assigned", would be orange)
        var chip = function (colour, text) {
          return " <span class='status-chip' style='background:" + esc(colour || "#777") + "'>" + esc(text) + "</span>";
        };
        var html = "<div class='problem-popup'><h3>" + esc(p.category_label || p.category) +
          chip(statusColours[p.status], p.status_label || statusLabels[p.status] || p.status) +
          (p.overdue ? chip(statusColours.overdue, L_.overdue) : "") + "</h3>" +
          "<p>" + esc(p.description) + "</p><table>" +
          row(L_.round, esc(p.round)) +
          row(L_.deduction, esc(p.deduction)) +
          row(L_.reported_at, esc(when(p.reported_at))) +
          row(L_.due_at, p.due_at ? esc(when(p.due_at)) : esc(L_.no_deadline)) +
          row(L_.area, esc(p.area_name || L_.unassigned)) +
          row(L_.responsible, esc(p.responsible_unit_name || "—")) +
          row(L_.lead, esc(p.lead_unit_name || "—")) +
          // no area, no rule: "none (the area's unit)" would name a unit that is not there
          row(L_.rule, esc(p.rule_id || (p.area_id ? L_.no_rule : "—"))) +
          row(L_.generation, esc(p.generation)) +
          "</table>" +
          (cfg.urls.problem_page ? "<p><a class='problem-page-link' href='" + esc(cfg.urls.problem_page.replace("__ID__", encodeURIComponent(p.id))) + "'>" + esc(L_.problem_page) + "</a></p>" : "") +
          "</div>";
        L.popup({ maxWidth: 340, className: "problem-popup-wrap" }).setLatLng(latlng).setContent(html).openOn(map);
      }).catch(function (err) { status(err.message, true); });
    }

    // the cluster answers after the first are fetched, parsed and made into dots by a Web
    // Worker (geoapp-clusters.js): only the finished dots reach the main thread. Started at
    // the first of those answers, not while the page loads (the first answer needs none).
    var clusterWorker;
    function workerForClusters() {
      if (clusterWorker === undefined) {
        clusterWorker = window.GeoappClusters ? GeoappClusters.worker(cfg.urls.clusters_worker) : null;
      }
      return clusterWorker;
    }
    function showProblems(out) {
      dots.setData(out.dots);
      var counter = document.getElementById("problem-count");
      if (counter) counter.textContent = String(out.numberFiltered !== undefined ? out.numberFiltered : out.total);
      document.body.setAttribute("data-problems-shown", String(out.total));
      markReady("problems");
    }
    function loadProblems(first) {
      var seq = ++loadSeq;
      var b = map.getBounds().pad(0.25);
      var params = scope(Object.assign({}, filters, {
        zoom: map.getZoom(),
        bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(","),
      }));
      var url = cfg.urls.clusters + query(params);
      var answer;
      if (first === true && cfg.bounds && prefetched[initialCluster(cfg, map.getZoom())]) {
        // asked for by the page's head before any script had loaded: prepared here
        answer = getJSON(initialCluster(cfg, map.getZoom())).then(function (fc) {
          return GeoappClusters.prepare(fc, statusColours);
        });
      } else if (workerForClusters()) {
        answer = clusterWorker.ask(url, statusColours);
      } else {
        answer = getJSON(url).then(function (fc) { return GeoappClusters.prepare(fc, statusColours); });
      }
      pending++;
      var show = function (out) {
        if (out && seq === loadSeq) showProblems(out);
      };
      var failed = function (err) {
        if (seq === loadSeq) fail("problems")(err);
      };
      // the first answer is drawn with the other layers' first answers
      var shown = first === true ? together(answer, show, failed) : answer.then(show).catch(failed);
      shown.then(function () { pending--; });
    }
    // clusters (click: zoom in) and single problems (click: the problem's popup)
    var dots = new Dots({
      renderer: canvas,
      tooltip: function (d) {
        if (d.count === 1) return d.worst === "overdue" ? esc(L_.overdue) : "";
        var parts = (d.ring || []).map(function (r) {
          return esc(r.name === "overdue" ? L_.overdue : r.name === "other" ? L_.other : statusLabels[r.name] || r.name) + " " + esc(r.value);
        });
        return esc(d.count) + " " + esc(L_.problems) + (parts.length ? "<br>" + parts.join("<br>") : "");
      },
      click: function (d) {
        var at = L.latLng(d.lat, d.lon);
        if (d.count === 1) problemPopup(d.id, at);
        else map.setView(at, Math.min(map.getZoom() + 2, map.getMaxZoom()));
      },
    }).addTo(problemLayer);
    problemLayer.addTo(map);
    map.on("moveend", function () { loadProblems(false); });
    loadProblems(true);

    // --- who is responsible here? -------------------------------------------------------------
    if (cfg.urls.lookup) {
      map.on("click", function (e) {
        var params = { lon: e.latlng.lng.toFixed(7), lat: e.latlng.lat.toFixed(7) };
        if (cfg.display_crs) params.crs = cfg.display_crs;
        getJSON(cfg.urls.lookup + query(params)).then(function (d) {
          var body;
          if (!d.area) {
            body = "<b class='outside'>" + esc(L_.outside) + "</b>";
          } else {
            var ru = d.responsible_unit || {}, lu = d.lead_unit || {};
            body = "<table class='lookup'>" +
              row(L_.area, esc(d.area.name) + "（" + esc(d.area.kind_label || d.area.kind) + "）") +
              row(L_.district, esc(d.district && d.district.name)) +
              "<tr><th>" + esc(L_.responsible) + "</th><td class='responsible-unit'>" + unitText(ru.name, ru.contact, ru.phone) + "</td></tr>" +
              row(L_.lead, unitText(lu.name, lu.contact, lu.phone)) +
              row(L_.generation, esc(d.generation)) + "</table>";
          }
          L.popup({ className: "lookup-popup" }).setLatLng(e.latlng).setContent(body).openOn(map);
        }).catch(function (err) { status(err.message, true); });
      });
    }

    // --- layer control, search --------------------------------------------------------------------
    var overlays = {};
    if (cfg.show_districts !== false) {
      overlays[L_.districts] = districtLayer;
      overlays[L_.district_labels] = labelLayer;
    }
    overlays[L_.areas] = areaLayer;
    overlays[L_.area_labels] = areaNames;
    overlays[cfg.units_label || L_.units_layer] = unitLayer;
    overlays[L_.problems_layer] = problemLayer;
    PinnedLayers = PinnedLayers || L.Control.Layers.extend(pinnedLayersMethods);
    new PinnedLayers(cfg.base_layers || null, overlays, { collapsed: false, position: "topright" }).addTo(map);

    var input = document.getElementById("map-search");
    var results = document.getElementById("map-search-results");
    if (input && results && cfg.urls.search) {
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        var q = input.value.trim();
        if (!q) { results.innerHTML = ""; return; }
        timer = setTimeout(function () {
          getJSON(cfg.urls.search + query(Object.assign({ q: q }, extra))).then(function (items) {
            results.innerHTML = items.length ? "" : "<li class='empty'>" + esc(L_.no_match) + "</li>";
            items.forEach(function (it) {
              var li = document.createElement("li");
              li.innerHTML = "<span class='kind'>" + esc(it.label || it.type) + "</span> " + esc(it.name);
              li.addEventListener("click", function () {
                var b = it.bbox;
                highlight.clearLayers();
                if (b[0] === b[2] && b[1] === b[3]) {
                  map.setView([b[1], b[0]], 17);
                  L.circleMarker([b[1], b[0]], { radius: 14, color: "#ff0", weight: 4, fill: false, interactive: false }).addTo(highlight);
                } else {
                  map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: 17 });
                  L.rectangle([[b[1], b[0]], [b[3], b[2]]], { color: "#ff0", weight: 3, fill: false, interactive: false }).addTo(highlight);
                }
                results.innerHTML = "";
              });
              results.appendChild(li);
            });
          }).catch(function (err) { status(err.message, true); });
        }, 200);
      });
    }

    // --- filters: the URL is the state, so a link shares the view -------------------------------------
    var form = document.getElementById("filters");
    if (form) {
      form.addEventListener("change", function () {
        var data = new FormData(form);
        var next = {};
        data.forEach(function (value, key) {
          if (value === "") return;
          (next[key] = next[key] || []).push(value);
        });
        filters = next;
        var url = window.location.pathname + query(next);
        window.history.replaceState(null, "", url);
        document.querySelectorAll("a[data-keep-filters]").forEach(function (a) {
          a.href = a.getAttribute("data-base") + query(next);
        });
        loadProblems();
      });
      var reset = document.getElementById("filters-reset");
      if (reset) {
        reset.addEventListener("click", function (e) {
          e.preventDefault();
          form.reset();
          Array.prototype.forEach.call(form.elements, function (el) {
            if (el.tagName === "SELECT") el.selectedIndex = -1;
            if (el.type === "date") el.value = "";
          });
          form.dispatchEvent(new Event("change"));
        });
      }
    }

    return {
      reload: loadProblems,
      map: map,
      layers: { districts: districtLayer, areas: areaLayer, units: unitLayer, problems: problemLayer },
      // the canvas layers themselves: drawn features and dots, for tests and tools
      shapes: { districts: districtShapes, areas: areaShapes, problems: dots },
      // the names on the map (district and area labels, placed without overlaps)
      names: names,
    };
  }

  window.GeoappMap = GeoappMap;
  window.geoappEscape = esc;
})();
