"""Domain data → a folium map. Never reads the request.

The map's HTML carries no data: districts, areas, units and problem clusters are fetched
from the JSON API by static/js/geoapp-map.js, which escapes every value it shows. The page
stays the same size whatever the number of problems.
"""

from __future__ import annotations

import folium
from branca.element import MacroElement, Template
from folium.plugins import Fullscreen, GeoMan

from geoapp.core.model import STATUSES
from geoapp.core.palette import (  # noqa: F401 (the map's colours, re-exported)
    DISTRICT_COLOURS,
    OVERDUE_COLOUR,
    STATUS_COLOURS,
    URGENCY_COLOURS,
)
from geoapp.web.assets import PAGE_RESOURCES, check_offline

MAX_ZOOM = 19


class GeoappLayers(MacroElement):
    """The data layers, drawn by static/js/geoapp-map.js from the JSON API.

    The page loads that script itself (after Leaflet, with geoapp-canvas.js); its data
    requests start earlier, from an inline script in the page's <head> (see
    templates/map_base.html).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
window.geoappMap = GeoappMap({{ this._parent.get_name() }}, {{ this.config|tojson }});
{% endmacro %}
""")

    def __init__(self, config: dict):
        super().__init__()
        self._name = "GeoappLayers"
        self.config = config


class PageHook(MacroElement):
    """Hands the Leaflet map to a page's own script: ``window[name] = fn(map, config)``,
    e.g. static/js/report.js's ``ReportPage``."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.{{ this.target }} = {{ this.function }}({{ this._parent.get_name() }}, {{ this.config|tojson }});
{% endmacro %}
""")

    def __init__(self, function: str, config: dict, target: str = "pageMap"):
        super().__init__()
        self._name = "PageHook"
        self.function = function
        self.config = config
        self.target = target


def page_map(
    bounds,
    function: str,
    config: dict,
    **basemap,
) -> folium.Map:
    """A small map for a form or a detail page, driven by the page's own script
    (``basemap``: the keyword arguments of :func:`base_map`, as for every map here)."""
    m = base_map(bounds, **basemap)
    PageHook(function, config).add_to(m)
    return m


class LeanMap(folium.Map):
    """A folium Map that loads Leaflet alone (the resources geoapp.web.assets.PAGE_RESOURCES
    lists for folium.Map): the pages use neither jQuery, Bootstrap, Font Awesome nor
    awesome-markers, those are not vendored, and every extra file delays the first data
    request."""

    def render(self, **kwargs):
        keep = PAGE_RESOURCES["folium.folium:Map"] or ()
        self.default_js = [js for js in folium.Map.default_js if js[0] in keep]
        self.default_css = [css for css in folium.Map.default_css if css[0] in keep]
        super().render(**kwargs)


def base_map(
    bounds,
    tiles_url: str = "",
    tiles_attribution: str = "",
    basemap_label: str = "",
    native_zoom: int | None = None,
):
    """An empty folium map fitted to ``bounds`` (minx, miny, maxx, maxy), no basemap unless
    a tile URL is configured; above ``native_zoom`` (a tile package's deepest zoom) the
    basemap's tiles are drawn enlarged."""
    minx, miny, maxx, maxy = bounds
    m = LeanMap(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=14,
        tiles=None,
        control_scale=True,
        max_zoom=MAX_ZOOM,
        prefer_canvas=False,
    )
    m.options["max_zoom"] = MAX_ZOOM  # no tile layer carries it when there is no basemap
    if tiles_url:
        folium.TileLayer(
            tiles=tiles_url,
            attr=tiles_attribution or "basemap",
            name=basemap_label or "basemap",
            max_zoom=MAX_ZOOM,
            **({"max_native_zoom": native_zoom} if native_zoom is not None else {}),
        ).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    Fullscreen(position="topleft").add_to(m)
    return m


def responsibility_map(
    bounds,
    config: dict,
    **basemap,
) -> folium.Map:
    """The coordinators' map: districts, areas, units and problems come from the API."""
    m = base_map(bounds, **basemap)
    GeoappLayers(config).add_to(m)
    return m


class EditorLayers(MacroElement):
    """The boundary editor's layers and tools, run by static/js/editor.js (GeoMan edits the
    feature group ``group``)."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.geoappEditor = GeoappEditor({{ this._parent.get_name() }},
    {{ this.group.get_name() }}, {{ this.config|tojson }});
{% endmacro %}
""")

    def __init__(self, group, config: dict):
        super().__init__()
        self._name = "EditorLayers"
        self.group = group
        self.config = config


def editor_map(
    bounds,
    config: dict,
    **basemap,
):
    """The planners' map: a draft's areas in a feature group that GeoMan edits with snapping;
    the toolbar is the page's own (split, add, reassign, …), so GeoMan's is hidden."""
    m = base_map(bounds, **basemap)
    group = folium.FeatureGroup(name="areas", control=False).add_to(m)
    GeoMan(
        position="topleft",
        feature_group=group,
        drawControls=False,
        editControls=False,
        customControls=False,
    ).add_to(m)
    EditorLayers(group, config).add_to(m)
    return m


class GenerationsLayers(MacroElement):
    """The history page's map, run by static/js/generations.js."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.geoappGenerations = GeoappGenerations({{ this._parent.get_name() }},
    {{ this.config|tojson }});
{% endmacro %}
""")

    def __init__(self, config: dict):
        super().__init__()
        self._name = "GenerationsLayers"
        self.config = config


def generations_map(
    bounds,
    config: dict,
    **basemap,
):
    """A map for viewing one generation or the changes between two."""
    m = base_map(bounds, **basemap)
    GenerationsLayers(config).add_to(m)
    return m


def map_parts(m: folium.Map) -> dict:
    """Split a folium map into header (CSS/JS links), body and script for a Jinja page.

    Raises :class:`~geoapp.web.assets.UnvendoredAssetError` if the header would load a file
    from the internet (a folium plugin not vendored): pages work with no internet."""
    fig = m.get_root()
    fig.render()
    return {
        "header": check_offline(fig.header.render(), "map's header"),
        "body": fig.html.render(),
        "script": fig.script.render(),
    }


def status_legend() -> list[tuple[str, str, str]]:
    return [(code, STATUSES[code], colour) for code, colour in STATUS_COLOURS.items()]


def urgency_legend() -> list[tuple[str, str, str]]:
    """The map's legend, most urgent first: overdue, then the statuses (overdue in the same
    word as the cluster tooltip, the popup's chip and the ledger: 已超期)."""
    return [("overdue", "已超期", OVERDUE_COLOUR), *status_legend()]
