"""The coverage figures of the ledger (检查覆盖 / 巡查覆盖) and the ranking for the circulated
report, per unit, district and round.  No Flask here.

Counts come from the store's SQL (:meth:`coverage_counts`, :meth:`coverage_points`,
:meth:`patrol_days`); what they mean is :mod:`geoapp.core.coverage`.  Overdue rectifications
are the ledger's (:func:`geoapp.core.ledger.problem_table`: open and past the deadline at
``now``), per responsible unit, among the problems of the round.

Filters (query arguments): ``round`` (default: the round of the latest visit), ``district``,
``unit`` (responsible), ``kind`` (of point), ``date_from``/``date_to`` (Beijing dates,
inclusive: the patrol period; default the 7 days to today).  A unit account sees its own
unit, or, when its unit leads districts, those districts (:func:`scope`); others see all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from geoapp.core import coverage as rules
from geoapp.core import ledger
from geoapp.core.messages import N_
from geoapp.services.errors import ServiceError
from geoapp.services.times import LOCAL_TZ

FILTERS = ("round", "district", "unit", "kind", "date_from", "date_to")
PATROL_DAYS = 7


@dataclass
class Coverage:
    round: str | None
    rounds: list[str]
    filters: dict[str, Any]
    date_from: str
    date_to: str
    min_coverage: float
    by_unit: list[dict[str, Any]]
    by_district: list[dict[str, Any]]
    points: list[dict[str, Any]]
    not_inspected: list[dict[str, Any]]
    not_patrolled: list[dict[str, Any]]
    totals: dict[str, Any] = field(default_factory=dict)


def _one(args: dict, name: str) -> str | None:
    value = args.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def _day(args: dict, name: str, default: date) -> str:
    raw = _one(args, name)
    if raw is None:
        return default.isoformat()
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise ServiceError(
            N_("%(name)s=%(value)r is not a date (YYYY-MM-DD)"), name=name, value=raw
        ) from None


def scope(store, role: str | None, unit_id: str | None) -> dict[str, list[str]]:
    """The filters an account is held to: a unit account, its unit's rows, or (its unit
    leading districts) those districts; every other role, nothing."""
    if role != "unit":
        return {}
    led = [d["district_id"] for d in store.list_districts() if d.get("lead_unit_id") == unit_id]
    return {"district": led} if led else {"unit": [unit_id or ""]}


def in_scope(row: dict, held_to: dict[str, list[str]] | None) -> bool:
    """Whether an account held to ``held_to`` sees a visit (by its point's assignment)."""
    if not held_to:
        return True
    if "district" in held_to:
        return row.get("district_id") in held_to["district"]
    return row.get("responsible_unit_id") in held_to.get("unit", [])


def checkin_in_scope(store, row: dict, held_to: dict[str, list[str]] | None) -> bool:
    """Whether an account held to ``held_to`` sees a patrol check-in (its unit's own, or
    one in an area of a district it leads)."""
    if not held_to:
        return True
    if "district" in held_to:
        areas = store.areas()
        match = areas[areas["area_id"] == row["area_id"]]
        return bool(len(match)) and match["district_id"].iloc[0] in held_to["district"]
    return row["unit_id"] in held_to.get("unit", [])


def build(
    store,
    args: dict,
    *,
    held_to: dict[str, list[str]] | None = None,
    min_coverage: float = rules.DEFAULT_MIN_COVERAGE,
    now: datetime | None = None,
) -> Coverage:
    """The coverage figures of the filters in ``args`` within the scope ``held_to``."""
    now = now or datetime.now(UTC)
    today = now.astimezone(LOCAL_TZ).date()
    rounds = store.visit_rounds()
    round_ = _one(args, "round") or (rounds[0] if rounds else None)
    date_to = _day(args, "date_to", today)
    date_from = _day(
        args, "date_from", date.fromisoformat(date_to) - timedelta(days=PATROL_DAYS - 1)
    )
    if date_from > date_to:
        raise ServiceError(N_("date_from is after date_to"))
    point_filters: dict[str, Any] = {}
    for arg, column in (
        ("district", "district_id"),
        ("unit", "responsible_unit_id"),
        ("kind", "kind"),
    ):
        value = _one(args, arg)
        if value is not None:
            point_filters[column] = [value]
    for arg, column in (("district", "district_id"), ("unit", "responsible_unit_id")):
        if held_to and arg in held_to:
            wanted = set(held_to[arg])
            if column in point_filters:
                wanted &= set(point_filters[column])
            point_filters[column] = sorted(wanted)
    units = {u["unit_id"]: u for u in store.list_units()}
    districts = {d["district_id"]: d for d in store.list_districts()}
    areas = store.areas()
    if "district_id" in point_filters:
        areas = areas[areas["district_id"].isin(point_filters["district_id"])]
    if "responsible_unit_id" in point_filters:
        areas = areas[areas["responsible_unit_id"].isin(point_filters["responsible_unit_id"])]
    counts = store.coverage_counts(round_, point_filters)
    patrols = store.patrol_days(
        sorted(set(areas["responsible_unit_id"].dropna())), date_from, date_to
    )
    overdue = _overdue(store, round_, now)
    patrolled = {(p["unit_id"], p["area_id"]): p for p in patrols}
    area_rows = [
        {
            "area_id": a.area_id,
            "name": a.name,
            "kind": a.kind,
            "district_id": a.district_id,
            "unit_id": a.responsible_unit_id,
            "days": (patrolled.get((a.responsible_unit_id, a.area_id)) or {}).get("days", 0),
            "last_date": (patrolled.get((a.responsible_unit_id, a.area_id)) or {}).get("last_date"),
        }
        for a in areas.itertuples(index=False)
    ]
    by_unit_counts = {r["id"]: r for r in counts if r["id"] is not None}
    unit_ids = sorted(set(by_unit_counts) | {a["unit_id"] for a in area_rows if a["unit_id"]})
    rows = []
    for uid in unit_ids:
        c = by_unit_counts.get(uid) or {
            "registered": 0,
            "inspected": 0,
            "clean": 0,
            "problems": 0,
            "deduction": 0.0,
        }
        mine = [a for a in area_rows if a["unit_id"] == uid]
        days = sum(a["days"] for a in mine)
        rows.append(
            {
                **c,
                "id": uid,
                "name": (units.get(uid) or {}).get("name", uid),
                "overdue": overdue.get(uid, 0),
                "areas": len(mine),
                "areas_patrolled": sum(1 for a in mine if a["days"]),
                "patrol_days": days,
                "patrol_days_per_area": rules.ratio(days, len(mine)),
            }
        )
    ranked = rules.rank_coverage(rows, min_coverage)
    by_district = [
        rules.finish_row({**r, "name": (districts.get(r["id"]) or {}).get("name", r["id"] or "")})
        for r in store.coverage_counts(round_, point_filters, group="district")
    ]
    points = store.coverage_points(round_, point_filters)
    not_inspected = [p for p in points if not p["inspected"]]
    for p in points:
        p["unit_name"] = (units.get(p["responsible_unit_id"]) or {}).get("name", "")
    not_patrolled = [
        a | {"unit_name": (units.get(a["unit_id"]) or {}).get("name", "")}
        for a in area_rows
        if not a["days"]
    ]
    totals = rules.finish_row(
        {
            "registered": sum(r["registered"] for r in ranked),
            "inspected": sum(r["inspected"] for r in ranked),
            "clean": sum(r["clean"] for r in ranked),
            "deduction": sum(r["deduction"] for r in ranked),
        }
    )
    totals["areas"] = len(area_rows)
    totals["areas_patrolled"] = sum(1 for a in area_rows if a["days"])
    return Coverage(
        round_,
        rounds,
        {k: _one(args, k) for k in FILTERS},
        date_from,
        date_to,
        min_coverage,
        ranked,
        by_district,
        points,
        not_inspected,
        not_patrolled,
        totals,
    )


def _overdue(store, round_: str | None, now: datetime) -> dict[str, int]:
    flt = {} if round_ is None else {"round": round_}
    frame = store.problem_frame(flt, ledger.INPUT_COLUMNS)
    if not len(frame):
        return {}
    hours = {c["category"]: c.get("deadline_hours") for c in store.list_categories()}
    table = ledger.problem_table(frame, hours, store.rectified_times(flt), now)
    over = table[table["overdue"]]
    return {k: int(v) for k, v in over.groupby("responsible_unit_id").size().items()}


def map_features(
    store,
    args: dict,
    *,
    held_to: dict[str, list[str]] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The coverage map: the areas (``area_kind`` filters them by kind) and the inspection
    points of the filters, each with ``last_date`` (its latest inspection or patrol; for an
    area, the later of a check-in and a visit to one of its points), ``days`` since then
    (None: never) and the colour of :func:`geoapp.core.coverage.age_class`."""
    import shapely

    cov = build(store, {**args, "date_from": "1900-01-01"}, held_to=held_to, now=now)
    today = cov.date_to
    area_kind = _one(args, "area_kind")
    areas = store.areas()
    visited: dict[str, str] = {}
    for p in cov.points:
        if p["last_visit_date"] and p["area_id"]:
            visited[p["area_id"]] = max(visited.get(p["area_id"], ""), p["last_visit_date"])
    patrolled = {
        a["area_id"]: a["last_date"] for a in cov.not_patrolled + _patrolled(store, cov, today)
    }
    keep = {a["area_id"] for a in cov.not_patrolled} | set(patrolled)
    features = []
    for a in areas.itertuples(index=False):
        if a.area_id not in keep or (area_kind and a.kind != area_kind):
            continue
        dates = [d for d in (patrolled.get(a.area_id), visited.get(a.area_id)) if d]
        last = max(dates) if dates else None
        features.append(_feature(a.geometry, "area", a.area_id, a.name, a.kind, last, today))
    for p in cov.points:
        geom = shapely.Point(p["lon"], p["lat"])
        feature = _feature(
            geom, "point", p["point_id"], p["name"], p["kind"], p["last_visit_date"], today
        )
        feature["properties"]["result"] = p["result"]
        feature["properties"]["unit"] = p["unit_name"]
        features.append(feature)
    return {
        "type": "FeatureCollection",
        "features": features,
        "legend": rules.legend(),
        "today": today,
    }


def _patrolled(store, cov: Coverage, today: str) -> list[dict[str, Any]]:
    units = sorted({r["id"] for r in cov.by_unit if r["id"]})
    return [
        {"area_id": p["area_id"], "last_date": p["last_date"]}
        for p in store.patrol_days(units, None, today)
    ]


def _feature(geometry, layer: str, key: str, name: str, kind, last: str | None, today: str) -> dict:
    import shapely

    days = rules.days_between(today, last)
    colour, label = rules.age_class(days)
    return {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(geometry),
        "properties": {
            "layer": layer,
            "id": key,
            "name": name,
            "kind": kind,
            "last_date": last,
            "days": days,
            "colour": colour,
            "class": label,
        },
    }
