"""The deduction ledger (台账): pure computations over a table of problems.

No Flask, no SQL.  The input is the filtered problems (dicts or a DataFrame with ``id``,
``problem_id``, ``status``, ``deduction``, ``category``, ``district_id``,
``responsible_unit_id``, ``lead_unit_id``, ``reported_at``, ``duplicate_of``), the
categories' deadlines in hours and, per problem id, the time it was rectified.

Definitions (the README repeats them):

* **deadline** = ``reported_at`` + the category's ``deadline_hours``
  (:func:`geoapp.deadlines.deadline`); no deadline when the category has none.
* **rectified_at** = the time of the latest status event that moved the problem to
  ``rectified``, kept only while the problem is closed (``rectified`` or ``verified``);
  a problem reopened since has none.
* **open** = any status but ``rectified`` and ``verified``; **overdue** = open and past
  its deadline at ``now``.
* **rectified on time** / **late**: closed with a known ``rectified_at`` at or before /
  after the deadline; closed problems with no recorded rectification (imported as
  closed) count as **closed, time unknown** and are left out of the on-time rate.
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
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .deadlines import deadline, rectified_on_time

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CLOSED_STATUSES = frozenset({"rectified", "verified"})
GROUPS = {"unit": "responsible_unit_id", "district": "district_id", "category": "category"}
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
    rectified_at: Mapping[int, datetime],
    now: datetime,
) -> pd.DataFrame:
    """One row per problem with the ledger's derived columns added: ``counted_deduction``
    (0 for a duplicate), ``is_duplicate``, ``due``, ``rectified_at``, ``is_open``,
    ``overdue``, ``on_time`` (True/False/None), ``closed_unknown``."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    for column in INPUT_COLUMNS:
        if column not in frame:
            frame[column] = pd.Series([None] * len(frame), dtype=object)
    frame = frame.astype({c: object for c in INPUT_COLUMNS if c not in ("id", "deduction")})
    frame["deduction"] = pd.to_numeric(frame["deduction"]).astype(float).fillna(0.0)
    dup = frame["duplicate_of"].map(lambda v: v is not None and v == v)
    frame["is_duplicate"] = dup.astype(bool)
    frame["counted_deduction"] = np.where(frame["is_duplicate"], 0.0, frame["deduction"])
    closed = frame["status"].isin(CLOSED_STATUSES)
    frame["is_open"] = ~closed
    dues, rect, overdue, on_time = [], [], [], []
    for pid, cat, reported, is_closed in zip(
        frame["id"], frame["category"], frame["reported_at"], closed, strict=True
    ):
        due = deadline(reported, deadline_hours.get(cat))
        at = rectified_at.get(int(pid)) if is_closed else None
        dues.append(due)
        rect.append(at)
        overdue.append(bool(not is_closed and due is not None and now > due))
        on_time.append(rectified_on_time(at, due))
    frame["due"] = pd.Series(dues, index=frame.index, dtype=object)
    frame["rectified_at"] = pd.Series(rect, index=frame.index, dtype=object)
    frame["overdue"] = pd.Series(overdue, index=frame.index, dtype=bool)
    frame["on_time"] = pd.Series(on_time, index=frame.index, dtype=object)
    frame["closed_unknown"] = closed & frame["rectified_at"].isna()
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


def _rate(on_time: int, late: int) -> float | None:
    return round(on_time / (on_time + late), 4) if on_time + late else None


def totals(frame: pd.DataFrame) -> dict[str, Any]:
    """The totals of a problem table (all of it)."""
    on_time = int((frame["on_time"] == True).sum())  # noqa: E712 - object column
    late = int((frame["on_time"] == False).sum())  # noqa: E712
    return {
        "problems": len(frame),
        "duplicates": int(frame["is_duplicate"].sum()),
        "deduction": round(float(frame["counted_deduction"].sum()), 2),
        "open": int(frame["is_open"].sum()),
        "overdue": int(frame["overdue"].sum()),
        "closed": int((~frame["is_open"]).sum()),
        "on_time": on_time,
        "late": late,
        "closed_unknown": int(frame["closed_unknown"].sum()),
        "on_time_rate": _rate(on_time, late),
    }


