"""Use cases of the ledger (台账): the store counts the filtered problems (SQL ``GROUP BY``),
:mod:`geoapp.core.ledger` adds the counts up and ranks the units; the page, the API, the
exports and the print view take the result.  Lists and exports read the problems a batch at a
time (:func:`iter_problem_columns`), never all at once.

Filters are parsed by :func:`geoapp.services.query_params.parse_problem_filter` and applied by
the store's ``_problem_where``, exactly as for the map, so the ledger and the map always count
the same problems.  No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from geoapp.core import charts, ledger
from geoapp.core.messages import N_
from geoapp.core.model import STATUSES
from geoapp.core.palette import OVERDUE_COLOUR, STATUS_COLOURS
from geoapp.services import query_params, reading, reference
from geoapp.services.times import LOCAL_TZ, local_time

GROUP_PARAM = "group"
DEFAULT_GROUP = "unit"


@dataclass
class Ledger:
    """The ledger of one filter set (its figures; the problems are read on demand)."""

    totals: dict[str, Any]
    by_unit: list[dict[str, Any]]
    by_district: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_round: list[dict[str, Any]]
    ranking: ledger.Ranking
    daily: list[dict[str, Any]]
    filters: dict[str, list[str]]
    generated_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self, group: str) -> list[dict[str, Any]]:
        return {
            "unit": self.by_unit,
            "district": self.by_district,
            "category": self.by_category,
            "round": self.by_round,
        }[group]


def parse_group(args: query_params.Args, allowed: Iterable[str] = tuple(ledger.GROUPS)) -> str:
    """``group``: unit (default), district, category or round (or one of ``allowed``)."""
    allowed = tuple(allowed)
    raw = query_params._one(args, GROUP_PARAM)
    if raw is None:
        return DEFAULT_GROUP
    if raw not in allowed:
        raise query_params.BadParameter(
            GROUP_PARAM,
            N_("group=%(raw)r is not one of %(names)s"),
            raw=raw,
            names=", ".join(allowed),
        )
    return raw


def build(
    store, args: query_params.Args, locale: str = "zh", now: datetime | None = None
) -> Ledger:
    """The ledger of the problems matching the map's filters in ``args``, counted by the
    store (one ``GROUP BY``, plus the problems per hour for the daily chart)."""
    now = now or datetime.now(UTC)
    with reading._reading(store) as read:
        flt = query_params.parse_problem_filter(args, read.ref)
        ref = read.ref
        hours = {c: v.get("deadline_hours") for c, v in ref.categories.items()}
        limits = ledger.deadline_microseconds(hours)
        # the ranking is always among all units (under the other filters): a unit filter,
        # or a unit's own account, only chooses whose place in it is shown; the counts per
        # unit give both
        wanted_units = flt.store.get("responsible_unit_id")
        others = {k: v for k, v in flt.store.items() if k != "responsible_unit_id"}
        counted = ledger.counted_rows(read.tx.ledger_counts(others, limits, now), limits)
        days = read.tx.ledger_days(flt.store)
        gen = reading._current_generation(read)
        areas = reading._areas(read, gen)
    rows = counted
    if wanted_units:
        wanted = set(wanted_units)
        rows = [r for r in counted if r["responsible_unit_id"] in wanted]

    wanted_districts = flt.store.get("district_id")
    area_units = areas
    if wanted_districts:
        area_units = area_units[area_units["district_id"].isin(wanted_districts)]
    county_keys = sorted(set(area_units["responsible_unit_id"].dropna()))
    unit_keys = county_keys
    if wanted_units:
        unit_keys = [u for u in wanted_units if u in ref.units]
    district_keys = list(wanted_districts or ref.districts)

    def unit_row(r: dict) -> dict:
        return {**r, "name": ref.unit_name(r["id"])}

    def district_row(r: dict) -> dict:
        lead = ref.districts.get(r["id"], {}).get("lead_unit_id") if r["id"] else None
        return {
            **r,
            "name": ref.district_name(r["id"]),
            "lead_unit_id": lead,
            "lead_unit_name": ref.unit_name(lead),
        }

    def category_row(r: dict) -> dict:
        return {
            **r,
            "name": ref.category_label(r["id"], locale),
            "deadline_hours": hours.get(r["id"]),
        }

    by_unit = [unit_row(r) for r in ledger.group_counted(rows, "unit", unit_keys)]
    if wanted_units:
        all_keys = sorted({*county_keys, *unit_keys})
        county = [unit_row(r) for r in ledger.group_counted(counted, "unit", all_keys)]
        ranking = ledger.restrict(ledger.rank_units(county), unit_keys)
    else:
        ranking = ledger.rank_units(by_unit)
    return Ledger(
        totals=ledger.add_up(rows),
        by_unit=by_unit,
        by_district=[
            district_row(r) for r in ledger.group_counted(rows, "district", district_keys)
        ],
        by_category=[category_row(r) for r in ledger.group_counted(rows, "category")],
        by_round=[{**r, "name": r["id"]} for r in ledger.group_counted(rows, "round")],
        ranking=ranking,
        daily=ledger.daily_from_hours(days["new"], days["closed"]),
        filters=dict(
            query_params.normalised_query(
                {k: args[k] for k in args if k in query_params.FILTER_PARAMS}
            )
        ),
        generated_at=now,
        extra={"ref": ref, "areas": areas, "locale": locale, "store_filter": flt.store},
    )


def _iso(value) -> str | None:
    return local_time(value) if value is not None and value == value else None


def _iso_column(values: pd.Series) -> list[str | None]:
    """UTC timestamps as ISO 8601 Beijing time (as
    :func:`~geoapp.services.times.local_time`), None for NaT: the wall-clock times written
    by numpy a column at once (pandas' strftime formats one value at a time)."""
    if not len(values):
        return []
    wall = values.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).to_numpy("datetime64[s]")
    text = np.datetime_as_string(wall, unit="s").tolist()
    return [None if t == "NaT" else t + "+08:00" for t in text]


