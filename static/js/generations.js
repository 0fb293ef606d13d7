/* The history page (/generations): view a generation, compare two, roll back.
 * Values from data are shown with textContent only. */
/* global L */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var CHANGE_COLOURS = { added: "#2ca02c", removed: "#d62728", geometry: "#7b2cbf", attributes: "#ff7f0e" };

  function GeoappGenerations(map, cfg) {
    var $ = function (id) { return document.getElementById(id); };
    var L_ = cfg.labels;
    var say = window.GeoappHttp.fill; // a translated label with its values
    var base = L.featureGroup().addTo(map);
    var changes = L.featureGroup().addTo(map);
    function url(name, id) { return cfg.urls[name].replace("__ID__", String(id)); }
    function status(text, error) {
      $("gen-status").textContent = text || "";
      $("gen-status").className = "editor-status" + (error ? " error" : " ok");
    }
    function getJSON(u) {
      return fetch(u, { headers: { Accept: "application/json" } }).then(function (r) {
        return r.json().then(function (d) { return { ok: r.ok, data: d }; });
      });
    }

    function view(id) {
      getJSON(url("draft", id)).then(function (r) {
        if (!r.ok) { status(r.data.message, true); return; }
        base.clearLayers();
        changes.clearLayers();
        L.geoJSON(r.data.areas, {
          style: { color: "#1d3557", weight: 1, fillOpacity: 0.15 },
          onEachFeature: function (f, layer) {
            layer.bindTooltip(el("span", {}, f.id + " " + (f.properties.name || "") + " · " +
              (f.properties.responsible_unit_id || "")).outerHTML, { sticky: true });
          },
        }).addTo(base);
        document.querySelectorAll("tr[data-generation]").forEach(function (tr) {
          tr.classList.toggle("shown", tr.dataset.generation === String(id));
        });
        status(say(L_.generation_n, { id: id }));
        document.body.dataset.viewed = String(id);
      });
    }

    function compare(a, b) {
      getJSON(cfg.urls.compare + "?a=" + encodeURIComponent(a) + "&b=" + encodeURIComponent(b)).then(function (r) {
        if (!r.ok) { status(r.data.message, true); return; }
        changes.clearLayers();
        var rows = $("compare-rows");
        rows.replaceChildren();
        r.data.changes.forEach(function (c) {
          var tr = el("tr", { class: "compare-" + c.change.split("+")[0] });
          var before = c.before || {}, after = c.after || {};
          [c.area_id, L_.changes[c.change] || c.change,
            (before.responsible_unit_id || "-") + " → " + (after.responsible_unit_id || "-"),
            (before.district_id || "-") + " → " + (after.district_id || "-")].forEach(function (v) {
            tr.appendChild(el("td", {}, v));
          });
          rows.appendChild(tr);
        });
        var layer = L.geoJSON(r.data.features, {
          style: function (f) {
            var key = String(f.properties.change || "").split("+")[0];
            return { color: CHANGE_COLOURS[key] || "#7b2cbf", weight: 3, fillOpacity: 0.35 };
          },
        }).addTo(changes);
        if (r.data.changes.length) map.fitBounds(layer.getBounds().pad(0.3));
        $("compare-table").hidden = false;
        status(say(L_.compared, { a: a, b: b, count: r.data.changes.length }));
        document.body.dataset.compared = a + "-" + b;
      });
    }

    document.querySelectorAll("button.view").forEach(function (b) {
      b.addEventListener("click", function () { view(b.dataset.id); });
    });
    document.querySelectorAll("button.rollback").forEach(function (b) {
      b.addEventListener("click", function () {
        if (!window.confirm(L_.confirm_rollback)) return;
        fetch(url("rollback", b.dataset.id), {
          method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: "{}",
        }).then(function (r) {
          return r.json().then(function (d) {
            if (!r.ok) { status(d.message, true); return; }
            status(say(L_.rolled_back_to, { id: d.id, from: d.from, count: d.reassigned }));
            window.setTimeout(function () { window.location.reload(); }, 800);
          });
        });
      });
    });
    $("compare-form").addEventListener("submit", function (e) {
      e.preventDefault();
      compare($("compare-a").value, $("compare-b").value);
    });
    var current = document.querySelector("tr[data-generation] strong");
    view(current ? current.closest("tr").dataset.generation : document.querySelector("tr[data-generation]").dataset.generation);
  }

  window.GeoappGenerations = GeoappGenerations;
})();
