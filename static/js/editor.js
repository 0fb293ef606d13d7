/* The boundary editor (/editor): a draft generation's areas on a Leaflet map with GeoMan.
 *
 * Every change is one request to the JSON API carrying the draft's version; the answer is the
 * whole draft, redrawn. A 409 (someone else saved first) keeps the change and offers to apply
 * it again on the current version. Values from data are shown with textContent only.
 */
/* global L */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fill(select, options, value, empty) {
    select.replaceChildren();
    if (empty !== undefined) select.appendChild(el("option", { value: "" }, empty));
    options.forEach(function (o) {
      var opt = el("option", { value: o[0] }, o[1] ? o[0] + " " + o[1] : o[0]);
      if (o[0] === value) opt.selected = true;
      select.appendChild(opt);
    });
  }

  function colour(key) {
    var h = 0;
    String(key || "").split("").forEach(function (c) { h = (h * 31 + c.charCodeAt(0)) % 360; });
    return "hsl(" + h + ",60%,45%)";
  }

  function GeoappEditor(map, group, cfg) {
    var L_ = cfg.labels;
    var say = window.GeoappHttp.fill; // a translated label with its values
    var $ = function (id) { return document.getElementById(id); };
    var state = null;
    var layers = {};
    var selected = null;
    var mode = null; // null | "split" | "add"
    var dragStart = null;
    // the pointer's last event (its release ends a corner drag: where the corner is dropped)
    var dragPointer = null;
    var dragEndedAt = 0; // the browser's click that ends a drag must not drop the selection
    var pendingOp = null;
    var findingsLayer = L.featureGroup().addTo(map);
    var previewLayer = L.featureGroup().addTo(map);
    var areaLabels = {};

    var SNAP_PX = 20; // GeoMan snaps a dragged corner onto a corner or an edge this close
    map.pm.setGlobalOptions({ snappable: true, snapDistance: SNAP_PX, allowSelfIntersection: true });

    function status(text, kind) {
      var box = $("editor-status");
      box.textContent = text || "";
      box.className = "editor-status" + (kind ? " " + kind : "");
    }

    function api(method, url, body) {
      var init = { method: method, headers: { Accept: "application/json" } };
      if (body instanceof FormData) {
        init.body = body;
      } else if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      // a non-JSON answer (a proxy's error page) or no answer at all is a failure the page
      // reports as "not saved", never a silent hang on "saving…"
      function failed(code) {
        return { ok: false, status: code, data: { error: "no_answer", message: L_.not_saved.replace("__S__", String(code)) } };
      }
      return fetch(url, init).then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; },
          function () { return failed(r.status); });
      }, function () { return failed(0); });
    }

    function url(name, id) { return cfg.urls[name].replace("__ID__", String(id)); }

    // --- drawing the draft ------------------------------------------------------------------
    function render(next) {
      state = next;
      var gen = state.generation;
      $("draft-title").textContent = say(L_.draft_title, { id: gen.id, version: gen.version });
      $("btn-undo").disabled = !state.can_undo;
      $("btn-redo").disabled = !state.can_redo;
      document.body.dataset.draftVersion = String(gen.version);
      var keep = selected;
      group.clearLayers();
      layers = {};
      areaLabels = {};
      L.geoJSON(state.areas, {
        style: function (f) {
          return { color: "#333", weight: 1, fillColor: colour(f.properties.responsible_unit_id), fillOpacity: 0.35 };
        },
        onEachFeature: function (f, layer) {
          layer.areaId = f.id;
          layers[f.id] = layer;
          areaLabels[f.id] = f.properties;
          layer.bindTooltip(function () {
            var p = f.properties;
            return el("span", {}, f.id + " " + (p.name || "") + " · " + (p.responsible_unit_id || L_.no_unit)).outerHTML;
          }, { sticky: true });
          layer.on("click", function (e) {
            if (mode) return;
            L.DomEvent.stopPropagation(e);
            select(f.id);
          });
        },
      }).eachLayer(function (layer) { group.addLayer(layer); });
      selected = null;
      if (keep && layers[keep]) select(keep);
      else showSelection();
      document.body.dataset.editorReady = "1";
      checks();
    }

    function load(id) {
      return api("GET", url("draft", id)).then(function (r) {
        if (!r.ok) { status(r.data.message, "error"); return; }
        render(r.data);
      });
    }

    // --- selection and the vertex drag --------------------------------------------------------
    function select(id) {
      if (selected && layers[selected]) {
        layers[selected].pm.disable();
        layers[selected].setStyle({ weight: 1, color: "#333" });
      }
      selected = id;
      var layer = layers[id];
      if (!layer) { showSelection(); return; }
      layer.setStyle({ weight: 3, color: "#d00" });
      layer.bringToFront();
      layer.pm.enable({ snappable: true, allowSelfIntersection: true, draggable: false });
      layer.off("pm:markerdragstart pm:vertexadded pm:markerdragend pm:snapdrag");
      layer.on("pm:markerdragstart", function (e) {
        var ll = e.markerEvent.target.getLatLng();
        dragStart = [ll.lng, ll.lat];
      });
      layer.on("pm:vertexadded", function (e) {
        dragStart = [e.latlng.lng, e.latlng.lat];
      });
      layer.on("pm:markerdragend", function (e) {
        if (!dragStart) return;
        dragEndedAt = Date.now();
        var ll = e.markerEvent.target.getLatLng();
        var from = dragStart, to = [ll.lng, ll.lat];
        var drop = null;
        if (dragPointer) { var p = map.mouseEventToLatLng(dragPointer); drop = [p.lng, p.lat]; }
        dragStart = null;
        dragPointer = null;
        // GeoMan snaps a corner within 20 px onto the nearest corner, and the neighbour holds
        // this very corner: a short drag would snap back onto its own old place.  Dropped
        // more than 3 px away, the planner moved it: it goes where it was dropped.  A busy
        // browser may also leave the marker behind the pointer (the drag can start on the
        // pointer's last move, and the last redraw is dropped at the release): a marker
        // further from the drop than a snap is stale, and the drop is where it goes.
        if (drop && pixels(drop, from) <= 3) to = from;
        else if (drop && (samePoint(to, from) || pixels(to, drop) > SNAP_PX)) to = drop;
        if (samePoint(to, from)) {
          status(L_.drag_back, "error");
          render(state); // the corner is drawn where it is saved
          return;
        }
        edit({ type: "move_vertex", from: from, to: to });
      });
      showSelection();
    }

    function pixels(a, b) {
      return map.latLngToContainerPoint([a[1], a[0]]).distanceTo(map.latLngToContainerPoint([b[1], b[0]]));
    }

    function samePoint(a, b) { return Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9; }

    function neighbours(id) {
      var b = layers[id].getBounds().pad(0.01);
      return Object.keys(layers).filter(function (k) {
        return k !== id && layers[k].getBounds().intersects(b);
      }).sort();
    }

    function showSelection() {
      var panel = $("area-panel");
      panel.hidden = !selected;
      if (!selected) return;
      var p = areaLabels[selected];
      $("area-id").textContent = selected + " " + (p.name || "");
      fill($("area-unit"), cfg.units, p.responsible_unit_id, L_.choose);
      fill($("area-district"), cfg.districts, p.district_id, L_.choose);
      fill($("area-neighbour"), neighbours(selected).map(function (k) {
        return [k, areaLabels[k].name];
      }), null);
    }

    // --- edits ---------------------------------------------------------------------------------
    function edit(op) {
      status(L_.saving);
      return api("POST", url("edits", state.generation.id), { version: state.generation.version, op: op })
        .then(answer.bind(null, op));
    }

    function answer(op, r) {
      if (r.status === 409) {
        pendingOp = r.data.op || op;
        status(L_.conflict.replace("__V__", String(r.data.current_version)), "error");
        $("btn-reapply").hidden = !pendingOp;
        return load(state.generation.id);
      }
      if (!r.ok) {
        status(r.data.error === "unchanged" ? L_.unchanged : r.data.message, "error");
        return load(state.generation.id); // the map shows the saved draft again
      }
      pendingOp = null;
      $("btn-reapply").hidden = true;
      var text = r.data.changed ? say(L_.saved_areas, { areas: r.data.changed.join(", ") }) : L_.saved;
      if (r.data.kept) {
        text += " · " + L_.merge_kept.replace("__ID__", r.data.kept);
        selected = r.data.kept; // the merged area stays selected under the id it keeps
      }
      status(text, "ok");
      render(r.data);
    }

    function undoRedo(which) {
      api("POST", url(which, state.generation.id), { version: state.generation.version })
        .then(answer.bind(null, null));
    }

    // --- validation and the impact preview --------------------------------------------------------
    function checks() {
      var gid = state.generation.id;
      api("GET", url("validation", gid)).then(function (r) {
        if (!r.ok || gid !== state.generation.id) return;
        showFindings(r.data);
      });
      api("GET", url("preview", gid)).then(function (r) {
        if (!r.ok || gid !== state.generation.id) return;
        showPreview(r.data);
      });
    }

    function showFindings(report) {
      findingsLayer.clearLayers();
      var list = $("findings");
      list.replaceChildren();
      $("findings-summary").textContent =
        say(L_.findings_summary, { errors: report.errors, warnings: report.warnings });
      $("btn-publish").dataset.errors = String(report.errors);
      $("btn-publish").dataset.warnings = String(report.warnings);
      report.findings.forEach(function (f) {
        var text = (L_.codes[f.code] || f.code) + (f.area_ids.length ? ": " + f.area_ids.join(", ") : "") +
          (f.area_m2 !== null ? " (" + f.area_m2 + " m²)" : "");
        var li = el("li", { class: f.level }, text);
        li.title = f.message;
        list.appendChild(li);
        var shape = f.geometry ? L.geoJSON(f.geometry, {
          style: { color: f.level === "error" ? "#e00" : "#f90", weight: 3, fillOpacity: 0.5, dashArray: "4" },
        }) : null;
        if (shape) {
          shape.addTo(findingsLayer);
          li.addEventListener("click", function () { map.fitBounds(shape.getBounds().pad(0.5)); });
        } else if (f.area_ids.length) {
          li.addEventListener("click", function () {
            var l = layers[f.area_ids[0]];
            if (l) { map.fitBounds(l.getBounds().pad(0.5)); select(f.area_ids[0]); }
          });
        }
      });
    }

    function showPreview(p) {
      previewLayer.clearLayers();
      $("preview-summary").textContent = say(L_.preview_summary, {
        areas: p.changed_areas.length, problems: p.problems.length, ms: p.server_ms
      });
      var areasList = $("preview-areas");
      areasList.replaceChildren();
      p.changed_areas.forEach(function (c) {
        areasList.appendChild(el("li", {}, c.area_id + " (" + (L_.changes[c.change] || c.change) + ")"));
        var l = layers[c.area_id];
        if (l) L.polygon(l.getLatLngs(), { color: "#7b2cbf", weight: 4, fill: false, interactive: false }).addTo(previewLayer);
      });
      var body = $("preview-problems");
      body.replaceChildren();
      p.problems.forEach(function (q) {
        var tr = el("tr", { class: q.applies ? "" : "kept" });
        [q.problem_id, cfg.status_labels[q.status] || q.status,
          (q.before.responsible_unit_id || "-") + " → " + (q.after.responsible_unit_id || "-"),
          (q.before.area_id || "-") + " → " + (q.after.area_id || "-"),
          (q.before.district_id || "-") + " → " + (q.after.district_id || "-"),
          q.applies ? "" : L_.kept].forEach(function (v) { tr.appendChild(el("td", {}, v)); });
        body.appendChild(tr);
        L.circleMarker([q.lat, q.lon], { radius: 6, color: q.applies ? "#7b2cbf" : "#888", weight: 2, fillOpacity: 0.8 })
          .bindTooltip(el("span", {}, q.problem_id).outerHTML).addTo(previewLayer);
      });
      var units = $("preview-units");
      units.replaceChildren();
      p.units.forEach(function (u) {
        var tr = el("tr");
        [u.unit_id + " " + (u.name || ""), u.problems_before + " → " + u.problems_after,
          u.deduction_before + " → " + u.deduction_after].forEach(function (v) { tr.appendChild(el("td", {}, v)); });
        units.appendChild(tr);
      });
      document.body.dataset.previewReady = String(state.generation.version);
    }

    // every pointer move and the release, seen before Leaflet ends a drag on it: the move that
    // starts a drag and the release count too (a busy browser coalesces the moves of a short
    // drag into the one that starts it)
    ["pointerdown", "pointermove", "pointerup"].forEach(function (type) {
      document.addEventListener(type, function (ev) { dragPointer = ev; }, true);
    });

    // --- drawing lines and new areas ------------------------------------------------------------------
    function startDraw(kind) {
      if (kind === "split" && !selected) { status(L_.select_first, "error"); return; }
      mode = kind;
      status(kind === "split" ? L_.draw_split : L_.draw_area);
      map.pm.enableDraw(kind === "split" ? "Line" : "Polygon", { snappable: true, snapDistance: 20 });
    }

    map.on("pm:create", function (e) {
      var coords = [];
      var latlngs = e.layer.getLatLngs();
      if (Array.isArray(latlngs[0])) latlngs = latlngs[0];
      latlngs.forEach(function (ll) { coords.push([ll.lng, ll.lat]); });
      map.removeLayer(e.layer);
      var kind = mode;
      mode = null;
      if (kind === "split") {
        edit({ type: "split", area_id: selected, line: coords });
      } else if (kind === "add") {
        edit({
          type: "add",
          polygon: coords,
          name: $("new-name").value || undefined,
          responsible_unit_id: $("new-unit").value || undefined,
          district_id: $("new-district").value || undefined,
        });
      }
    });
    // a drag released off the (snapped) corner ends in a click on the map: not a deselect
    map.on("click", function () {
      if (!mode && selected && Date.now() - dragEndedAt > 500) select(null);
    });

    // --- buttons -------------------------------------------------------------------------------------
    $("btn-undo").addEventListener("click", function () { undoRedo("undo"); });
    $("btn-redo").addEventListener("click", function () { undoRedo("redo"); });
    $("btn-reapply").addEventListener("click", function () { if (pendingOp) edit(pendingOp); });
    $("btn-split").addEventListener("click", function () { startDraw("split"); });
    $("btn-add").addEventListener("click", function () { startDraw("add"); });
    $("btn-reassign").addEventListener("click", function () {
      edit({
        type: "reassign",
        area_id: selected,
        responsible_unit_id: $("area-unit").value || undefined,
        district_id: $("area-district").value || undefined,
      });
    });
    $("btn-merge").addEventListener("click", function () {
      edit({ type: "merge", area_id: selected, other_id: $("area-neighbour").value });
    });
    $("btn-delete").addEventListener("click", function () {
      edit({ type: "delete", area_id: selected, neighbour_id: $("area-neighbour").value });
    });
    $("btn-discard").addEventListener("click", function () {
      if (!window.confirm(L_.confirm_discard)) return;
      api("DELETE", url("draft", state.generation.id)).then(function (r) {
        if (r.ok) window.location.href = cfg.urls.editor; else status(r.data.message, "error");
      });
    });

    var dialog = $("publish-dialog");
    $("btn-publish").addEventListener("click", function () {
      var errors = Number($("btn-publish").dataset.errors || 0);
      var warnings = Number($("btn-publish").dataset.warnings || 0);
      $("publish-blocked").hidden = errors === 0;
      $("publish-warnings").hidden = warnings === 0;
      $("publish-confirm").disabled = errors > 0;
      $("publish-error").textContent = "";
      dialog.showModal();
    });
    $("publish-cancel").addEventListener("click", function () { dialog.close(); });
    $("publish-confirm").addEventListener("click", function () {
      api("POST", url("publish", state.generation.id), {
        version: state.generation.version,
        message: $("publish-message").value,
        accept_warnings: $("publish-accept").checked,
        note: $("publish-note").value,
      }).then(function (r) {
        if (!r.ok) { $("publish-error").textContent = r.data.message; return; }
        dialog.close();
        document.body.dataset.published = String(r.data.id);
        status(say(L_.published_summary, { id: r.data.id, count: r.data.reassigned }), "ok");
        window.setTimeout(function () { window.location.href = cfg.urls.generations; }, 1200);
      });
    });

    load(cfg.draft);
    return {
      map: map,
      group: group,
      select: select,
      layers: function () { return layers; },
      state: function () { return state; },
    };
  }

  // the start screen: open drafts, a new draft, an upload
  function GeoappEditorStart(cfg) {
    var $ = function (id) { return document.getElementById(id); };
    function go(r) {
      if (r.ok) window.location.href = cfg.urls.editor + "?draft=" + r.data.generation.id;
      else {
        // the server's message plus the first rows it names (which feature, what is wrong)
        var details = r.data.details ? " — " + r.data.details.slice(0, 5).join("; ") : "";
        $("editor-status").textContent = (r.data.message || "") + details;
      }
    }
    $("btn-new-draft").addEventListener("click", function () {
      fetch(cfg.urls.drafts, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })
        .then(function (r) { return r.json().then(function (d) { go({ ok: r.ok, data: d }); }); });
    });
    $("upload-form").addEventListener("submit", function (e) {
      e.preventDefault();
      fetch(cfg.urls.upload, { method: "POST", body: new FormData(e.target) })
        .then(function (r) { return r.json().then(function (d) { go({ ok: r.ok, data: d }); }); });
    });
  }

  window.GeoappEditor = GeoappEditor;
  window.GeoappEditorStart = GeoappEditorStart;
})();