def as_json(led: Ledger, group: str) -> dict[str, Any]:
    """The API answer for one grouping (``/api/ledger``)."""
    out: dict[str, Any] = {
        "group": group,
        "filters": led.filters,
        "generated_at": _iso(led.generated_at),
        "totals": led.totals,
        "rows": led.rows(group),
        "daily": led.daily,
    }
    if group == "unit":
        out["ranking"] = {
            "accountability": [r["id"] for r in led.ranking.accountability],
            "commendation": [r["id"] for r in led.ranking.commendation],
            "ranks": {r["id"]: r["rank"] for r in led.ranking.rows},
            "ranked_units": led.ranking.ranked,
            "shown_units": None if led.ranking.shown is None else list(led.ranking.shown),
        }
    return out


#: The fields of a problem record (:func:`iter_problem_records`), in order.
RECORD_FIELDS = (
    "id",
    "problem_id",
    "round",
    "category",
    "category_label",
    "description",
    "deduction",
    "counted_deduction",
    "duplicate_of",
    "reported_at",
    "due",
    "status",
    "status_label",
    "rectified_at",
    "on_time",
    "overdue",
    "district_id",
    "district_name",
    "area_id",
    "area_name",
    "responsible_unit_id",
    "responsible_unit_name",
    "lead_unit_id",
    "lead_unit_name",
    "lon",
    "lat",
)


