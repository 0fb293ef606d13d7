/* geoapp canvas layers: whole collections drawn as one Leaflet path each on a canvas
 * renderer, for the map pages (geoapp-map.js).
 *
 * Leaflet's own vectors cost an object, a projection, a clip and event bookkeeping per
 * feature and per vertex; with hundreds of areas and problem clusters that work, not the
 * drawing, is most of a map page's first draw. These layers keep coordinates in typed
 * arrays and draw them in a few canvas calls, and still answer the mouse per feature.
 * They rely on L.Canvas's renderer contract (_project/_update/_updatePath/_containsPoint,
 * _requestRedraw, _drawing, _bounds, _redrawBounds) as in Leaflet 1.9 (package.json pins it).
 *
 * The classes are made on first use (GeoappCanvas.Coverage(), GeoappCanvas.Dots()), so
 * this file does not depend on being loaded after Leaflet.
 */
(function () {
  "use strict";

  // A whole GeoJSON collection of polygons (the 253 areas, or the 7 districts) as ONE path
  // on a canvas renderer. The coordinates are projected once into typed arrays (no
  // L.LatLng per vertex) and each zoom only rescales them; features of one style are
  // stroked as a single canvas path. The mouse still meets features, not the layer:
  // hit-testing finds the feature under the pointer (bounding boxes first), so tooltips and
  // the hover outline follow it.
  var coverageMethods = {
    // style: feature → path options (as L.geoJSON's); hover: options laid over the hovered
    // feature's style; tooltip: feature → HTML (escaped by the caller)
    options: { style: null, hover: null, tooltip: null, fill: true },

    initialize: function (options) {
      L.setOptions(this, options);
      this._feats = [];
      this._styles = [];
      this._hit = -1;
      this._hover = -1;
      this._drawn = 0;
      this.on("mouseover mousemove", this._onHover, this);
      this.on("mouseout", this._onLeave, this);
      if (this.options.tooltip) {
        var self = this;
        this.bindTooltip(function () {
          var f = self._feats[self._hit >= 0 ? self._hit : self._hover];
          return f ? self.options.tooltip(f.feature) : "";
        }, { sticky: true });
      }
    },

    // Replace the features (a GeoJSON FeatureCollection); redraws if on a map.
    setData: function (fc) {
      var crs = (this._map && this._map.options.crs) || L.CRS.EPSG3857;
      var unit = unitProjector(crs);
      var styles = [], byKey = {}, feats = [];
      var base = L.extend({}, L.Path.prototype.options, { fill: this.options.fill });
      (fc.features || []).forEach(function (feature) {
        var g = feature.geometry;
        if (!g) return;
        var polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : null;
        if (!polys) return;
        var rings = [], geo = [Infinity, Infinity, -Infinity, -Infinity];
        polys.forEach(function (poly) {
          poly.forEach(function (ring) {
            var xy = new Float64Array(ring.length * 2);
            for (var i = 0; i < ring.length; i++) {
              var lon = ring[i][0], lat = ring[i][1];
              if (lon < geo[0]) geo[0] = lon;
              if (lon > geo[2]) geo[2] = lon;
              if (lat < geo[1]) geo[1] = lat;
              if (lat > geo[3]) geo[3] = lat;
              unit(lon, lat, xy, i * 2);
            }
            rings.push(xy);
          });
        });
        if (!rings.length) return;
        var style = L.extend({}, base, this.options.style ? this.options.style(feature) : {});
        var key = JSON.stringify(style);
        if (byKey[key] === undefined) { byKey[key] = styles.length; styles.push(style); }
        feats.push({ feature: feature, rings: rings, px: rings.map(function (r) { return new Float64Array(r.length); }), pb: [0, 0, 0, 0], geo: geo, style: byKey[key] });
      }, this);
      if (this._map && this._pxBounds) this._renderer._requestRedraw(this);  // clear the old
      if (this._map) this.closeTooltip();
      this._feats = feats;
      this._styles = styles;
      this._hit = this._hover = -1;
      if (this._map) {
        this._project();
        this._renderer._requestRedraw(this);
      }
      return this;
    },

    featureCount: function () { return this._feats.length; },
    // features drawn on screen by the last draw that covered the whole layer
    drawnCount: function () { return this._drawn; },

    getBounds: function () {
      var b = L.latLngBounds([]);
      this._feats.forEach(function (f) { b.extend([[f.geo[1], f.geo[0]], [f.geo[3], f.geo[2]]]); });
      return b;
    },

    getCenter: function () { return this.getBounds().getCenter(); },

    // the feature's own bounds, for labels and zooming
    featureBounds: function (feature) {
      for (var i = 0; i < this._feats.length; i++) {
        var g = this._feats[i].geo;
        if (this._feats[i].feature === feature) return L.latLngBounds([g[1], g[0]], [g[3], g[2]]);
      }
      return null;
    },

    _project: function () {
      var map = this._map;
      if (!map) return;
      var scale = map.options.crs.scale(map.getZoom());
      var o = map.getPixelOrigin(), ox = o.x, oy = o.y;
      var all = [Infinity, Infinity, -Infinity, -Infinity];
      this._feats.forEach(function (f) {
        var pb = f.pb;
        pb[0] = pb[1] = Infinity;
        pb[2] = pb[3] = -Infinity;
        for (var r = 0; r < f.rings.length; r++) {
          var u = f.rings[r], px = f.px[r];
          for (var i = 0; i < u.length; i += 2) {
            var x = u[i] * scale - ox, y = u[i + 1] * scale - oy;
            px[i] = x;
            px[i + 1] = y;
            if (x < pb[0]) pb[0] = x;
            if (x > pb[2]) pb[2] = x;
            if (y < pb[1]) pb[1] = y;
            if (y > pb[3]) pb[3] = y;
          }
        }
        if (pb[0] < all[0]) all[0] = pb[0];
        if (pb[1] < all[1]) all[1] = pb[1];
        if (pb[2] > all[2]) all[2] = pb[2];
        if (pb[3] > all[3]) all[3] = pb[3];
      });
      var w = this._maxWeight() + 1;
      this._pxBounds = this._feats.length
        ? L.bounds([all[0] - w, all[1] - w], [all[2] + w, all[3] + w])
        : null;
    },

    _maxWeight: function () {
      var w = this.options.weight || 0;
      this._styles.concat([this.options.hover || {}]).forEach(function (s) { w = Math.max(w, s.weight || 0); });
      return w;
    },

    _update: function () {},

    _empty: function () { return !this._feats.length; },

    _updatePath: function () {
      var r = this._renderer;
      if (!r._drawing || !this._feats.length) return;
      var ctx = r._ctx, clip = r._redrawBounds, view = r._bounds;
      var v = clip ? [Math.max(clip.min.x, view.min.x), Math.max(clip.min.y, view.min.y), Math.min(clip.max.x, view.max.x), Math.min(clip.max.y, view.max.y)]
        : [view.min.x, view.min.y, view.max.x, view.max.y];
      var pad = this._maxWeight() + 1, self = this, drawn = 0;
      v = [v[0] - pad, v[1] - pad, v[2] + pad, v[3] + pad];
      this._styles.forEach(function (style, s) {
        var shown = self._feats.filter(function (f) {
          return f.style === s && f.pb[2] >= v[0] && f.pb[0] <= v[2] && f.pb[3] >= v[1] && f.pb[1] <= v[3];
        });
        if (!shown.length) return;
        drawn += shown.length;
        if (style.fill && style.fillOpacity > 0) {
          // a visible fill goes feature by feature: even-odd over several features would
          // leave any overlap of two of them unfilled
          var fillOnly = L.extend({}, style, { stroke: false });
          shown.forEach(function (f) {
            ctx.beginPath();
            traceRings(ctx, f.px);
            fillStroke(r, ctx, fillOnly);
          });
        }
        // the outlines as one path
        ctx.beginPath();
        shown.forEach(function (f) { traceRings(ctx, f.px); });
        fillStroke(r, ctx, L.extend({}, style, { fill: false }));
      });
      var hovered = this._feats[this._hover];
      if (hovered && this.options.hover) {
        ctx.beginPath();
        traceRings(ctx, hovered.px);
        fillStroke(r, ctx, L.extend({}, this._styles[hovered.style], { fill: false }, this.options.hover));
      }
      // a draw that covered the whole layer tells how many features are on screen
      var b = this._pxBounds;
      if (!clip || (clip.min.x <= Math.max(b.min.x, view.min.x) && clip.min.y <= Math.max(b.min.y, view.min.y) &&
          clip.max.x >= Math.min(b.max.x, view.max.x) && clip.max.y >= Math.min(b.max.y, view.max.y))) {
        this._drawn = drawn;
      }
    },

    // even-odd over all the feature's rings (holes and parts), as L.Polygon does
    _containsPoint: function (p) {
      this._hit = -1;
      for (var k = this._feats.length - 1; k >= 0; k--) {
        var f = this._feats[k], pb = f.pb;
        if (p.x < pb[0] || p.x > pb[2] || p.y < pb[1] || p.y > pb[3]) continue;
        var inside = false;
        for (var r = 0; r < f.px.length; r++) {
          var a = f.px[r], n = a.length;
          for (var i = 0, j = n - 2; i < n; j = i, i += 2) {
            var yi = a[i + 1], yj = a[j + 1];
            if ((yi > p.y) !== (yj > p.y) && p.x < (a[j] - a[i]) * (p.y - yi) / (yj - yi) + a[i]) inside = !inside;
          }
        }
        if (inside) { this._hit = k; return true; }
      }
      return false;
    },

    _onHover: function () {
      if (this._hit === this._hover) return;
      this._redrawFeature(this._hover);
      this._hover = this._hit;
      this._redrawFeature(this._hover);
      if (this.isTooltipOpen && this.isTooltipOpen()) this.getTooltip().update();
    },

    _onLeave: function () {
      var was = this._hover;
      this._hover = -1;
      this._redrawFeature(was);
    },

    onRemove: function () {
      this._hit = this._hover = -1;
      L.Path.prototype.onRemove.call(this);
    },

    _redrawFeature: function (k) {
      var f = this._feats[k];
      if (!f || !this._renderer || !this.options.hover) return;
      this._renderer._requestRedraw({ _pxBounds: L.bounds([f.pb[0], f.pb[1]], [f.pb[2], f.pb[3]]), options: { weight: this._maxWeight() } });
    },
  };

  // Rings into the canvas path (a GeoJSON ring ends where it starts: closePath does that)
  function traceRings(ctx, rings) {
    for (var r = 0; r < rings.length; r++) {
      var a = rings[r], n = a.length - 2;
      ctx.moveTo(a[0], a[1]);
      for (var i = 2; i < n; i += 2) ctx.lineTo(a[i], a[i + 1]);
      ctx.closePath();
    }
  }

  // Leaflet's own fill and stroke of the current path, with a style's options
  function fillStroke(renderer, ctx, style) {
    renderer._fillStroke(ctx, { options: style });
  }

  // (lon, lat) → the map CRS's zoom-0 pixel position divided by its zoom-0 scale, written
  // into out[i], out[i + 1]: at zoom z a point is that times crs.scale(z), minus the pixel
  // origin. Spherical Mercator (every basemap here) is inlined; other CRSs go through Leaflet.
  function unitProjector(crs) {
    if (crs === L.CRS.EPSG3857) {
      var max = L.Projection.SphericalMercator.MAX_LATITUDE, d = Math.PI / 180, k = 1 / (4 * Math.PI);
      return function (lon, lat, out, i) {
        var s = Math.sin(Math.max(Math.min(max, lat), -max) * d);
        out[i] = lon / 360 + 0.5;
        out[i + 1] = 0.5 - Math.log((1 + s) / (1 - s)) * k;
      };
    }
    var z0 = crs.scale(0);
    return function (lon, lat, out, i) {
      var p = crs.latLngToPoint(L.latLng(lat, lon), 0);
      out[i] = p.x / z0;
      out[i + 1] = p.y / z0;
    };
  }

  // Points as circles (problem clusters with their count written in, single problems) as
  // ONE layer: a hundred-odd circles drawn from an array and hit-tested by distance, where
  // a Leaflet marker each would cost its own object, events and redraw bookkeeping.
  // A dot: {lon, lat, radius, weight, color (outline), fillColor, fillOpacity, label,
  // labelColor, ring: [{color, value}] (an outline split by shares, see _drawRing)}.
  var dotsMethods = {
    // click: (dot, event) → nothing; tooltip: dot → HTML or "" (none)
    options: { click: null, tooltip: null, font: "bold 12px sans-serif" },

    initialize: function (options) {
      L.setOptions(this, options);
      this._dots = [];
      this._hit = -1;
      this._hover = -1;
      this._tip = null;
      this.on("mouseover mousemove", this._onHover, this);
      this.on("mouseout", this._onLeave, this);
      this.on("click", this._onClick, this);
    },

    // dots: [{lon, lat, radius, weight, color, fillColor, fillOpacity, label?, …}] (the
    // caller's own keys stay on each dot); redraws if on a map
    setData: function (dots) {
      var unit = unitProjector((this._map && this._map.options.crs) || L.CRS.EPSG3857);
      var uv = new Float64Array(dots.length * 2);
      dots.forEach(function (d, i) { unit(d.lon, d.lat, uv, i * 2); });
      if (this._map && this._pxBounds) this._renderer._requestRedraw(this);  // clear the old
      this._onLeave();
      this._dots = dots;
      this._uv = uv;
      this._px = new Float64Array(uv.length);
      if (this._map) {
        this._project();
        this._renderer._requestRedraw(this);
      }
      return this;
    },

    dots: function () { return this._dots; },

    // where a dot is drawn, in the map container's pixels (for tests and tools)
    containerPoint: function (dot) {
      return this._map.latLngToContainerPoint([dot.lat, dot.lon]);
    },

    _project: function () {
      var map = this._map;
      if (!map || !this._uv) return;
      var scale = map.options.crs.scale(map.getZoom()), o = map.getPixelOrigin();
      var uv = this._uv, px = this._px, box = [Infinity, Infinity, -Infinity, -Infinity], w = 0;
      for (var i = 0; i < uv.length; i += 2) {
        var x = px[i] = uv[i] * scale - o.x, y = px[i + 1] = uv[i + 1] * scale - o.y;
        var d = this._dots[i / 2], r = d.radius + (d.weight || 0);
        if (r > w) w = r;
        if (x < box[0]) box[0] = x;
        if (x > box[2]) box[2] = x;
        if (y < box[1]) box[1] = y;
        if (y > box[3]) box[3] = y;
      }
      this._pxBounds = this._dots.length ? L.bounds([box[0] - w - 1, box[1] - w - 1], [box[2] + w + 1, box[3] + w + 1]) : null;
    },

    _update: function () {},

    _empty: function () { return !this._dots.length; },

    _updatePath: function () {
      var r = this._renderer;
      if (!r._drawing || !this._dots.length) return;
      var ctx = r._ctx, px = this._px, clip = r._redrawBounds || r._bounds;
      var labels = [];
      ctx.save();
      if (ctx.setLineDash) ctx.setLineDash([]);
      for (var i = 0; i < this._dots.length; i++) {
        var d = this._dots[i], x = px[i * 2], y = px[i * 2 + 1], e = d.radius + (d.weight || 0);
        if (x + e < clip.min.x || x - e > clip.max.x || y + e < clip.min.y || y - e > clip.max.y) continue;
        ctx.beginPath();
        ctx.arc(x, y, d.radius, 0, Math.PI * 2, false);
        if (d.fillOpacity) {
          ctx.globalAlpha = d.fillOpacity;
          ctx.fillStyle = d.fillColor || d.color;
          ctx.fill();
        }
        if (d.weight) {
          ctx.globalAlpha = 1;
          ctx.lineWidth = d.weight;
          ctx.strokeStyle = d.color;
          ctx.stroke();
          if (d.ring && d.ring.length) this._drawRing(ctx, d, x, y);
        }
        if (d.label) labels.push(i);
      }
      // the counts last, in one font: changing it is not free
      ctx.globalAlpha = 1;
      ctx.font = this.options.font;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      labels.forEach(function (i) {
        ctx.fillStyle = this._dots[i].labelColor || "#111";
        ctx.fillText(this._dots[i].label, px[i * 2], px[i * 2 + 1]);
      }, this);
      ctx.restore();
    },

    // d.ring: [{color, value}], drawn clockwise from 12 o'clock over the outline, each
    // segment's angle its share of the values; a segment of one problem among 999 still
    // gets at least a visible sliver (0.25 rad), taken from the largest
    _drawRing: function (ctx, d, x, y) {
      var total = 0, i, angles = [], big = 0;
      for (i = 0; i < d.ring.length; i++) total += d.ring[i].value;
      if (!total) return;
      for (i = 0; i < d.ring.length; i++) {
        angles.push(Math.max((Math.PI * 2 * d.ring[i].value) / total, d.ring.length > 1 ? 0.25 : 0));
        if (angles[i] > angles[big]) big = i;
      }
      var excess = angles.reduce(function (a, b) { return a + b; }, 0) - Math.PI * 2;
      angles[big] -= excess;
      var start = -Math.PI / 2;
      ctx.lineWidth = d.weight;
      for (i = 0; i < d.ring.length; i++) {
        ctx.beginPath();
        ctx.arc(x, y, d.radius, start, start + angles[i], false);
        ctx.strokeStyle = d.ring[i].color;
        ctx.stroke();
        start += angles[i];
      }
    },

    // the topmost (last drawn) dot under the pointer, its outline included
    _containsPoint: function (p) {
      var px = this._px;
      this._hit = -1;
      for (var i = this._dots.length - 1; i >= 0; i--) {
        var d = this._dots[i], dx = px[i * 2] - p.x, dy = px[i * 2 + 1] - p.y, r = d.radius + (d.weight || 0) / 2;
        if (dx * dx + dy * dy <= r * r) { this._hit = i; return true; }
      }
      return false;
    },

    _onHover: function () {
      if (this._hit === this._hover) return;
      this._hover = this._hit;
      var d = this._dots[this._hover], html = d && this.options.tooltip ? this.options.tooltip(d) : "";
      if (!html) { this._closeTip(); return; }
      this._tip = this._tip || L.tooltip({ direction: "top" });
      this._tip.options.offset = [0, -d.radius];
      this._tip.setContent(html);
      this._map.openTooltip(this._tip, [d.lat, d.lon]);
    },

    _onLeave: function () {
      this._hover = -1;
      this._closeTip();
    },

    _closeTip: function () {
      if (this._tip && this._map) this._map.closeTooltip(this._tip);
    },

    _onClick: function (e) {
      var d = this._dots[this._hit];
      if (!d || !this.options.click) return;
      L.DomEvent.stopPropagation(e);  // not a "who is responsible here?" click
      this.options.click(d, e);
    },

    onRemove: function () {
      this._onLeave();
      L.Path.prototype.onRemove.call(this);
    },
  };

  var made = {};
  function make(name, methods) {
    return function () {
      made[name] = made[name] || L.Path.extend(methods);
      return made[name];
    };
  }

  window.GeoappCanvas = {
    Coverage: make("Coverage", coverageMethods),
    Dots: make("Dots", dotsMethods),
  };
})();
