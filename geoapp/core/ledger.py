"""The deduction ledger (台账): pure computations over a table of problems.

No Flask, no SQL.  The input is the filtered problems (dicts or a DataFrame with ``id``,
``problem_id``, ``status``, ``deduction``, ``category``, ``district_id``,
``responsible_unit_id``, ``lead_unit_id``, ``reported_at``, ``duplicate_of``), the
categories' deadlines in hours and, per problem id, the time it was rectified.

Definitions (the README repeats them):

* **deadline** = ``reported_at`` + the category's ``deadline_hours``
  (:func:`geoapp.core.deadlines.deadline`); no deadline when the category has none.
* **rectified_at** = the time of the latest status event that moved the problem to
  ``rectified``, kept only while the problem is closed (``rectified`` or ``verified``);
  a problem reopened since has none.
* **open** = any status but ``rectified`` and ``verified``; **overdue** = open and past
  its deadline at ``now``.
* **rectified on time** / **late**: closed with a known ``rectified_at`` at or before /
  after the deadline; closed problems with no recorded rectification (imported closed
  without a rectification time; an import's ``整改完成时间`` is recorded as such an
  event) count as **closed, time unknown** and are left out of the on-time rate.
* **on-time rate** = on time / (on time + late); empty when neither.
* **duplicates**: a problem with ``duplicate_of`` set is counted as a problem (and in
  ``duplicates``) but its deduction counts 0: the points were already charged on the
  problem it duplicates.
* per **unit** means per *responsible* unit; per **district** per district (its lead
  unit answers for it); problems outside every area are grouped under an empty key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from geoapp.core.deadlines import MAX_DEADLINE_HOURS

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CLOSED_STATUSES = frozenset({"rectified", "verified"})
GROUPS = {
    "unit": "responsible_unit_id",
    "district": "district_id",
    "category": "category",
    "round": "round",
}
#: Problem fields the ledger reads.
INPUT_COLUMNS = (
    "id",
    "problem_id",
    "round",
    "category",
    "description",
    "deduction",
    "reported_at",
    "status",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "duplicate_of",
    "generation_id",
    "lon",
    "lat",
)
#: Totals of one group, in display order.
TOTAL_FIELDS = (
    "problems",
    "duplicates",
    "deduction",
    "open",
    "overdue",
    "closed",
    "on_time",
    "late",
    "closed_unknown",
    "on_time_rate",
)
#: Size of the commendation and accountability groups of the ranking (ties included).
GROUP_SIZE = 3


def problem_table(
    rows: Iterable[Mapping[str, Any]] | pd.DataFrame,
    deadline_hours: Mapping[str, float | None],
    rectified_at: Mapping[int, datetime] | None,
    now: datetime,
) -> pd.DataFrame:
    """One row per problem with the ledger's derived columns added: ``counted_deduction``
    (0 for a duplicate), ``is_duplicate``, ``due``, ``rectified_at`` (UTC timestamps, NaT
    when none), ``is_open``, ``overdue``, ``on_time`` (True/False/None), ``closed_unknown``.
    ``rectified_at`` None: the rows carry their rectification time (``rectified_at``, as
    the store's problem batches do).

    Vectorised, with the rules of :mod:`geoapp.core.deadlines` (deadline = reported_at +
    hours; on time = rectified at or before the deadline); a test checks both agree.
    """
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    for column in INPUT_COLUMNS:
        if column not in frame:
            frame[column] = pd.Series([None] * len(frame), dtype=object)
    keep_type = ("id", "deduction", "reported_at", "lon", "lat")
    frame = frame.astype({c: object for c in INPUT_COLUMNS if c not in keep_type})
    frame["id"] = frame["id"].astype("int64") if len(frame) else frame["id"].astype("int64")
    frame["deduction"] = pd.to_numeric(frame["deduction"]).astype(float).fillna(0.0)
    for column in ("lon", "lat"):
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    frame["reported_at"] = _utc(frame["reported_at"])
    frame["is_duplicate"] = frame["duplicate_of"].notna().astype(bool)
    frame["counted_deduction"] = frame["deduction"].where(~frame["is_duplicate"], 0.0)
    closed = frame["status"].isin(CLOSED_STATUSES).astype(bool)
    frame["is_open"] = ~closed
    hours = pd.to_numeric(
        # one look-up per category, not per problem (a million rows at city scale)
        frame["category"].map(dict(deadline_hours)),
        errors="coerce",
    ).astype(float)
    # as deadlines.usable_hours: outside (0, MAX_DEADLINE_HOURS] counts as no deadline
    hours = hours.where((hours > 0) & (hours <= MAX_DEADLINE_HOURS))
    frame["due"] = frame["reported_at"] + pd.to_timedelta(hours, unit="h")
    rect = _utc(frame["rectified_at"] if rectified_at is None else frame["id"].map(rectified_at))
    frame["rectified_at"] = rect.where(closed)
    now_ts = pd.Timestamp(now).tz_convert("UTC")
    frame["overdue"] = (frame["is_open"] & frame["due"].notna() & (frame["due"] < now_ts)).astype(
        bool
    )
    timed = frame["rectified_at"].notna() & frame["due"].notna()
    on_time = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    on_time[timed] = (frame["rectified_at"][timed] <= frame["due"][timed]).tolist()
    frame["on_time"] = on_time
    frame["closed_unknown"] = (closed & frame["rectified_at"].isna()).astype(bool)
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


def _utc(values: pd.Series) -> pd.Series:
    """Timestamps (aware datetimes, ISO text, or None) as a UTC datetime64 column."""
    if not len(values):
        return pd.Series([], index=values.index, dtype="datetime64[ns, UTC]")
    return pd.to_datetime(values, utc=True, format="ISO8601")


def _rate(on_time: int, late: int) -> float | None:
    return round(on_time / (on_time + late), 4) if on_time + late else None


def _count_columns(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "problems": 1,
            "duplicates": frame["is_duplicate"].astype(int),
            "deduction": frame["counted_deduction"].astype(float),
            "open": frame["is_open"].astype(int),
            "overdue": frame["overdue"].astype(int),
            "closed": (~frame["is_open"]).astype(int),
            "on_time": (frame["on_time"] == True).astype(int),  # noqa: E712 - object column
            "late": (frame["on_time"] == False).astype(int),  # noqa: E712
            "closed_unknown": frame["closed_unknown"].astype(int),
        },
        index=frame.index,
    )


def _finish(sums: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: int(sums[k]) for k in TOTAL_FIELDS if k not in ("deduction", "on_time_rate")}
    out["deduction"] = round(float(sums["deduction"]), 2)
    out["on_time_rate"] = _rate(out["on_time"], out["late"])
    return {k: out[k] for k in TOTAL_FIELDS}


def totals(frame: pd.DataFrame) -> dict[str, Any]:
    """The totals of a problem table (all of it)."""
    return _finish(_count_columns(frame).sum())


def group_totals(
    frame: pd.DataFrame, group: str, keys: Sequence[str | None] = ()
) -> list[dict[str, Any]]:
    """Totals per ``group`` (unit, district or category), as dicts with ``id`` (None for
    problems outside every area or without a category) and :data:`TOTAL_FIELDS`.

    ``keys`` are ids to list even with no problem (zero totals).  Sorted by deduction
    points (most first), then problems, then id.
    """
    column = GROUPS[group]
    counts = _count_columns(frame)
    key = frame[column].astype(object)
    out: dict[Any, dict[str, Any]] = {}
    for value, sums in counts.groupby(key, sort=False, dropna=False).sum().iterrows():
        ident = None if value is None or value != value else value
        out[ident] = {"id": ident, **_finish(sums)}
    empty = totals(frame.iloc[0:0])
    for k in keys:
        out.setdefault(k, {"id": k, **empty})
    return _by_points(out.values())


# ------------------------------------------------------------------ from counted rows
#
# The store counts the problems per responsible unit, district, category, round and status
# in SQL (geoapp.store.ledger_queries); these add those rows up with the same rules.

#: Keys of a counted row, then its counts (as the store gives them).
COUNT_KEYS = ("responsible_unit_id", "district_id", "category", "round", "status")


def deadline_microseconds(deadline_hours: Mapping[str, Any]) -> dict[str, int]:
    """category → its deadline in whole microseconds, for the categories with a usable one
    (as :func:`problem_table`: the deadline in nanoseconds, then whole microseconds, so
    that comparing microsecond times gives the same answer)."""
    out = {}
    for category, hours in deadline_hours.items():
        usable = _usable_hours(hours)
        if usable is not None:
            out[category] = int(pd.to_timedelta(usable, unit="h").value // 1000)
    return out


def _usable_hours(hours: Any) -> float | None:
    try:
        value = float(hours)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if 0 < value <= MAX_DEADLINE_HOURS else None


def counted_rows(
    rows: Iterable[Sequence[Any]], with_deadline: Iterable[str]
) -> list[dict[str, Any]]:
    """The store's rows (:data:`COUNT_KEYS`, then problems, duplicates, deduction, overdue,
    rectified, on_time) as dicts of those keys and the counts of :data:`TOTAL_FIELDS` (no
    rate), ``with_deadline`` being the categories that have a usable deadline.

    Overdue counts only while open; on time, late and time unknown only once closed (the
    rectification time of a reopened problem does not count); late = rectified, with a
    deadline, not on time; time unknown = closed without a rectification time."""
    timed = set(with_deadline)
    out = []
    for row in rows:
        keys = dict(zip(COUNT_KEYS, row[: len(COUNT_KEYS)], strict=True))
        problems, duplicates, deduction, overdue, rectified, on_time = (
            int(v) if i != 2 else float(v or 0.0) for i, v in enumerate(row[len(COUNT_KEYS) :])
        )
        closed = keys["status"] in CLOSED_STATUSES
        on_time = on_time if closed else 0
        late = rectified - on_time if closed and keys["category"] in timed else 0
        out.append(
            {
                **keys,
                "problems": problems,
                "duplicates": duplicates,
                "deduction": deduction,
                "open": 0 if closed else problems,
                "overdue": 0 if closed else overdue,
                "closed": problems if closed else 0,
                "on_time": on_time,
                "late": late,
                "closed_unknown": problems - rectified if closed else 0,
            }
        )
    return out


def add_up(counted: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The totals of counted rows (all of them)."""
    sums = {f: 0 for f in _SUMMED}
    deduction = []
    for row in counted:
        for f in _SUMMED:
            sums[f] += row[f]
        deduction.append(row["deduction"])
    return _finish({**sums, "deduction": math.fsum(deduction)})


