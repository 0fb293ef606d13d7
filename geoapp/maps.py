"""Domain data → a folium map. Never reads the request; every label is escaped here.

Large layers (problems) are fetched by the page from the JSON API; the HTML carries only
the districts, the areas' outlines and the units.
"""

from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import shapely
from branca.element import MacroElement, Template

from .domain import AREA_KINDS, STATUSES

DISTRICT_COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324"]
STATUS_COLOURS = {
    "reported": "#d62728",
    "assigned": "#ff7f0e",
    "rectifying": "#e6b800",
    "rectified": "#1f77b4",
    "verified": "#2ca02c",
}


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def district_shapes(
    areas: gpd.GeoDataFrame, districts: list[dict], units: dict
) -> gpd.GeoDataFrame:
    """Districts as the union of their areas, with name, lead unit and colour."""
    meta = {d["district_id"]: d for d in districts}
    rows, geoms = [], []
    for i, (did, group) in enumerate(areas.groupby("district_id", sort=True)):
        d = meta.get(did, {})
        lead = units.get(d.get("lead_unit_id"), {})
        rows.append(
            {
                "district_id": did,
                "name": d.get("name") or did,
                "lead_unit_id": d.get("lead_unit_id"),
                "lead_unit": lead.get("name"),
                "colour": DISTRICT_COLOURS[i % len(DISTRICT_COLOURS)],
                "areas": len(group),
            }
        )
        geoms.append(shapely.union_all(group.geometry.values))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


class ClickLookup(MacroElement):
    """Click the map: ask /api/lookup who is responsible and show it in a popup."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function(map) {
  var labels = {{ this.labels|tojson }};
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function(c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function unit(u) {
    if (!u) return "—";
    return esc(u.name) + (u.contact ? "（" + esc(u.contact) + (u.phone ? " " + esc(u.phone) : "") + "）" : "");
  }
  map.on("click", function(e) {
    var url = "{{ this.url }}?lon=" + e.latlng.lng.toFixed(7) + "&lat=" + e.latlng.lat.toFixed(7);
    fetch(url, {headers: {"Accept": "application/json"}}).then(function(r) { return r.json(); })
      .then(function(d) {
        var body;
        if (!d.area) {
          body = "<b>" + esc(labels.outside) + "</b>";
        } else {
          body = "<table class='lookup'>" +
            "<tr><th>" + esc(labels.area) + "</th><td>" + esc(d.area.name) + "（" + esc(d.area.kind_label || d.area.kind) + "）</td></tr>" +
            "<tr><th>" + esc(labels.district) + "</th><td>" + esc(d.district.name) + "</td></tr>" +
            "<tr><th>" + esc(labels.responsible) + "</th><td class='responsible-unit'>" + unit(d.responsible_unit) + "</td></tr>" +
            "<tr><th>" + esc(labels.lead) + "</th><td>" + unit(d.lead_unit) + "</td></tr>" +
            "<tr><th>" + esc(labels.generation) + "</th><td>" + esc(d.generation) + "</td></tr></table>";
        }
        L.popup({className: "lookup-popup"}).setLatLng(e.latlng).setContent(body).openOn(map);
      });
  });
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, url: str, labels: dict):
        super().__init__()
        self._name = "ClickLookup"
        self.url = url
        self.labels = labels


class ProblemLayer(MacroElement):
    """Problem points fetched from the API, drawn as coloured circles on a canvas."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function(map) {
  var colours = {{ this.colours|tojson }};
  var statusLabels = {{ this.status_labels|tojson }};
  var labels = {{ this.labels|tojson }};
  var renderer = L.canvas({padding: 0.5});
  var layer = L.featureGroup().addTo(map);
  window.geoappProblems = layer;
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function(c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  fetch("{{ this.url }}", {headers: {"Accept": "application/geo+json"}})
    .then(function(r) { return r.json(); })
    .then(function(fc) {
      fc.features.forEach(function(f) {
        var p = f.properties, c = f.geometry.coordinates;
        var m = L.circleMarker([c[1], c[0]], {renderer: renderer, radius: 5, weight: 1,
          color: "#333", fillColor: colours[p.status] || "#777", fillOpacity: 0.85});
        m.bindPopup(function() {
          return "<b>" + esc(p.category_label || p.category) + "</b>（" + esc(statusLabels[p.status] || p.status) + "）<br>" +
            esc(p.description) + "<br>" + esc(labels.deduction) + "：" + esc(p.deduction) +
            "　" + esc(p.reported_at) + "<br>" + esc(labels.area) + "：" + esc(p.area_name || labels.unassigned) +
            "<br>" + esc(labels.responsible) + "：" + esc(p.responsible_unit || "—");
        });
        m.addTo(layer);
      });
      document.body.setAttribute("data-problems-loaded", String(fc.features.length));
    });
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, url: str, labels: dict, status_labels: dict):
        super().__init__()
        self._name = "ProblemLayer"
        self.url = url
        self.labels = labels
        self.status_labels = status_labels
        self.colours = STATUS_COLOURS


