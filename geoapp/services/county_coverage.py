"""The inspection register and activity of a county folder (the demo county's
``inspection_points.geojson``, ``inspection_visits.csv`` and ``patrol_checkins.csv``, written
by :mod:`geoapp.demo.coverage`), loaded inside :func:`geoapp.services.county.load_county`'s
transaction.  Visits and check-ins are dated back from ``now`` (``days_ago``, Beijing hour),
so the demo always shows recent coverage; a visit with problems adds an ordinary problem
(assigned like any other, category rules included) linked to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from geoapp.core.messages import N_
from geoapp.io.register import read_register
from geoapp.services.coverage import assign_points, local_date
from geoapp.services.errors import ServiceError
from geoapp.services.point_import import register_rows
from geoapp.services.times import LOCAL_TZ

POINTS_FILE = "inspection_points.geojson"
VISITS_FILE = "inspection_visits.csv"
CHECKINS_FILE = "patrol_checkins.csv"
ROUND = "省级评估"


def _when(row: dict, now: datetime) -> datetime:
    day = now.astimezone(LOCAL_TZ).date() - timedelta(days=int(row["days_ago"]))
    when = datetime(day.year, day.month, day.day, int(row["hour"]), tzinfo=LOCAL_TZ)
    return min(when, now - timedelta(minutes=1))


def load_coverage(tx, data_dir: Path, zoning, read_csv_rows, author: str, now: datetime) -> dict:
    """Register the folder's points and add its visits and check-ins (if it has them)."""
    path = Path(data_dir) / POINTS_FILE
    if not path.exists():
        return {}
    rows, bad = register_rows(read_register(path))
    if bad:
        raise ServiceError(N_("%(path)s: %(value)s"), path=str(path), value=bad[0])
    assign_points(zoning, rows)
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    pks = dict(
        zip((r["point_id"] for r in rows), tx.add_inspection_points(clean, author), strict=True)
    )
    by_code = {r["point_id"]: r for r in rows}
    visits = (
        read_csv_rows(Path(data_dir) / VISITS_FILE)
        if (Path(data_dir) / VISITS_FILE).exists()
        else []
    )
    # a visit that found problems is linked to the demo county's own problem nearest to its
    # point (each problem to one visit), so the problems and the deduction ledger stay those
    # of the county's files
    problem_pks = iter(
        _nearest_problems(tx, [by_code[v["point_id"]] for v in visits if v["result"] == "problems"])
    )
    for v in visits:
        when = _when(v, now)
        linked = [next(problem_pks)] if v["result"] == "problems" else []
        linked = [pk for pk in linked if pk is not None]
        tx.add_visit(
            {
                "point_pk": pks[v["point_id"]],
                "round": ROUND,
                "visited_at": when,
                "local_date": local_date(when),
                "inspector": "inspector",
                "result": v["result"],
            },
            linked,
        )
    checkins = (
        read_csv_rows(Path(data_dir) / CHECKINS_FILE)
        if (Path(data_dir) / CHECKINS_FILE).exists()
        else []
    )
    checkin_rows = []
    for i, c in enumerate(checkins):
        when = _when(c, now)
        checkin_rows.append(
            {
                "client_id": f"demo-checkin-{i + 1:05d}",
                "unit_id": c["unit_id"],
                "area_id": c["area_id"],
                "account": "unit",
                "checked_at": when,
                "local_date": local_date(when),
                "lon": float(c["lon"]),
                "lat": float(c["lat"]),
                "accuracy_m": float(c["accuracy_m"]),
                "distance_m": 0.0,
            }
        )
    tx.add_checkins(checkin_rows)
    return {"inspection_points": len(rows), "visits": len(visits), "checkins": len(checkins)}


def _nearest_problems(tx, points: list[dict]) -> list[int | None]:
    """For each point in turn, the id of the nearest stored problem not taken by an earlier
    point (None when none is left)."""
    import numpy as np

    frame = tx.problem_frame(columns=["id", "lon", "lat"])
    frame = frame[frame["lon"].notna() & frame["lat"].notna()]
    ids = frame["id"].to_numpy()
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    free = np.ones(len(ids), dtype=bool)
    out: list[int | None] = []
    for point in points:
        if not free.any():
            out.append(None)
            continue
        d = (lon - point["lon"]) ** 2 + (lat - point["lat"]) ** 2
        d[~free] = np.inf
        i = int(np.argmin(d))
        free[i] = False
        out.append(int(ids[i]))
    return out