_SUMMED = tuple(f for f in TOTAL_FIELDS if f not in ("deduction", "on_time_rate"))


def group_counted(
    counted: Sequence[Mapping[str, Any]], group: str, keys: Sequence[str | None] = ()
) -> list[dict[str, Any]]:
    """Totals per ``group`` (unit, district, category or round) of counted rows, as
    :func:`group_totals` gives them from a problem table: ``id`` (None for problems outside
    every area or without a category or round) and :data:`TOTAL_FIELDS`; ``keys`` listed
    even with no problem; sorted by deduction points (most first), then problems, then id."""
    column = GROUPS[group]
    parts: dict[Any, list[Mapping[str, Any]]] = {}
    for row in counted:
        parts.setdefault(row[column], []).append(row)
    out = {k: {"id": k, **add_up(rows)} for k, rows in parts.items()}
    for k in keys:
        out.setdefault(k, {"id": k, **add_up([])})
    return _by_points(out.values())


def _by_points(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        rows, key=lambda r: (-r["deduction"], -r["problems"], r["id"] is None, r["id"] or "")
    )


def daily_from_hours(
    new: Iterable[tuple[str, int]], closed: Iterable[tuple[str, int]]
) -> list[dict[str, Any]]:
    """:func:`daily` from counts per UTC hour (``YYYY-MM-DDTHH``, as the store gives them):
    each hour falls in one Beijing day."""
    days: dict[str, dict[str, int]] = {}
    for name, counts in (("new", new), ("closed", closed)):
        for hour, n in counts:
            start = datetime.fromisoformat(f"{hour}:00:00+00:00")
            day = start.astimezone(LOCAL_TZ).date().isoformat()
            days.setdefault(day, {"new": 0, "closed": 0})[name] += int(n)
    if not days:
        return []
    span = pd.date_range(min(days), max(days))
    return [
        {"date": d, **days.get(d, {"new": 0, "closed": 0})}
        for d in (day.date().isoformat() for day in span)
    ]


