"""Serve every front-end file locally: folium's CDN links become ``/static/vendor/...`` URLs.

Pages must work with no internet at all. The libraries come from npm (``package.json`` /
``package-lock.json``); ``scripts/install-assets`` copies the files listed below into
``static/vendor/<npm package>/<path inside the package>``; :func:`make_folium_offline`
points folium at them.

Only what the pages load is vendored: Leaflet (the templates and every folium map), the
fullscreen control (every folium map) and Leaflet-Geoman (the boundary editor).

* :data:`PAGE_RESOURCES` names the folium resources the pages use (class → resource names):
  of ``folium.Map``'s defaults only Leaflet's JS and CSS (``geoapp.web.maps.LeanMap`` drops
  the rest: jQuery, Bootstrap, Font Awesome, awesome-markers), ``Fullscreen`` and ``GeoMan``.
* :data:`FOLIUM_ASSETS` maps each of their CDN URLs to a path under ``static/``. The URLs are
  matched exactly, so a folium upgrade that changes one raises :class:`UnvendoredAssetError`
  instead of silently loading something else.
* :func:`make_folium_offline` rewrites ``default_js`` / ``default_css`` of every
  ``folium.elements.JSCSSMixin`` subclass; other folium plugins keep their CDN links (logged
  at DEBUG), and :func:`check_offline` refuses a rendered map that would load one, so a page
  that starts using a new plugin fails at once: vendor it first (``package.json``,
  ``scripts/install-assets``, :data:`FOLIUM_ASSETS`, :data:`PAGE_RESOURCES`).
* :func:`external_urls` finds what an HTML page would fetch from outside; tests assert it
  is empty. :func:`missing_vendor_files` tells whether ``scripts/install-assets`` has run.
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
FULLSCREEN_JS = "vendor/leaflet.fullscreen/Control.FullScreen.js"
FULLSCREEN_CSS = "vendor/leaflet.fullscreen/Control.FullScreen.css"
GEOMAN_JS = "vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js"
GEOMAN_CSS = "vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"

#: Files the app's own templates load directly (``url_for('static', ...)``), by name.
PAGE_ASSETS: dict[str, str] = {
    "leaflet_js": LEAFLET_JS,
    "leaflet_css": LEAFLET_CSS,
}

#: The folium CDN URLs the pages' maps use, mapped to their local file (under ``static/``).
FOLIUM_ASSETS: dict[str, str] = {
    # folium.Map (LeanMap keeps only these two of its defaults)
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": LEAFLET_JS,
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": LEAFLET_CSS,
    # Fullscreen (every map)
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        FULLSCREEN_JS
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        FULLSCREEN_CSS
    ),
    # GeoMan (the boundary editor)
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.js": GEOMAN_JS,
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.css": GEOMAN_CSS,
}

#: The folium classes (``module:qualname``) the pages use, with the names of the resources
#: (``default_js`` / ``default_css`` entries) they load; ``None``: all of them. Each must be
#: fully local: an unknown URL among them means folium changed a CDN link.
PAGE_RESOURCES: dict[str, frozenset[str] | None] = {
    "folium.folium:Map": frozenset({"leaflet", "leaflet_css"}),
    "folium.plugins.fullscreen:Fullscreen": None,
    "folium.plugins.geoman:GeoMan": None,
}


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


def _used_by_pages(key: str, name: str) -> bool:
    if key not in PAGE_RESOURCES:
        return False
    names = PAGE_RESOURCES[key]
    return names is None or name in names


def make_folium_offline(prefix: str = VENDOR_PREFIX, *, strict: bool = False) -> list[str]:
    """Point folium at local copies of the JS/CSS files the pages use.

    Safe to call many times: the original CDN lists are remembered, so calling again with
    another ``prefix`` re-targets the links; a repeated call with the same prefix is cheap.
    Returns the external URLs still left (resources no page uses), sorted.

    Raises :class:`UnvendoredAssetError` if a resource in :data:`PAGE_RESOURCES` (or, with
    ``strict=True``, any resource of any class) refers to a URL not in :data:`FOLIUM_ASSETS`.
    """
    classes = _jscss_classes()
    cached = _STATE["prefix"] == prefix and _STATE["classes"] == len(classes)
    if cached and not (strict and _STATE["left"]):
        return list(_STATE["left"])  # type: ignore[call-overload]

    left: dict[str, list[str]] = {}  # url -> class keys
    unknown_used: list[str] = []
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
                    if _used_by_pages(key, name):
                        unknown_used.append(f"{key} {attr} {name}: {url}")
                    left.setdefault(url, []).append(key)
                rewritten.append((name, url))
            plan.append((cls, attr, rewritten))

    # raise before touching anything, so a failed call leaves folium as it was
    if unknown_used:
        raise UnvendoredAssetError(
            "folium refers to CDN files geoapp.web.assets does not know (folium upgraded?); "
            "pin the library in package.json, copy it in scripts/install-assets and map the "
            "URL in geoapp.web.assets.FOLIUM_ASSETS:\n  " + "\n  ".join(unknown_used)
        )
    if strict and left:
        raise UnvendoredAssetError(
            "folium classes without local files: "
            + "; ".join(f"{', '.join(v)} -> {u}" for u, v in sorted(left.items()))
        )
    for cls, attr, rewritten in plan:
        setattr(cls, attr, rewritten)
    if left and log.isEnabledFor(logging.DEBUG):
        # no page uses them (check_offline refuses a map that would): nothing to act on
        log.debug(
            "folium resources left on their CDN (no page uses them): %s",
            ", ".join(sorted({k.rsplit(":", 1)[1] for ks in left.values() for k in ks})),
        )

    _STATE.update(prefix=prefix, classes=len(classes), left=sorted(left))
    return sorted(left)


def check_offline(html: str, what: str = "map") -> str:
    """``html`` (a rendered page or part of one) unchanged, or :class:`UnvendoredAssetError`
    naming every URL it would load from the internet."""
    outside = external_urls(html)
    if outside:
        raise UnvendoredAssetError(
            f"the {what} would load files from the internet (vendor them first: package.json, "
            "scripts/install-assets, geoapp.web.assets): " + ", ".join(outside)
        )
    return html


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
