"""Text that no database can store, found before it reaches one.

Two things break a write or a query on at least one backend: the NUL character (U+0000;
PostgreSQL refuses it in any text value) and a lone UTF-16 surrogate (U+D800–U+DFFF without
its pair, as JSON's ``"\\ud800"`` decodes to; it has no UTF-8 form, so neither SQLite nor
PostgreSQL can take it).  :func:`text_fault` says which one a string holds;
:func:`first_fault` walks a decoded JSON value (iteratively, with a depth limit) and names
the first bad string by its path, e.g. ``features[3].properties.name``.

Pure: no Flask, no database.  The web layer turns a fault into a 400 naming the field; the
store refuses such text too (both backends alike), for the callers that do not come
through the web.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

NUL = "nul"
SURROGATE = "surrogate"
TOO_DEEP = "too_deep"

#: JSON bodies nest at most this deep (a GeoJSON FeatureCollection of MultiPolygons is 7).
MAX_DEPTH = 64


#: How such text can appear in JSON source: a ``\\u0000`` or ``\\ud800``-``\\udfff`` escape
#: (raw NUL is not valid JSON; decoded UTF-8 holds no surrogates).
_BAD_ESCAPE = re.compile(r"\\u(?:0000|d[89a-f][0-9a-f]{2})", re.IGNORECASE)


def may_hold_bad_text(json_text: str) -> bool:
    """False when decoding ``json_text`` cannot give a NUL or a lone surrogate (a quick
    test on the source before walking a large decoded document)."""
    return "\x00" in json_text or _BAD_ESCAPE.search(json_text) is not None


#: A JSON string (its quotes and escapes), and a run of anything but brackets.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(json_text: str) -> int:
    """How deep the containers of the valid JSON ``json_text`` nest (0 for a scalar, 1 for
    ``[]``), read from the source: the brackets outside its strings."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", json_text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def first_fault_of_text(
    json_text: str | None, value: Any, max_depth: int = MAX_DEPTH
) -> tuple[str, str] | None:
    """:func:`first_fault` of ``value``, decoded from the valid JSON ``json_text``.  When the
    source can hold neither a NUL nor a lone surrogate, only the depth can be at fault, and
    the source tells it without walking every container of a large document (a GeoJSON
    body has one per coordinate pair).  ``json_text`` None (a source not at hand): walks."""
    if json_text is None or may_hold_bad_text(json_text) or text_fault(json_text) is not None:
        return first_fault(value, max_depth)
    if nesting_depth(json_text) <= max_depth:
        return None
    return first_fault(value, max_depth)  # rare: the walk names where it is too deep


def text_fault(text: str) -> str | None:
    """:data:`NUL` or :data:`SURROGATE` when ``text`` cannot be stored; None when it can."""
    if "\x00" in text:
        return NUL
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE
    return None


def describe(fault: str) -> str:
    """The fault in English words (the store's messages; the web layer translates its own)."""
    return {
        NUL: "contains a NUL character (U+0000), which cannot be stored",
        SURROGATE: "contains a lone surrogate (U+D800 to U+DFFF), which is not valid Unicode",
        TOO_DEEP: f"is nested deeper than {MAX_DEPTH} levels",
    }[fault]


def _path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


#: Where a container sits: None for the top level, else ``(where its parent sits, its key)``.
_Trail = tuple[Any, Any] | None


def _path_of(trail: _Trail, key: Any = None) -> str:
    """The path of ``trail`` (then of ``key`` in it), e.g. ``features[3].properties.name``;
    written only for the one value named, not for every container walked."""
    keys = [] if key is None else [key]
    while trail is not None:
        trail, step = trail
        keys.append(step)
    path = ""
    for step in reversed(keys):
        path = _path(path, step)
    return path


def first_fault(value: Any, max_depth: int = MAX_DEPTH) -> tuple[str, str] | None:
    """``(path, fault)`` of the first string (key or value) in a decoded JSON ``value`` that
    cannot be stored, or of the first container nested deeper than ``max_depth``; None when
    all is well.  The top level's path is ``""``."""
    stack: list[tuple[Any, _Trail, int]] = [(value, None, 0)]
    while stack:
        item, trail, depth = stack.pop()
        if isinstance(item, str):
            fault = text_fault(item)
            if fault:
                return _path_of(trail), fault
            continue
        if isinstance(item, dict):
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if depth >= max_depth:
            return "", TOO_DEEP  # the body as a whole: a deep path says nothing more
        for key, child in children:
            fault = text_fault(key) if isinstance(key, str) else None
            if fault is None and isinstance(child, str):
                fault = text_fault(child)
            if fault:
                return _path_of(trail, key), fault
            if isinstance(child, (dict, list)):
                stack.append((child, (trail, key), depth + 1))
    return None
