"""Serve every front-end file locally: folium's CDN links become ``/static/vendor/...`` URLs.

Pages must work with no internet at all. The libraries come from npm (``package.json`` /
``package-lock.json``); ``scripts/install-assets`` copies the files listed below into
``static/vendor/<npm package>/<path inside the package>``; :func:`make_folium_offline`
points folium at them.

* :data:`FOLIUM_ASSETS` maps each known folium/branca CDN URL to a path under ``static/``.
  The URLs are matched exactly, so a folium upgrade that changes one shows up as an
  unknown URL instead of silently loading something else.
* :func:`make_folium_offline` rewrites ``default_js`` / ``default_css`` of every
  ``folium.elements.JSCSSMixin`` subclass (``folium.Map`` and all plugins), and branca's
  colormap legend (which hard-codes d3 v3). The plugins in :data:`SUPPORTED_CLASSES` must be
  fully mapped (else :class:`UnvendoredAssetError`); any other class still pointing at the
  internet is logged once as a warning (or raises with ``strict=True``): add it to
  ``package.json``, ``scripts/install-assets`` and :data:`FOLIUM_ASSETS` before using it.
* :func:`external_urls` finds what an HTML page would fetch from outside; tests assert it
  is empty. :func:`missing_vendor_files` tells whether ``scripts/install-assets`` has run.

Notes on sources (see also ``package.json``):

* folium's HeatMap loads folium's own patched Leaflet.heat build (weights fix), which is not
  on npm; folium ships it inside its Python package (``folium/templates/leaflet_heat.min.js``)
  and ``scripts/install-assets`` copies it from there to ``vendor/folium/``.
* folium's ``bootstrap-glyphicons.css`` (Bootstrap 3.0.0, CDN only) is extracted at install
  time from ``bootstrap@3.4.1`` (npm alias ``bootstrap3``): only ``@font-face`` and the
  ``.glyphicon*`` rules, so it does not clash with Bootstrap 5.
* folium's ``leaflet.awesome.rotate.min.css`` (a file in folium's git repository only) is
  replaced by our own ``static/css/leaflet.awesome.rotate.css``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

VENDOR_PREFIX = "/static/vendor"

# --------------------------------------------------------------------------- local files
# Paths are relative to the static folder; "vendor/..." ones are copied by install-assets.
LEAFLET_JS = "vendor/leaflet/dist/leaflet.js"
LEAFLET_CSS = "vendor/leaflet/dist/leaflet.css"
JQUERY_JS = "vendor/jquery/dist/jquery.min.js"
BOOTSTRAP_JS = "vendor/bootstrap/dist/js/bootstrap.bundle.min.js"
BOOTSTRAP_CSS = "vendor/bootstrap/dist/css/bootstrap.min.css"
GLYPHICONS_CSS = "vendor/bootstrap3/dist/css/bootstrap-glyphicons.css"
FONTAWESOME_CSS = "vendor/@fortawesome/fontawesome-free/css/all.min.css"
AWESOME_MARKERS_JS = "vendor/leaflet.awesome-markers/dist/leaflet.awesome-markers.js"
AWESOME_MARKERS_CSS = "vendor/leaflet.awesome-markers/dist/leaflet.awesome-markers.css"
AWESOME_ROTATE_CSS = "css/leaflet.awesome.rotate.css"  # our own file, committed
MARKERCLUSTER_JS = "vendor/leaflet.markercluster/dist/leaflet.markercluster.js"
MARKERCLUSTER_CSS = "vendor/leaflet.markercluster/dist/MarkerCluster.css"
MARKERCLUSTER_DEFAULT_CSS = "vendor/leaflet.markercluster/dist/MarkerCluster.Default.css"
FULLSCREEN_JS = "vendor/leaflet.fullscreen/Control.FullScreen.js"
FULLSCREEN_CSS = "vendor/leaflet.fullscreen/Control.FullScreen.css"
MOUSEPOSITION_JS = "vendor/leaflet-mouse-position/src/L.Control.MousePosition.js"
MOUSEPOSITION_CSS = "vendor/leaflet-mouse-position/src/L.Control.MousePosition.css"
SEARCH_JS = "vendor/leaflet-search/dist/leaflet-search.min.js"
SEARCH_CSS = "vendor/leaflet-search/dist/leaflet-search.min.css"
DRAW_JS = "vendor/leaflet-draw/dist/leaflet.draw.js"
DRAW_CSS = "vendor/leaflet-draw/dist/leaflet.draw.css"
GEOMAN_JS = "vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js"
GEOMAN_CSS = "vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"
LOCATE_JS = "vendor/leaflet.locatecontrol/dist/L.Control.Locate.min.js"
LOCATE_CSS = "vendor/leaflet.locatecontrol/dist/L.Control.Locate.min.css"
HEAT_JS = "vendor/folium/leaflet_heat.min.js"
MEASURE_JS = "vendor/leaflet-measure/dist/leaflet-measure.js"
MEASURE_CN_JS = "vendor/leaflet-measure/dist/leaflet-measure.cn.js"  # Chinese UI build
MEASURE_CSS = "vendor/leaflet-measure/dist/leaflet-measure.css"
D3_V3_JS = "vendor/d3v3/d3.min.js"  # branca colormap legends
ECHARTS_JS = "vendor/echarts/dist/echarts.min.js"

#: Files for the app's own templates, by name: ``vendor_url("echarts")``.
PAGE_ASSETS: dict[str, str] = {
    "leaflet_js": LEAFLET_JS,
    "leaflet_css": LEAFLET_CSS,
    "jquery": JQUERY_JS,
    "bootstrap_js": BOOTSTRAP_JS,
    "bootstrap_css": BOOTSTRAP_CSS,
    "fontawesome_css": FONTAWESOME_CSS,
    "echarts": ECHARTS_JS,
    "leaflet_measure_cn_js": MEASURE_CN_JS,
}

_D3_V3_CDN = "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"

#: Every folium/branca CDN URL we know, mapped to its local file (relative to ``static/``).
FOLIUM_ASSETS: dict[str, str] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": LEAFLET_JS,
    "https://code.jquery.com/jquery-3.7.1.min.js": JQUERY_JS,
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": JQUERY_JS,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": BOOTSTRAP_JS,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.js": AWESOME_MARKERS_JS,
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": LEAFLET_CSS,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": BOOTSTRAP_CSS,
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": GLYPHICONS_CSS,
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        FONTAWESOME_CSS
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.css": AWESOME_MARKERS_CSS,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": AWESOME_ROTATE_CSS,
    # MarkerCluster, FastMarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "leaflet.markercluster.js": MARKERCLUSTER_JS,
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.css": MARKERCLUSTER_CSS,
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.Default.css": MARKERCLUSTER_DEFAULT_CSS,
    # Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        FULLSCREEN_JS
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        FULLSCREEN_CSS
    ),
    # MousePosition
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/"
    "L.Control.MousePosition.min.js": MOUSEPOSITION_JS,
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/"
    "L.Control.MousePosition.min.css": MOUSEPOSITION_CSS,
    # Search
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js": SEARCH_JS,
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css": SEARCH_CSS,
    # Draw
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": DRAW_JS,
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": DRAW_CSS,
    # GeoMan
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.js": GEOMAN_JS,
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.css": GEOMAN_CSS,
    # LocateControl
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/"
    "L.Control.Locate.min.js": LOCATE_JS,
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/"
    "L.Control.Locate.min.css": LOCATE_CSS,
    # HeatMap
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/"
    "leaflet_heat.min.js": HEAT_JS,
    # MeasureControl
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js": (
        MEASURE_JS
    ),
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css": (
        MEASURE_CSS
    ),
    # branca colormap legends (and folium.Vega, which still needs vega itself)
    _D3_V3_CDN: D3_V3_JS,
}

#: Classes (as ``module:qualname``) that must be fully local; an unknown URL in one of these
#: means folium changed a CDN link and the mapping above needs updating.
SUPPORTED_CLASSES: frozenset[str] = frozenset(
    {
        "folium.folium:Map",
        "folium.plugins.marker_cluster:MarkerCluster",
        "folium.plugins.fast_marker_cluster:FastMarkerCluster",
        "folium.plugins.fullscreen:Fullscreen",
        "folium.plugins.mouse_position:MousePosition",
        "folium.plugins.search:Search",
        "folium.plugins.draw:Draw",
        "folium.plugins.geoman:GeoMan",
        "folium.plugins.locate_control:LocateControl",
        "folium.plugins.heat_map:HeatMap",
        "folium.plugins.measure_control:MeasureControl",
    }
)


class UnvendoredAssetError(RuntimeError):
    """A folium class would load a file from the internet and we have no local copy."""


# --------------------------------------------------------------------------- URL helpers
def static_url(rel: str, prefix: str = VENDOR_PREFIX) -> str:
    """URL of ``rel`` (a path under ``static/``) given the URL of ``static/vendor``."""
    prefix = prefix.rstrip("/")
    if rel.startswith("vendor/"):
        return f"{prefix}/{rel[len('vendor/') :]}"
    return f"{posixpath.dirname(prefix)}/{rel}"


def vendor_url(name: str, prefix: str = VENDOR_PREFIX) -> str:
    """URL for a :data:`PAGE_ASSETS` name (or a path under ``static/``)."""
    return static_url(PAGE_ASSETS.get(name, name), prefix)


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


# --------------------------------------------------------------------------- rewriting
_ORIGINALS: dict[type, dict[str, list[tuple[str, str]]]] = {}
_STATE: dict[str, object] = {"prefix": None, "classes": 0, "left": []}
_WARNED: set[tuple[str, str]] = set()


def _class_key(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _jscss_classes() -> list[type]:
    import folium.plugins  # noqa: F401  (imports folium and defines every plugin class)
    from folium.elements import JSCSSMixin

    seen: dict[type, None] = {}
    todo = [JSCSSMixin]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen[sub] = None
                todo.append(sub)
    return list(seen)


def make_folium_offline(prefix: str = VENDOR_PREFIX, *, strict: bool = False) -> list[str]:
    """Point folium (and branca legends) at local copies of their JS/CSS files.

    Safe to call many times: the original CDN lists are remembered, so calling again with
    another ``prefix`` re-targets the links; a repeated call with the same prefix is cheap.
    Returns the external URLs still left (classes we do not vendor), sorted.

    Raises :class:`UnvendoredAssetError` if a class in :data:`SUPPORTED_CLASSES` (or, with
    ``strict=True``, any class) refers to a URL not in :data:`FOLIUM_ASSETS`.
    """
    classes = _jscss_classes()
    cached = _STATE["prefix"] == prefix and _STATE["classes"] == len(classes)
    if cached and not (strict and _STATE["left"]):
        return list(_STATE["left"])  # type: ignore[call-overload]

    left: dict[str, list[str]] = {}  # url -> class keys
    unknown_supported: list[str] = []
    plan: list[tuple[type, str, list[tuple[str, str]]]] = []
    for cls in classes:
        if cls not in _ORIGINALS:
            _ORIGINALS[cls] = {
                attr: list(cls.__dict__[attr])
                for attr in ("default_js", "default_css")
                if attr in cls.__dict__
            }
        key = _class_key(cls)
        for attr, original in _ORIGINALS[cls].items():
            rewritten = []
            for name, url in original:
                if url in FOLIUM_ASSETS:
                    url = static_url(FOLIUM_ASSETS[url], prefix)
                elif _is_remote(url):
                    if key in SUPPORTED_CLASSES:
                        unknown_supported.append(f"{key} {attr} {name}: {url}")
                    left.setdefault(url, []).append(key)
                rewritten.append((name, url))
            plan.append((cls, attr, rewritten))

    # raise before touching anything, so a failed call leaves folium as it was
    if unknown_supported:
        raise UnvendoredAssetError(
            "folium refers to CDN files geoapp.web.assets does not know (folium upgraded?); "
            "pin the library in package.json, copy it in scripts/install-assets and map the "
            "URL in geoapp.web.assets.FOLIUM_ASSETS:\n  " + "\n  ".join(unknown_supported)
        )
    if strict and left:
        raise UnvendoredAssetError(
            "folium classes without local files: "
            + "; ".join(f"{', '.join(v)} -> {u}" for u, v in sorted(left.items()))
        )
    for cls, attr, rewritten in plan:
        setattr(cls, attr, rewritten)
    fresh = [(u, k) for u, ks in sorted(left.items()) for k in ks if (u, k) not in _WARNED]
    if fresh:
        _WARNED.update(fresh)
        users = sorted({k.rsplit(":", 1)[1] for _, k in fresh})
        log.warning(
            "folium classes %s still load files from the internet (no local copy): do not "
            "use them in pages, or vendor them first (package.json, scripts/install-assets, "
            "geoapp/web/assets.py)",
            ", ".join(users),
        )

    _patch_branca_colormap()
    _STATE.update(prefix=prefix, classes=len(classes), left=sorted(left))
    return sorted(left)


def _patch_branca_colormap() -> None:
    """branca's ColorMap.render() adds d3 v3 from cdnjs to the page header; swap it."""
    from branca.colormap import ColorMap
    from branca.element import JavascriptLink

    if getattr(ColorMap.render, "_geoapp_offline", False):
        return
    original = ColorMap.render

    def render(self, **kwargs):
        original(self, **kwargs)
        header = self.get_root().header
        link = header._children.get("d3")
        prefix = _STATE["prefix"] or VENDOR_PREFIX
        if link is not None and getattr(link, "url", None) == _D3_V3_CDN:
            header.add_child(JavascriptLink(static_url(D3_V3_JS, str(prefix))), name="d3")

    render._geoapp_offline = True  # type: ignore[attr-defined]
    render.__wrapped__ = original  # type: ignore[attr-defined]
    ColorMap.render = render