def responsibility_map(
    areas: gpd.GeoDataFrame,
    districts: list[dict],
    units: list[dict],
    labels: dict,
    problems_url: str | None,
    lookup_url: str,
    tiles_url: str = "",
    tiles_attribution: str = "",
) -> folium.Map:
    """The coordinators' map: districts, areas, lead units, problems, click-to-lookup."""
    unit_by_id = {u["unit_id"]: u for u in units}
    if len(areas):
        minx, miny, maxx, maxy = areas.total_bounds
        centre = [(miny + maxy) / 2, (minx + maxx) / 2]
    else:
        centre = [28.23, 114.92]
    m = folium.Map(
        location=centre,
        zoom_start=14,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        max_zoom=19,
    )
    m.options["max_zoom"] = 19  # no tile layer carries it when there is no basemap
    if tiles_url:
        folium.TileLayer(
            tiles=tiles_url,
            attr=tiles_attribution or "basemap",
            name=labels["basemap"],
            max_zoom=19,
        ).add_to(m)
    if len(areas):
        m.fit_bounds([[miny, minx], [maxy, maxx]])
        dist = district_shapes(areas, districts, unit_by_id)
        dist_layer = folium.FeatureGroup(name=labels["districts"])
        for row in dist.itertuples():
            folium.GeoJson(
                shapely.geometry.mapping(row.geometry),
                style_function=lambda _f, c=row.colour: {
                    "color": c,
                    "weight": 3,
                    "fillColor": c,
                    "fillOpacity": 0.18,
                },
                tooltip=folium.Tooltip(
                    f"<b>{esc(row.name)}</b><br>{esc(labels['lead'])}：{esc(row.lead_unit)}"
                ),
            ).add_to(dist_layer)
            point = row.geometry.representative_point()
            folium.Marker(
                [point.y, point.x],
                icon=folium.DivIcon(
                    html=f"<div class='district-label' style='border-color:{row.colour}'>"
                    f"{esc(row.name)}<br><small>{esc(row.lead_unit)}</small></div>",
                    icon_size=(150, 36),
                    icon_anchor=(75, 18),
                ),
            ).add_to(dist_layer)
        dist_layer.add_to(m)
        area_layer = folium.FeatureGroup(name=labels["areas"])
        features = []
        for row in areas.itertuples():
            unit = unit_by_id.get(row.responsible_unit_id, {})
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(row.geometry),
                    "properties": {
                        "name": esc(row.name),
                        "kind": esc(
                            AREA_KINDS.get(row.kind, row.kind) if labels.get("zh") else row.kind
                        ),
                        "unit": esc(unit.get("name", row.responsible_unit_id)),
                        "contact": esc(
                            " ".join(x for x in (unit.get("contact"), unit.get("phone")) if x)
                        ),
                    },
                }
            )
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda _f: {"color": "#555", "weight": 0.8, "fillOpacity": 0.0},
            highlight_function=lambda _f: {"weight": 2.5, "color": "#000"},
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "kind", "unit", "contact"],
                aliases=[labels["area"], labels["kind"], labels["responsible"], labels["contact"]],
            ),
        ).add_to(area_layer)
        area_layer.add_to(m)
    unit_layer = folium.FeatureGroup(name=labels["lead_units"])
    for u in units:
        if u.get("kind") != "lead" or u.get("lon") is None:
            continue
        folium.Marker(
            [u["lat"], u["lon"]],
            tooltip=folium.Tooltip(f"{esc(u['name'])}（{esc(labels['lead'])}）"),
            popup=folium.Popup(
                f"<b>{esc(u['name'])}</b><br>{esc(u.get('contact'))} {esc(u.get('phone'))}",
                max_width=260,
            ),
            icon=folium.Icon(color="darkred", icon="flag"),
        ).add_to(unit_layer)
    unit_layer.add_to(m)
    if problems_url:
        ProblemLayer(problems_url, labels, labels["statuses"]).add_to(m)
    ClickLookup(lookup_url, labels).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def map_parts(m: folium.Map) -> dict:
    """Split a folium map into header (CSS/JS links), body and script for a Jinja page."""
    fig = m.get_root()
    fig.render()
    return {
        "header": fig.header.render(),
        "body": fig.html.render(),
        "script": fig.script.render(),
    }


def status_legend() -> list[tuple[str, str, str]]:
    return [(code, STATUSES[code], colour) for code, colour in STATUS_COLOURS.items()]


def to_json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
