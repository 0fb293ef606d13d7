"""The boundary editor's impact preview of a one-area edit, against recomputing everything.

Target: with 100,000 problems in the store, the preview of a one-area edit (which problems
change area, responsible unit, lead unit or district; unit totals before → after) takes
under 200 ms of server time.

Setup (not timed): a SQLite store with the demo county plus synthetic problems up to N
(``bench/make_problems.py``), and a draft started from the current generation.

Measured in the same run, each RUNS times, median reported:

* ``preview_ms``: :func:`geoapp.services.editor_review.preview` right after a one-area edit (a
  shared vertex moved, which changes the two areas holding it; then a unit reassigned), as
  the editor does: the edit's answer has already read the draft's new areas.  Only problems
  inside the bounding box of the changed areas are read and re-assigned.
* ``preview_cold_ms``: the same with every cache of boundary sets dropped first.
* ``baseline_ms`` (named baseline "recompute all"): what the import path does, every problem
  read from the store and re-assigned with an index of the draft built for the purpose,
  then compared with its stored assignment.

Both must find the same changed problems (checked).  Environment: GEOAPP_BENCH_PROBLEMS
(default 100000), GEOAPP_BENCH_PREVIEW_RUNS (default 5).  Figures go to
bench/results/preview.json.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import peak_rss_mb, write_results  # noqa: E402
from make_problems import make_store  # noqa: E402

from geoapp.core import editing  # noqa: E402
from geoapp.core.assignment import Zoning  # noqa: E402
from geoapp.services import boundary_import, editor, editor_areas, editor_edits, editor_review  # noqa: E402
from geoapp.store import open_store  # noqa: E402

N = int(os.environ.get("GEOAPP_BENCH_PROBLEMS", "100000"))
RUNS = int(os.environ.get("GEOAPP_BENCH_PREVIEW_RUNS", "5"))
TARGET_MS = 200.0


def shared_vertices(areas: editing.Areas) -> list[tuple[tuple[float, float], list[str]]]:
    owners: dict[tuple, set] = {}
    for aid, rec in areas.items():
        for poly in getattr(rec["geometry"], "geoms", [rec["geometry"]]):
            for xy in poly.exterior.coords:
                owners.setdefault(xy, set()).add(aid)
    return sorted((xy, sorted(ids)) for xy, ids in owners.items() if len(ids) == 2)


def recompute_all(store, gid: int) -> set[int]:
    """The named baseline: every problem re-assigned with the draft's own index."""
    areas = editor_areas.records_to_frame(editor_areas.generation_areas(store, gid))
    zoning = Zoning.build(areas, store.list_districts(), store.list_rules())
    return {
        p["id"]
        for p, _ in boundary_import._reassignments(
            store,
            zoning,
            statuses=tuple(["reported", "assigned", "rectifying", "rectified", "verified"]),
        )
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        url, info = make_store(Path(tmp), N)
        setup_s = time.perf_counter() - t
        with open_store(url) as store:
            state = editor.start_draft(store, "bench")
            gid, version = state["generation"]["id"], state["generation"]["version"]
            base = editor_areas.generation_areas(store, gid, version)
            vertices = shared_vertices(base)
            warm, cold, baseline, sizes = [], [], [], []
            for run in range(RUNS):
                xy, owners = vertices[(run + 1) * len(vertices) // (RUNS + 2)]
                op = {"type": "move_vertex", "from": list(xy), "to": [xy[0] + 2e-4, xy[1] + 1e-4]}
                state = editor_edits.apply_edit(store, gid, op, version, "bench")
                version = state["generation"]["version"]
                assert state["changed"] == owners, (state["changed"], owners)
                t = time.perf_counter()
                result = editor_review.preview(store, gid)
                warm.append((time.perf_counter() - t) * 1000)
                sizes.append(len(result["problems"]))
                editor_areas._cache.clear()
                editor_areas._outline.clear()
                t = time.perf_counter()
                again = editor_review.preview(store, gid)
                cold.append((time.perf_counter() - t) * 1000)
                assert again["problems"] == result["problems"]
                t = time.perf_counter()
                everything = recompute_all(store, gid)
                baseline.append((time.perf_counter() - t) * 1000)
                assert everything == {p["id"] for p in result["problems"]}, "previews differ"
                # a unit reassignment of one area, on top
                area = owners[0]
                units = [u["unit_id"] for u in store.list_units()]
                own = editor_areas.generation_areas(store, gid, version)[area][
                    "responsible_unit_id"
                ]
                other = next(u for u in units if u != own)
                state = editor_edits.apply_edit(
                    store,
                    gid,
                    {"type": "reassign", "area_id": area, "responsible_unit_id": other},
                    version,
                    "bench",
                )
                version = state["generation"]["version"]
                t = time.perf_counter()
                result = editor_review.preview(store, gid)
                warm.append((time.perf_counter() - t) * 1000)
                sizes.append(len(result["problems"]))
                # back to the published boundaries for the next run
                for _ in range(2):
                    state = editor_edits.undo_redo(store, gid, version, "bench")
                    version = state["generation"]["version"]
            figures = {
                "problems_in_store": info["problems"],
                "runs": RUNS,
                "target_ms": TARGET_MS,
                "preview_ms": round(statistics.median(warm), 1),
                "preview_max_ms": round(max(warm), 1),
                "preview_cold_ms": round(statistics.median(cold), 1),
                "baseline": "recompute all: every problem re-assigned and compared",
                "baseline_ms": round(statistics.median(baseline), 1),
                "speedup": round(statistics.median(baseline) / statistics.median(warm), 1),
                "problems_changed_median": int(statistics.median(sizes)),
                "meets_target": statistics.median(warm) < TARGET_MS,
                "setup_s": round(setup_s, 1),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
    write_results("preview", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
