"""Warm the caches a first map load needs, at start, so that the first coordinator after a
restart does not pay for them: the current generation's areas, their outlines and labels,
the districts (each the union of its areas), the units, the filter choices, every
problem's map columns (the clusters of the unfiltered map are made from them) and the
sorted deadlines of the open problems (every answer's ETag counts those passed).  Each is cached per data version (see :mod:`geoapp.services.reading`), so a warm
cache stays right after any write.  No Flask here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from geoapp.services import map_features, problem_reads
from geoapp.services.etags import deadlines_passed
from geoapp.services.reading import _reading


def warm(store) -> dict[str, float]:
    """Fill the read caches of the map's first load; the seconds each part took."""
    parts = {
        "page": lambda: map_features.page_facts(store),
        "districts": lambda: map_features.districts(store, {}),
        "areas": lambda: map_features.areas(store, {}),
        "units": lambda: map_features.units(store, {}),
        # the problems' columns, unfiltered, as every zoom of the default map reads them
        "problems": lambda: problem_reads.problem_clusters(store, {"zoom": ["0"]}),
        # every answer's ETag counts the deadlines passed: the open problems' deadlines
        "deadlines": lambda: _deadlines(store),
    }
    took = {}
    for name, make in parts.items():
        start = time.perf_counter()
        make()
        took[name] = round(time.perf_counter() - start, 3)
    return took


def _deadlines(store) -> int:
    with _reading(store) as read:
        return deadlines_passed(read, datetime.now(UTC))