def group_totals(
    frame: pd.DataFrame, group: str, keys: Sequence[str | None] = ()
) -> list[dict[str, Any]]:
    """Totals per ``group`` (unit, district or category), as dicts with ``id`` (None for
    problems outside every area or without a category) and :data:`TOTAL_FIELDS`.

    ``keys`` are ids to list even with no problem (zero totals).  Sorted by deduction
    points (most first), then problems, then id.
    """
    column = GROUPS[group]
    out: dict[Any, dict[str, Any]] = {}
    values = frame[column].map(lambda v: None if v is None or v != v else v)
    for key, part in frame.groupby(values.fillna("\0"), sort=False):
        out[None if key == "\0" else key] = {"id": None if key == "\0" else key, **totals(part)}
    empty = totals(frame.iloc[0:0])
    for key in keys:
        out.setdefault(key, {"id": key, **empty})
    return sorted(
        out.values(),
        key=lambda r: (-r["deduction"], -r["problems"], r["id"] is None, r["id"] or ""),
    )


def daily(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """New problems (by Beijing date reported) and closed ones (by Beijing date rectified)
    per day, every day from the first to the last date present, zeros included."""
    new = [_local_day(v) for v in frame["reported_at"] if v is not None]
    closed = [_local_day(v) for v in frame["rectified_at"] if v is not None and v == v]
    if not new and not closed:
        return []
    days = sorted(set(new) | set(closed))
    first, last = days[0], days[-1]
    n_new = pd.Series(new, dtype=object).value_counts().to_dict()
    n_closed = pd.Series(closed, dtype=object).value_counts().to_dict()
    out = []
    day = first
    while day <= last:
        out.append(
            {"date": day.isoformat(), "new": n_new.get(day, 0), "closed": n_closed.get(day, 0)}
        )
        day += timedelta(days=1)
    return out


def _local_day(value: datetime):
    return value.astimezone(LOCAL_TZ).date()


@dataclass
class Ranking:
    """The circulated report's ranking of units (通报).

    ``rows``: every unit ranked by deduction points, most first (ties share a rank: 1, 2, 2,
    4); each row has ``rank`` and ``group`` ("accountability", "commendation" or None).

    Rules, in order:

    1. **Accountability** (通报批评): the ``size`` units with the most deduction points,
       ties at the boundary included; then overdue problems, then problems, break the
       ties in the listing.  Units with 0 points are never in this group.
    2. **Commendation** (通报表扬): among the other units, the ``size`` with the fewest
       deduction points, then the fewest overdue problems, then the best on-time rate (a
       unit with no timed rectification comes after the others), ties at the boundary
       included.
    """

    rows: list[dict[str, Any]]
    accountability: list[dict[str, Any]]
    commendation: list[dict[str, Any]]


def rank_units(unit_rows: Sequence[Mapping[str, Any]], size: int = GROUP_SIZE) -> Ranking:
    """The ranking of :class:`Ranking` over per-unit totals (rows of :func:`group_totals`
    for ``"unit"``; the row without a unit, if any, is left out)."""
    units = [dict(r) for r in unit_rows if r.get("id") is not None]
    units.sort(key=lambda r: (-r["deduction"], -r["overdue"], -r["problems"], r["id"]))
    rank, previous = 0, None
    for i, row in enumerate(units, 1):
        if row["deduction"] != previous:
            rank, previous = i, row["deduction"]
        row["rank"] = rank
        row["group"] = None

    worst = [r for r in units if r["deduction"] > 0]
    accountability = worst[:size]
    if accountability:
        edge = accountability[-1]["deduction"]
        accountability += [r for r in worst[size:] if r["deduction"] == edge]
    blamed = {r["id"] for r in accountability}

    def merit(r: Mapping[str, Any]) -> tuple:
        rate = r["on_time_rate"]
        return (r["deduction"], r["overdue"], -rate if rate is not None else math.inf)

    good = sorted(
        (r for r in units if r["id"] not in blamed),
        key=lambda r: (*merit(r), r["problems"], r["id"]),
    )
    commendation = good[:size]
    if commendation:
        edge = merit(commendation[-1])
        commendation += [r for r in good[size:] if merit(r) == edge]
    for r in accountability:
        r["group"] = "accountability"
    for r in commendation:
        r["group"] = "commendation"
    return Ranking(units, accountability, commendation)