def iter_problem_columns(
    store, led: Ledger, locale: str = "zh", batch: int | None = None
) -> Iterator[dict[str, list[Any]]]:
    """The ledger's problems (its filters) with names and the ledger's columns, sorted by
    id, a batch at a time as columns (field of :data:`RECORD_FIELDS` → the batch's values,
    None when missing; times as ISO 8601 Beijing time): read from the store a batch at a
    time (flat memory at any size), in one read transaction (a consistent snapshot), and
    computed a column at a time (each name looked up once per batch)."""
    ref: reference.Reference = led.extra["ref"]
    hours = {c: v.get("deadline_hours") for c, v in ref.categories.items()}
    options = {} if batch is None else {"batch": batch}
    area_names: dict = {}
    generations: set = set()
    with reading._reading(store) as read:
        frames = read.tx.iter_problem_frames(
            led.extra["store_filter"], ledger.INPUT_COLUMNS, **options
        )
        for frame in frames:
            table = ledger.problem_table(frame, hours, None, led.generated_at)
            new = set(table["generation_id"].dropna().unique().tolist()) - generations
            area_names.update(reading._area_names(read, new))
            generations |= new
            duplicates = table["duplicate_of"].dropna().unique().tolist()
            labels = read.tx.problem_labels(duplicates) if duplicates else {}
            yield _record_columns(table, ref, locale, area_names, labels)


def iter_problem_records(
    store, led: Ledger, locale: str = "zh", batch: int | None = None
) -> Iterator[dict[str, Any]]:
    """The problems of :func:`iter_problem_columns` one record (a dict) at a time."""
    for columns in iter_problem_columns(store, led, locale, batch):
        lists = [columns[f] for f in RECORD_FIELDS]
        for values in zip(*lists, strict=True):
            yield dict(zip(RECORD_FIELDS, values, strict=True))


def problem_records(store, led: Ledger, locale: str = "zh") -> list[dict[str, Any]]:
    """All of :func:`iter_problem_records` as a list (for a page of one unit or district)."""
    return list(iter_problem_records(store, led, locale))


def _looked_up(values: list, name) -> list:
    """``name(value)`` of each value, called once per distinct value."""
    found = {v: name(v) for v in set(values)}
    return [found[v] for v in values]


def _record_columns(
    table: pd.DataFrame,
    ref: reference.Reference,
    locale: str,
    area_names: dict,
    labels: dict,
) -> dict[str, list[Any]]:
    wanted = {*RECORD_FIELDS, "is_duplicate", "generation_id"} - {"reported_at", "due"}
    raw = {k: table[k].tolist() for k in table.columns if k in wanted and k != "rectified_at"}
    zh = reference._zh(locale)
    out = {k: raw[k] for k in RECORD_FIELDS if k in raw}
    out["id"] = table["id"].astype("int64").tolist()
    out["category_label"] = _looked_up(raw["category"], lambda c: ref.category_label(c, locale))
    out["deduction"] = table["deduction"].astype(float).tolist()
    out["counted_deduction"] = table["counted_deduction"].astype(float).tolist()
    out["duplicate_of"] = [
        labels.get(dup, dup) if flag else None
        for dup, flag in zip(raw["duplicate_of"], raw["is_duplicate"], strict=True)
    ]
    for key in ("reported_at", "due", "rectified_at"):
        out[key] = _iso_column(table[key])
    out["status_label"] = (
        _looked_up(raw["status"], lambda s: STATUSES.get(s, s)) if zh else raw["status"]
    )
    out["overdue"] = [bool(v) for v in raw["overdue"]]
    out["district_name"] = _looked_up(raw["district_id"], ref.district_name)
    out["area_name"] = [
        area_names.get(key) for key in zip(raw["generation_id"], raw["area_id"], strict=True)
    ]
    for key in ("responsible_unit", "lead_unit"):
        out[f"{key}_name"] = _looked_up(raw[f"{key}_id"], ref.unit_name)
    for key in ("lon", "lat"):
        out[key] = [None if v != v else v for v in raw[key]]
    return out


def unit_bar_chart(led: Ledger, href, limit: int = 15) -> dict[str, Any]:
    """Deduction points of the units with the most (at most ``limit``), as bars."""
    rows = [r for r in led.by_unit if r["id"] is not None and r["deduction"] > 0][:limit]
    return charts.bar_chart(
        [
            {"label": r["name"] or r["id"], "value": r["deduction"], "href": href(r["id"])}
            for r in rows
        ]
    )


