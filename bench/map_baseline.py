"""bench_map's baseline: a plain folium page with the points in a ``FastMarkerCluster``, offline.

geoapp vendors only what its own pages load (``scripts/install-assets``), so the files a
plain folium page needs (Leaflet.markercluster, jQuery, Bootstrap, Font Awesome,
Leaflet.awesome-markers) are not in ``static/vendor``. They are ``devDependencies`` in
``package.json`` instead: ``npm ci`` (run by ``scripts/install-assets``) puts them in
``node_modules``, and the baseline's own little app serves them from there under
:data:`PREFIX`. geoapp never serves them.

:func:`render_page` saves folium's page as folium writes it and replaces each CDN link in
:data:`CDN_FILES` by its local copy. Two of folium's stylesheets exist only on a CDN
(Bootstrap 3's glyphicons and folium's ``leaflet.awesome.rotate`` CSS, icon styles a
FastMarkerCluster page never shows): their ``<link>`` is removed and the result says so.
A CDN link not in the table, or a page that would still load anything from another host,
raises :class:`BaselineError`: the baseline runs offline or not at all.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / "node_modules"
PREFIX = "/bench-vendor"

#: folium 0.20's CDN links (folium.Map and the marker-cluster plugin) → files in node_modules
#: (``None``: CDN-only icon stylesheet, left out).
CDN_FILES: dict[str, str | None] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/dist/js/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.js": "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.css": "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": None,
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/dist/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
}
#: the npm packages the baseline app may serve (fonts and images their CSS refers to too)
PACKAGES = frozenset(
    "/".join(rel.split("/")[:2]) if rel.startswith("@") else rel.split("/")[0]
    for rel in CDN_FILES.values()
    if rel
)
_TAG = r"<(?:script|link)\b[^>]*?(?:src|href)=\"{url}\"[^>]*>(?:\s*</script>)?"


class BaselineError(RuntimeError):
    """The baseline page cannot run offline."""


def missing_files(root: Path = NODE_MODULES) -> list[str]:
    """The files of :data:`CDN_FILES` not in ``root`` (``scripts/install-assets`` not run)."""
    return sorted(rel for rel in CDN_FILES.values() if rel and not (root / rel).is_file())


def localise(html: str) -> tuple[str, list[str]]:
    """``html`` with every known CDN link pointing under :data:`PREFIX` (CDN-only icon
    stylesheets removed), and the removed URLs. :class:`BaselineError` if anything would
    still be loaded from another host."""
    from geoapp.web.assets import external_urls

    dropped = []
    for url, rel in CDN_FILES.items():
        if url not in html:
            continue
        if rel is None:
            html, count = re.subn(_TAG.format(url=re.escape(url)), "", html)
            if count:
                dropped.append(url)
        else:
            html = html.replace(f'"{url}"', f'"{PREFIX}/{rel}"')
    # in a process where geoapp.web.assets.make_folium_offline() has run, folium's Leaflet
    # links already point at geoapp's static/vendor/<npm package>/<path>: the same layout
    # as node_modules, served by the baseline app instead
    html = html.replace('"/static/vendor/', f'"{PREFIX}/')
    outside = external_urls(html)
    if outside:
        raise BaselineError(
            "the folium baseline page would load from the internet (folium upgraded? add the "
            "file to bench/map_baseline.py CDN_FILES and package.json devDependencies): "
            + ", ".join(outside)
        )
    return html, dropped


def render_page(points: list[list[float]], bounds, folder: Path) -> tuple[Path, dict]:
    """Save folium's FastMarkerCluster page for ``points`` ([lat, lon]) in ``folder``,
    made local; the path and facts about it."""
    import folium
    from folium.plugins import FastMarkerCluster

    missing = missing_files()
    if missing:
        raise BaselineError(
            "the folium baseline needs npm's devDependencies (run scripts/install-assets): "
            "missing node_modules/" + ", node_modules/".join(missing)
        )
    start = time.perf_counter()
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=14, tiles=None)
    m.options["max_zoom"] = 19
    FastMarkerCluster(data=points).add_to(m)
    html, dropped = localise(m.get_root().render())
    path = folder / "folium_fastmarkercluster.html"
    path.write_text(html, encoding="utf-8")
    return path, {
        "points": len(points),
        "render_s": round(time.perf_counter() - start, 2),
        "assets": f"node_modules (package.json devDependencies) under {PREFIX}",
        "left_out_cdn_only_css": dropped,
    }


def make_app(html_file: Path, root: Path = NODE_MODULES):
    """The baseline's WSGI app: the saved page at ``/``, :data:`PACKAGES` from ``root``
    under :data:`PREFIX`, nothing else."""
    from flask import Flask, abort, send_file, send_from_directory

    app = Flask("bench_map_baseline", static_folder=None)

    @app.get("/")
    def index():
        return send_file(html_file, mimetype="text/html")

    @app.get(PREFIX + "/<path:rel>")
    def vendor(rel: str):
        parts = rel.split("/")
        package = "/".join(parts[:2]) if rel.startswith("@") else parts[0]
        if package not in PACKAGES:
            abort(404)
        return send_from_directory(root, rel)

    return app