# --------------------------------------------------------------------------- checking
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# XML namespace URIs (inline SVG in data: URIs, xmlns attributes) are names, not requests.
_NAMESPACE_HOSTS = frozenset({"www.w3.org", "w3.org"})

_URLCHARS = r"[^\"'`\s<>)\\]+"
_ABS = rf"(?:https?:)?//[A-Za-z0-9\[]{_URLCHARS}"
_TAG_RE = re.compile(
    r"<(script|link|img|iframe|frame|source|embed|audio|video|track|input|object)\b([^>]*)>",
    re.IGNORECASE,
)
_ATTR_RE = re.compile(
    r"""\s(src|href|data|poster|srcset)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""",
    re.IGNORECASE,
)
_RESOURCE_ATTRS = {
    "link": {"href"},
    "object": {"data"},
    "video": {"src", "poster"},
    "img": {"src", "srcset"},
    "source": {"src", "srcset"},
}
_CSS_URL_RE = re.compile(r"""url\(\s*(["']?)\s*([^"')\s]+)""", re.IGNORECASE)
# url(data:...) with its payload (which may hold quotes, parens and url(#id) of its own)
_CSS_DATA_URL_RE = re.compile(
    r"""url\(\s*(?:"data:(?:[^"\\]|\\.)*"|'data:(?:[^'\\]|\\.)*'|data:[^)]*)\s*\)""",
    re.IGNORECASE,
)
_CSS_IMPORT_RE = re.compile(r"""@import\s+(["'])([^"']+)\1""", re.IGNORECASE)
_JS_TEMPLATE_RE = re.compile(r"""(["'`])((?:https?:)?//[^"'`\s]*\{[zxy]\}[^"'`\s]*)\1""")
_JS_CALL_RE = re.compile(
    r"(?:tileLayer(?:\.wms)?|imageOverlay|videoOverlay|fetch|getJSON|getScript|importScripts"
    r"|Worker|realtime|ajax|load)\s*\(\s*([\"'`])(" + _ABS + r")\1"
)
_JS_URL_PROP_RE = re.compile(r"""\b(?:url|src|href)\s*:\s*(["'`])(""" + _ABS + r")\1")
_DATA_HTML_RE = re.compile(r"data:text/html[^,\"'\s]*;base64,([A-Za-z0-9+/=]+)", re.IGNORECASE)