def daily(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """New problems (by Beijing date reported) and closed ones (by Beijing date rectified)
    per day, every day from the first to the last date present, zeros included."""
    new = _local_days(frame["reported_at"]).value_counts()
    closed = _local_days(frame["rectified_at"]).value_counts()
    if not len(new) and not len(closed):
        return []
    days = pd.date_range(min([*new.index, *closed.index]), max([*new.index, *closed.index]))
    return [
        {
            "date": day.date().isoformat(),
            "new": int(new.get(day, 0)),
            "closed": int(closed.get(day, 0)),
        }
        for day in days
    ]


def _local_days(values: pd.Series) -> pd.Series:
    values = values.dropna()
    if not len(values):
        return pd.Series([], dtype="datetime64[ns]")
    return values.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).dt.normalize()


@dataclass
class Ranking:
    """The circulated report's ranking of units (通报).

    ``rows``: the units ranked by deduction points, most first (ties share a rank: 1, 2, 2,
    4), then the units with no problem under the filters, unranked (``rank`` None): having
    had nothing to rectify is neither good nor bad work.  Each row has ``rank`` and
    ``group`` ("accountability", "commendation" or None).  ``ranked`` is how many units the
    ranking has (those with at least one problem).

    Rules, in order:

    1. **Accountability** (通报批评): the ``size`` units with the most deduction points,
       ties at the boundary included; then overdue problems, then problems, break the
       ties in the listing.  Units with 0 points are never in this group.
    2. **Commendation** (通报表扬): among the other units, only those that had problems
       and rectified every one of them on time (no open problem, no late one, none closed
       without a recorded rectification time); of them the ``size`` with the fewest
       deduction points, then the most problems, ties at the boundary included.  A unit
       with no problem under the filters is never commended.

    ``shown`` (see :func:`restrict`): when only some units are shown (a unit filter, a
    unit's own account), the ids shown; their ranks stay those of the whole ranking.
    """

    rows: list[dict[str, Any]]
    accountability: list[dict[str, Any]]
    commendation: list[dict[str, Any]]
    ranked: int = 0
    shown: tuple[str, ...] | None = None


