"""Files of ``static/`` written into a page instead of asked for, and the map pages' header
with its small files inlined.

A cold map page waits for every file its head names before it can draw, and the browser
opens at most six connections to the server: each file it need not ask for lets the data
requests start sooner.  :func:`inline_header` turns the local stylesheets and scripts of
folium's header into inline ``<style>`` and ``<script>`` elements, in place (so the order
the scripts run in is kept), except the files named in ``keep`` (Leaflet itself: 147 KB
that the browser keeps for every page).

A script's text is written with every ``</`` as ``<\\/`` (the same in a JavaScript string,
regular expression or comment), so nothing in it can close the element; a file holding
``<!--`` or ``<script`` (which change how the browser finds the element's end) is refused
(ValueError).  A stylesheet's relative ``url(...)`` is rebased onto the file's own folder
(the page is not where the file was); a stylesheet holding ``</`` is refused.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

#: Where the header's local files are served (folium's links point there:
#: :data:`geoapp.web.assets.VENDOR_PREFIX` is under it).
STATIC_PREFIX = "/static/"

_URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""", re.IGNORECASE)
_LINK = re.compile(
    r"""<link\s+rel=["']stylesheet["']\s+href=["'](?P<url>[^"']+)["']\s*/?>""", re.IGNORECASE
)
_SCRIPT = re.compile(
    r"""<script(?P<attrs>[^>]*?)\ssrc=["'](?P<url>[^"']+)["'](?P<more>[^>]*)></script>""",
    re.IGNORECASE,
)


def script_text(name: str, text: str) -> str:
    """``text`` (the file ``name``) made safe as the body of an inline <script>."""
    lowered = text.lower()
    if "<!--" in lowered or "<script" in lowered:
        raise ValueError(f"{name} cannot be inlined: it contains '<!--' or '<script'")
    return text.replace("</", "<\\/")


def style_text(name: str, text: str) -> str:
    """``text`` (the stylesheet ``name``, a path under ``static/``) as the body of an inline
    <style>: every relative ``url(...)`` pointed at the file's own folder."""
    if "</" in text:
        raise ValueError(f"{name} cannot be inlined: it contains '</'")
    folder = posixpath.dirname(name)

    def rebase(match: re.Match) -> str:
        quote, target = match.group(1), match.group(2).strip()
        if target.startswith(("/", "#", "data:")) or "//" in target or ":" in target:
            return match.group(0)
        url = STATIC_PREFIX + posixpath.normpath(posixpath.join(folder, target))
        return f"url({quote}{url}{quote})"

    return _URL.sub(rebase, text)


def _local(url: str) -> str | None:
    """The path under ``static/`` of a header URL, or None (another host, a query)."""
    if not url.startswith(STATIC_PREFIX) or "?" in url or "#" in url:
        return None
    return url[len(STATIC_PREFIX) :]


def inline_header(header: str, read: Callable[[str], str], keep: Iterable[str] = ()) -> str:
    """``header`` with its local stylesheets and scripts inline, except the paths (under
    ``static/``) in ``keep``; ``read(path)`` gives a file's text."""
    kept = frozenset(keep)

    def style(match: re.Match) -> str:
        name = _local(match.group("url"))
        if name is None or name in kept:
            return match.group(0)
        return f"<style>{style_text(name, read(name))}</style>"

    def script(match: re.Match) -> str:
        name = _local(match.group("url"))
        if name is None or name in kept:
            return match.group(0)
        attrs = (match.group("attrs") + match.group("more")).strip()
        opening = f"<script {attrs}>" if attrs else "<script>"
        return f"{opening}{script_text(name, read(name))}</script>"

    return _SCRIPT.sub(script, _LINK.sub(style, header))
