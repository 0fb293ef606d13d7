"""Where a polygon's name is written on the map: its label point.

The pole of inaccessibility (:func:`shapely.ops.polylabel`) to about a metre is the costliest
part of answering a generation's areas and districts (a few hundred polygons take longer than
reading, simplifying and encoding them).  A label point depends only on the polygon's shape,
so it is kept by the polygon's exact shape (a digest of its WKB): editing one area of a draft makes a new
generation version, and only the area that changed is labelled again; two stores holding the
same boundaries (a copy, a re-imported generation) share their label points.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

#: Label points kept (by shape): a county's areas and districts for a few generations.
KEPT = 20_000

_kept: OrderedDict[bytes, shapely.Point] = OrderedDict()
_lock = threading.Lock()
#: How many label points were computed (not found kept) since the process started.
computed = 0


def _compute(geom: BaseGeometry) -> shapely.Point:
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    try:
        return polylabel(largest, tolerance=1e-5)
    except Exception:  # pragma: no cover - polylabel needs a polygon
        return geom.representative_point()


def label_point(geom: BaseGeometry) -> shapely.Point:
    """A point well inside a polygon (its largest part), where its name reads best: the pole
    of inaccessibility to about a metre, else a point surely inside.  Kept by shape."""
    key = hashlib.blake2b(shapely.to_wkb(geom), digest_size=20).digest()
    with _lock:
        point = _kept.get(key)
        if point is not None:
            _kept.move_to_end(key)
            return point
    point = _compute(geom)
    global computed
    with _lock:
        computed += 1
        _kept[key] = point
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return point


def label_points(geoms: Iterable[BaseGeometry]) -> list[shapely.Point]:
    """:func:`label_point` of each geometry, in order."""
    return [label_point(g) for g in geoms]


def forget() -> None:
    """Drop every kept label point (they are made again when asked for)."""
    with _lock:
        _kept.clear()