def _unescape_js(text: str) -> str:
    return (
        text.replace('\\"', '"')
        .replace("\\'", "'")
        .replace("\\/", "/")
        .replace("\\u003c", "<")
        .replace("\\u003e", ">")
        .replace("\\u0026", "&")
        .replace("&quot;", '"')
        .replace("&#34;", '"')
        .replace("&#39;", "'")
    )


def _scan(text: str, found: dict[str, None], depth: int = 0) -> None:
    for tag, attrs in _TAG_RE.findall(text):
        wanted = _RESOURCE_ATTRS.get(tag.lower(), {"src"})
        for attr, *values in _ATTR_RE.findall(attrs):
            if attr.lower() not in wanted:
                continue
            value = next((v for v in values if v), "")
            parts = value.split(",") if attr.lower() == "srcset" else [value]
            for part in parts:
                url = part.strip().split(" ")[0]
                if url:
                    found.setdefault(url, None)
    no_data = _CSS_DATA_URL_RE.sub("url()", text)
    for regex in (_CSS_URL_RE, _CSS_IMPORT_RE, _JS_TEMPLATE_RE, _JS_CALL_RE, _JS_URL_PROP_RE):
        for match in regex.finditer(no_data if regex is _CSS_URL_RE else text):
            url = match.group(2)
            if url.lower().startswith(("data:", "#", "about:", "blob:", "javascript:")):
                continue
            found.setdefault(url, None)
    if depth < 3:
        for payload in _DATA_HTML_RE.findall(text):
            try:
                inner = base64.b64decode(payload).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                continue
            _scan(inner, found, depth + 1)
            _scan(_unescape_js(inner), found, depth + 1)