def daily_chart(led: Ledger) -> dict[str, Any]:
    dates = [d["date"] for d in led.daily]
    return charts.line_chart(
        dates, {"new": [d["new"] for d in led.daily], "closed": [d["closed"] for d in led.daily]}
    )


def print_map(
    led: Ledger, problems: list[dict[str, Any]], unit: str | None, district: str | None
) -> dict[str, Any]:
    """The areas of the unit (those it is responsible for) or of the district, and the
    filtered ``problems`` (:func:`problem_records`), as SVG geometry with a colour per point
    (its status)."""
    areas = led.extra["areas"]
    if unit:
        own = areas[areas["responsible_unit_id"] == unit]
        if led.filters.get("district"):  # the unit within the filtered districts
            own = own[own["district_id"].isin(led.filters["district"])]
    else:
        own = areas[areas["district_id"] == district]
    lon = [float("nan") if r["lon"] is None else r["lon"] for r in problems]
    lat = [float("nan") if r["lat"] is None else r["lat"] for r in problems]
    others = areas[~areas.index.isin(own.index)]
    shapes = charts.map_shapes(
        list(own.geometry.values),
        list(zip(lon, lat, strict=True)),
        context=list(others.geometry.values),
    )
    shapes["areas"] = [
        {"d": d, "name": n} for d, n in zip(shapes["paths"], own["name"], strict=True)
    ]
    shapes["context"] = [
        {"d": d, "name": n} for d, n in zip(shapes["context_paths"], others["name"], strict=True)
    ]
    shapes["dots"] = [
        {
            "x": p[0],
            "y": p[1],
            "colour": OVERDUE_COLOUR if late else STATUS_COLOURS.get(s, "#555"),
            "label": pid,
        }
        for p, s, late, pid in zip(
            shapes["points"],
            (r["status"] for r in problems),
            (r["overdue"] for r in problems),
            (r["problem_id"] for r in problems),
            strict=True,
        )
        if p is not None
    ]
    return shapes


def print_view(
    store, args: query_params.Args, locale: str = "zh", now: datetime | None = None
) -> dict:
    """What the A4 print view shows: the ledger of one unit (``unit``: one id) or, without
    a unit, of one district (``district``: one id); the other filters apply as usual.

    Raises BadParameter when neither names exactly one."""
    units = query_params._list(args, "unit")
    districts = query_params._list(args, "district")
    if len(units) > 1 or (not units and len(districts) != 1):
        name = "unit" if units else "district"
        raise query_params.BadParameter(name, N_("give one unit=ID or one district=ID to print"))
    led = build(store, args, locale, now)
    ref: reference.Reference = led.extra["ref"]
    if units:
        subject = {"kind": "unit", "id": units[0], "name": ref.unit_name(units[0])}
    else:
        lead = ref.districts[districts[0]].get("lead_unit_id")
        subject = {
            "kind": "district",
            "id": districts[0],
            "name": ref.district_name(districts[0]),
            "lead": ref.unit_name(lead),
        }
    problems = problem_records(store, led, locale)
    return {
        "led": led,
        "subject": subject,
        "shown_filters": {
            k: [filter_label(ref, k, v, locale) for v in values]
            for k, values in led.filters.items()
            if k != subject["kind"]
        },
        "problems": problems,
        "shape": print_map(
            led, problems, units[0] if units else None, None if units else districts[0]
        ),
    }


def filter_label(ref: reference.Reference, name: str, value: str, locale: str) -> str:
    """A filter value as people read it (a district's name rather than its id, a status's
    word rather than its code): the print view and the workbook's filter sheet."""
    label = {
        "district": ref.district_name,
        "unit": ref.unit_name,
        "category": lambda v: ref.category_label(v, locale),
        "status": lambda v: reference.status_label(v, locale),
    }.get(name, lambda v: v)(value)
    return label or value
