/* geoapp map names: district and area labels that never overlap (geoapp-map.js).
 *
 * Every label has a place (lat/lon), a priority and the zoom from which it is shown. After
 * each zoom or pan (once, on 'moveend'), the labels whose place is in view are taken in order of priority
 * (districts first, then areas by size) and each is shown only if its box meets no box
 * already shown: the greedy placement of map labelling. Boxes are measured once per label
 * (one layout for all new labels of a pass), so a pass costs a sort-free scan of the labels
 * in view. The HTML of a label is made by the caller, who escapes the data in it.
 *
 * GeoappLabels.Names() makes the layer class on first use (after Leaflet has loaded):
 *   var names = new (GeoappLabels.Names())().addTo(map);
 *   names.setGroup("areas", [{key, lat, lon, html, className, border, priority, minZoom}]);
 *   names.group("areas")  → a layer for the layer control that shows/hides that group
 *   names.batch(fn)       → fn sets several groups; the labels are placed once, after it
 */
(function () {
  "use strict";

  var GAP = 2;  // pixels kept clear around every label

  var namesMethods = {
    options: { pane: "names" },

    initialize: function (options) {
      L.setOptions(this, options);
      this._groups = {};     // name → {labels: [...], on: bool}
      this._all = [];        // every label, by priority, highest first
      this._shown = [];      // keys of the labels shown by the last pass
      this._last = [];       // the last pass's candidates, with their boxes
    },

    onAdd: function (map) {
      if (!map.getPane(this.options.pane)) {
        var pane = map.createPane(this.options.pane);
        pane.style.zIndex = 450;  // over the data canvas, under the markers and popups
        pane.style.pointerEvents = "none";
      }
      this._container = L.DomUtil.create("div", "map-names", map.getPane(this.options.pane));
      this._place();
    },

    onRemove: function () {
      L.DomUtil.remove(this._container);
      this._all.forEach(function (label) { label.el = null; });
      this._container = null;
    },

    // One placement per change of view: Leaflet ends every zoom, pan and setView with
    // 'moveend' (after 'zoomend' and before 'viewreset', which would each place the same
    // view again: two or three passes over every label for one move).
    getEvents: function () {
      return { zoomstart: this._hide, moveend: this._place, resize: this._place };
    },

    // Replace a group's labels; a group is shown unless switched off with its toggle.
    setGroup: function (name, labels) {
      var group = this._groups[name] || (this._groups[name] = { labels: [], on: true });
      group.labels.forEach(function (label) { if (label.el) L.DomUtil.remove(label.el); });
      group.labels = labels.map(function (label, i) {
        return L.extend({ minZoom: 0, priority: 0, order: i, group: name }, label, { el: null, w: 0, h: 0 });
      });
      this._sort();
      this._place();
      return this;
    },

    // Run fn (which may set several groups) and place the labels once, after it: one
    // measuring layout for all the new labels instead of one per group.
    batch: function (fn) {
      this._held = (this._held || 0) + 1;
      try {
        fn();
      } finally {
        this._held--;
      }
      this._place();
      return this;
    },

    // A layer for the layer control: on the map, the group's labels compete for space.
    group: function (name) {
      var self = this;
      var group = this._groups[name] || (this._groups[name] = { labels: [], on: true });
      if (!group.toggle) {
        group.toggle = new (L.Layer.extend({
          onAdd: function () { group.on = true; self._place(); },
          onRemove: function () { group.on = false; self._place(); },
        }))();
      }
      return group.toggle;
    },

    // the keys of the labels shown, highest priority first (for tests and tools)
    shown: function () { return this._shown.slice(); },

    // the last pass's labels whose place was in view: {key, priority, shown, box} with the
    // box (gap included) in the map container's pixels (for tests and tools)
    candidates: function () { return this._last.slice(); },

    _sort: function () {
      var all = [];
      Object.keys(this._groups).forEach(function (name) { all = all.concat(this._groups[name].labels); }, this);
      // higher priority first; equal ones in a fixed order (group, then as given)
      all.sort(function (a, b) {
        return b.priority - a.priority || (a.group < b.group ? -1 : a.group > b.group ? 1 : a.order - b.order);
      });
      this._all = all;
    },

    _hide: function () {
      if (this._container) this._container.style.display = "none";
    },

    _place: function () {
      var map = this._map;
      if (!map || !this._container || this._held) return;
      this._container.style.display = "";
      var zoom = map.getZoom(), view = map.getBounds(), groups = this._groups;
      var size = map.getSize(), topLeft = map.containerPointToLayerPoint([0, 0]);
      var screen = [topLeft.x, topLeft.y, topLeft.x + size.x, topLeft.y + size.y];
      var candidates = this._all.filter(function (label) {
        var wanted = groups[label.group].on && zoom >= label.minZoom && view.contains([label.lat, label.lon]);
        if (!wanted && label.el) label.el.style.display = "none";
        return wanted;
      });
      // new labels into the page hidden, then all measured in one layout
      var fresh = candidates.filter(function (label) { return !label.el; });
      fresh.forEach(function (label) {
        var outer = L.DomUtil.create("div", "map-name", this._container);
        outer.innerHTML = "<div class='" + (label.className || "area-label") + "'>" + label.html + "</div>";
        if (label.border) outer.firstChild.style.borderColor = label.border;
        outer.setAttribute("data-key", label.key);
        outer.style.visibility = "hidden";
        label.el = outer;
      }, this);
      fresh.forEach(function (label) {
        var inner = label.el.firstChild;
        label.w = inner.offsetWidth;
        label.h = inner.offsetHeight;
      });
      var placed = [], shown = [], last = [];
      candidates.forEach(function (label) {
        var p = map.latLngToLayerPoint([label.lat, label.lon]);
        var box = [p.x - label.w / 2 - GAP, p.y - label.h / 2 - GAP, p.x + label.w / 2 + GAP, p.y + label.h / 2 + GAP];
        // wholly on screen (a name cut by the edge reads as another), and clear of the others
        var fits = box[0] >= screen[0] && box[1] >= screen[1] && box[2] <= screen[2] && box[3] <= screen[3];
        for (var i = 0; fits && i < placed.length; i++) {
          var q = placed[i];
          if (box[0] < q[2] && box[2] > q[0] && box[1] < q[3] && box[3] > q[1]) fits = false;
        }
        last.push({ key: label.key, priority: label.priority, shown: fits, box: [box[0] - screen[0], box[1] - screen[1], box[2] - screen[0], box[3] - screen[1]] });
        if (fits) {
          placed.push(box);
          shown.push(label.key);
          L.DomUtil.setPosition(label.el, p);
          label.el.style.display = "";
          label.el.style.visibility = "";
        } else {
          label.el.style.display = "none";
        }
      });
      this._shown = shown;
      this._last = last;
      this.fire("placed", { shown: shown });
    },
  };

  var made = null;
  window.GeoappLabels = {
    Names: function () {
      made = made || L.Layer.extend(namesMethods);
      return made;
    },
  };
})();