def resource_urls(html: str) -> list[str]:
    """URLs the page would load: ``<script src>``, ``<link href>``, ``<img src>``..., CSS
    ``url()`` and ``@import``, tile/overlay/fetch URLs in inline JS, recursing into
    ``data:text/html;base64`` iframes. In order of first appearance, without duplicates.
    ``data:`` URIs and ``#fragment`` references are left out."""
    found: dict[str, None] = {}
    _scan(html, found)
    _scan(_unescape_js(html), found)
    return [u for u in found if not u.lower().startswith(("data:", "#", "javascript:"))]


def _host(url: str) -> str | None:
    try:
        return urlsplit("http:" + url if url.startswith("//") else url).hostname
    except ValueError:
        return "?"


def external_urls(html: str) -> list[str]:
    """Every http(s) or protocol-relative URL the page would load from a host other than
    127.0.0.1 / localhost (XML namespace URIs such as www.w3.org do not count)."""
    out = []
    for url in resource_urls(html):
        if not _is_remote(url):
            continue
        host = (_host(url) or "").lower()
        if host in _LOCAL_HOSTS or host in _NAMESPACE_HOSTS:
            continue
        out.append(url)
    return out


def local_files() -> list[str]:
    """All files (relative to ``static/``) that the mapping and :data:`PAGE_ASSETS` use."""
    return sorted(set(FOLIUM_ASSETS.values()) | set(PAGE_ASSETS.values()))


def _css_refs(css_file: Path) -> Iterable[str]:
    text = css_file.read_text(encoding="utf-8", errors="replace")
    text = _CSS_DATA_URL_RE.sub("url()", re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL))
    for match in _CSS_URL_RE.finditer(text):
        ref = match.group(2)
        if ref.lower().startswith(("data:", "#", "about:")) or _is_remote(ref):
            continue
        ref = unquote(ref.split("#", 1)[0].split("?", 1)[0])
        if ref and not ref.startswith("/"):
            yield ref


def missing_vendor_files(static_dir: str | Path) -> list[str]:
    """Files (relative to ``static_dir``) the mapping needs that are not there, including the
    fonts and images the mapped CSS files refer to. Empty once ``scripts/install-assets``
    has run."""
    static_dir = Path(static_dir)
    missing: set[str] = set()
    for rel in local_files():
        path = static_dir / rel
        if not path.is_file():
            missing.add(rel)
            continue
        if path.suffix == ".css":
            for ref in _css_refs(path):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), ref))
                if not (static_dir / target).is_file():
                    missing.add(target)
    return sorted(missing)