def rank_units(unit_rows: Sequence[Mapping[str, Any]], size: int = GROUP_SIZE) -> Ranking:
    """The ranking of :class:`Ranking` over per-unit totals (rows of :func:`group_totals`
    for ``"unit"``; the row without a unit, if any, is left out)."""
    units = [dict(r) for r in unit_rows if r.get("id") is not None]
    for row in units:
        row["rank"] = row["group"] = None
    ranked = [r for r in units if r["problems"] > 0]
    ranked.sort(key=lambda r: (-r["deduction"], -r["overdue"], -r["problems"], r["id"]))
    rank, previous = 0, None
    for i, row in enumerate(ranked, 1):
        if row["deduction"] != previous:
            rank, previous = i, row["deduction"]
        row["rank"] = rank

    accountability = _top([r for r in ranked if r["deduction"] > 0], size, lambda r: r["deduction"])
    blamed = {r["id"] for r in accountability}
    exemplary = sorted(
        (r for r in ranked if r["id"] not in blamed and r["on_time"] == r["problems"]),
        key=lambda r: (r["deduction"], -r["problems"], r["id"]),
    )
    commendation = _top(exemplary, size, lambda r: r["deduction"])
    for r in accountability:
        r["group"] = "accountability"
    for r in commendation:
        r["group"] = "commendation"
    unranked = sorted((r for r in units if r["problems"] == 0), key=lambda r: r["id"])
    return Ranking(ranked + unranked, accountability, commendation, len(ranked))


def _top(rows: list[dict[str, Any]], size: int, edge_key) -> list[dict[str, Any]]:
    """The first ``size`` rows, and those after them tied with the last on ``edge_key``."""
    top = rows[:size]
    if top:
        edge = edge_key(top[-1])
        top += [r for r in rows[size:] if edge_key(r) == edge]
    return top


def restrict(ranking: Ranking, ids: Iterable[str]) -> Ranking:
    """The same ranking showing only the units ``ids`` (their ranks and groups unchanged):
    a unit sees where it stands among all units without the others' rows."""
    keep = tuple(ids)
    wanted = set(keep)
    return Ranking(
        [r for r in ranking.rows if r["id"] in wanted],
        [r for r in ranking.accountability if r["id"] in wanted],
        [r for r in ranking.commendation if r["id"] in wanted],
        ranking.ranked,
        keep,
    )
