"""The boundary editor's geometry: edits of a set of contracted areas, their validation,
and which problems an edit moves.

Pure functions, no Flask and no SQL.  A boundary set is a ``dict`` ``area_id → record``;
a record is a dict with name, kind, district_id, responsible_unit_id and geometry (a
shapely Polygon or MultiPolygon in EPSG:4326, longitude/latitude).  Every edit returns a
new dict (the input is not changed) and the ids of the areas it touched.

Shared borders are shared *vertices*: two neighbouring areas hold the same coordinates
along their common edge, so moving a vertex moves it in every area that has it, and a
vertex lying on a neighbour's edge (without being one of its vertices) is first added to
that edge, which keeps the tiling exact: no gap and no overlap appear.

What lives where: :mod:`~geoapp.core.editing.vertices` (shared vertices),
:mod:`~geoapp.core.editing.operations` (the edits), :mod:`~geoapp.core.editing.validation`
(what is wrong with a set) and :mod:`~geoapp.core.editing.impact` (what an edit changes).
This package is the editor's interface: the service and the tests use ``editing.split``,
``editing.validate`` ... through it.

May import: the standard library, numpy/pandas/geopandas/shapely/pyproj and
``geoapp.core``; never the store, the services, the web layer or the CLI.
"""

from geoapp.core.editing.impact import (
    ASSIGNMENT,
    changed_areas,
    changed_bounds,
    changes_nothing,
    moved_problems,
    unit_totals,
)
from geoapp.core.editing.operations import (
    ATTRIBUTES,
    Edit,
    EditError,
    add_area,
    age_key,
    delete,
    merge,
    move_vertex,
    reassign,
    record,
    replace,
    split,
    split_depth,
)
from geoapp.core.editing.validation import NOISE_M2, Problem, errors, misplaced, validate
from geoapp.core.editing.vertices import VERTEX_TOLERANCE, Areas

__all__ = [
    "ASSIGNMENT",
    "ATTRIBUTES",
    "NOISE_M2",
    "VERTEX_TOLERANCE",
    "Areas",
    "Edit",
    "EditError",
    "Problem",
    "add_area",
    "age_key",
    "changed_areas",
    "changed_bounds",
    "changes_nothing",
    "delete",
    "errors",
    "merge",
    "misplaced",
    "move_vertex",
    "moved_problems",
    "reassign",
    "record",
    "replace",
    "split",
    "split_depth",
    "unit_totals",
    "validate",
]
