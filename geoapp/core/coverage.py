"""Inspection coverage (检查覆盖 / 巡查覆盖): the pure rules.

No Flask, no SQL.  The store counts; this module decides what the counts mean.

* **Kinds of inspection point** (受检点): :data:`POINT_KINDS`, a fixed list.
* **Coverage** of a unit (or district) in a round = points inspected at least once in the
  round / points registered to it (its current responsible unit); empty when it has none.
* **Clean rate** = points whose *latest* visit in the round was clean (达标) / points
  inspected; a point visited twice in a round keeps both visits, and the later one decides.
* **Deductions per inspected point** = the deduction points of the problems found by the
  round's visits to the unit's points (duplicates count 0, as in the ledger) / points
  inspected.
* **Ranking for the circulated report** (:func:`rank_coverage`):

  1. a unit with no registered point is "no points" (无受检点): not ranked, never commended;
  2. a unit whose coverage is below the threshold (a setting, 80 % by default) is
     "insufficient" (检查不足): never commended, whatever its results;
  3. among the others (enough coverage), the units with the best clean rate and, among
     those, the fewest deductions per inspected point are commended (ties all commended);
     nobody is commended when no unit has enough coverage;
  4. criticism ranks every unit with deductions or overdue rectifications, by deductions per
     inspected point (most first; a unit with deductions and no inspected point first of
     all), then overdue rectifications, then unit id; ties share a rank.

* **Patrol check-in** (:func:`checkin_decision`): accepted when the phone's position is in
  the area (on the edge counts) or within the distance setting of it (metres, measured in
  the projected CRS); otherwise refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from geoapp.core.messages import N_

if TYPE_CHECKING:
    from pyproj import Transformer

#: Kinds of inspection point: code → the English label (the UI translates it).
POINT_KINDS: dict[str, str] = {
    "market": N_("market"),
    "compound_managed": N_("compound with property management"),
    "compound_unmanaged": N_("compound without property management"),
    "urban_village": N_("urban village"),
    "school": N_("school"),
    "hospital": N_("hospital"),
    "station": N_("station"),
    "main_street": N_("main street"),
    "back_lane": N_("back lane"),
}

#: The Chinese names a register may use for each kind (the UI's names and common variants).
POINT_KIND_ALIASES: dict[str, str] = {
    "农贸市场": "market",
    "市场": "market",
    "有物业小区": "compound_managed",
    "物业小区": "compound_managed",
    "无物业小区": "compound_unmanaged",
    "开放式小区": "compound_unmanaged",
    "城中村": "urban_village",
    "学校": "school",
    "医院": "hospital",
    "车站": "station",
    "公交站台": "station",
    "主次干道": "main_street",
    "主干道": "main_street",
    "背街小巷": "back_lane",
}

#: The columns a register file may name each field with.
REGISTER_COLUMNS = {
    "point_id": ("point_id", "id", "编号", "受检点编号"),
    "name": ("name", "名称", "受检点", "受检点名称"),
    "kind": ("kind", "type", "类型", "受检点类型"),
    "note": ("note", "备注"),
}


def point_kind(text: Any) -> str | None:
    """A kind code from a code or a Chinese name (None when it is neither)."""
    value = str(text).strip() if text is not None else ""
    if value in POINT_KINDS:
        return value
    return POINT_KIND_ALIASES.get(value)


#: The results of a visit: clean (达标) or problems found.
VISIT_RESULTS = ("clean", "problems")

#: Default settings: coverage a unit needs to be commended; metres a check-in may be outside.
DEFAULT_MIN_COVERAGE = 0.8
DEFAULT_CHECKIN_DISTANCE_M = 50.0

#: The statuses :func:`rank_coverage` gives.
STATUSES = ("commended", "ranked", "insufficient", "no_points")

#: Days-since-last-activity classes for the coverage map: (upper bound in days, colour).
#: ``None`` days (never) is the last class.
AGE_CLASSES: tuple[tuple[float, str, str], ...] = (
    (1, "#1a9850", N_("today or yesterday")),
    (3, "#91cf60", N_("2–3 days")),
    (7, "#fee08b", N_("4–7 days")),
    (math.inf, "#fc8d59", N_("more than 7 days")),
)
NEVER_COLOUR = "#d73027"
NEVER_LABEL = N_("never")


@lru_cache(maxsize=256)
def _metric_around(lon: float, lat: float) -> Transformer:
    """WGS84 → metres on an azimuthal equidistant plane centred on (lon, lat): distances
    from that position are true anywhere on Earth (no UTM zone to fit the county)."""
    from pyproj import Transformer  # here: the store imports this module's constants only

    plane = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs"
    return Transformer.from_crs("EPSG:4326", plane, always_xy=True)


def is_point_kind(kind: Any) -> bool:
    return isinstance(kind, str) and kind in POINT_KINDS


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0."""
    return None if not denominator else numerator / denominator


def age_class(days: float | None) -> tuple[str, str]:
    """(colour, label) of a number of days since the last inspection or patrol."""
    if days is None:
        return NEVER_COLOUR, NEVER_LABEL
    for bound, colour, label in AGE_CLASSES:
        if days <= bound:
            return colour, label
    return NEVER_COLOUR, NEVER_LABEL  # pragma: no cover - the last bound is infinite


def legend() -> list[dict[str, str]]:
    """The map legend: the classes of :func:`age_class`, then "never"."""
    rows = [{"colour": c, "label": label} for _, c, label in AGE_CLASSES]
    return [*rows, {"colour": NEVER_COLOUR, "label": NEVER_LABEL}]


# --- check-ins -------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckinDecision:
    accepted: bool
    distance_m: float  # 0 inside the area


def distance_m(geometry: Any, lon: float, lat: float) -> float:
    """Metres from (lon, lat) to a WGS84 geometry (0 inside or on the edge), measured on a
    plane centred on the position."""
    if shapely.intersects_xy(geometry, lon, lat):
        return 0.0
    to_metric = _metric_around(float(lon), float(lat))
    metric = shapely.transform(
        geometry, lambda xy: _stack(*to_metric.transform(xy[:, 0], xy[:, 1]))
    )
    return float(shapely.distance(metric, shapely.Point(0.0, 0.0)))


def _stack(x: Any, y: Any) -> Any:
    return np.column_stack([x, y])


def checkin_decision(
    geometry: Any, lon: float, lat: float, max_distance_m: float
) -> CheckinDecision:
    """Accept a check-in in the area or within ``max_distance_m`` metres of it."""
    dist = distance_m(geometry, lon, lat)
    return CheckinDecision(dist <= max_distance_m, round(dist, 1))


# --- coverage figures and the ranking --------------------------------------------------
def finish_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Add coverage, clean_rate and deduction_per_point to a row of counts (registered,
    inspected, clean, deduction)."""
    out = dict(row)
    inspected = int(out.get("inspected") or 0)
    out["coverage"] = ratio(inspected, int(out.get("registered") or 0))
    out["clean_rate"] = ratio(int(out.get("clean") or 0), inspected)
    out["deduction_per_point"] = ratio(float(out.get("deduction") or 0.0), inspected)
    return out


def rank_coverage(
    rows: Iterable[Mapping[str, Any]], min_coverage: float = DEFAULT_MIN_COVERAGE
) -> list[dict[str, Any]]:
    """The circulated report's ranking of units by coverage and results (rules above).

    Each input row has ``id`` (unit), ``registered``, ``inspected``, ``clean``, ``deduction``
    and ``overdue``.  Returns the rows with ``coverage``, ``clean_rate``,
    ``deduction_per_point``, ``status`` (:data:`STATUSES`), ``commended`` (bool) and
    ``criticism_rank`` (1, 2, 2, 4 …; None when the unit has neither deductions nor
    overdue rectifications), ordered: commended, ranked (best first), insufficient, no points.
    """
    out = [finish_row(r) for r in rows]
    for r in out:
        if not r.get("registered"):
            r["status"] = "no_points"
        elif r["coverage"] is None or r["coverage"] + 1e-12 < min_coverage:
            r["status"] = "insufficient"
        else:
            r["status"] = "ranked"
        r["commended"] = False
    eligible = [r for r in out if r["status"] == "ranked"]
    if eligible:
        best = max(_result_key(r) for r in eligible)
        for r in eligible:
            if _result_key(r) == best:
                r["status"], r["commended"] = "commended", True
    _criticism(out)
    order = {s: i for i, s in enumerate(STATUSES)}
    out.sort(key=lambda r: (order[r["status"]], tuple(-x for x in _result_key(r)), str(r["id"])))
    return out


def _result_key(row: Mapping[str, Any]) -> tuple[float, float]:
    """Larger is better: clean rate, then fewer deductions per inspected point."""
    clean = row["clean_rate"] if row["clean_rate"] is not None else -1.0
    per = row["deduction_per_point"]
    return (round(clean, 9), -round(per, 9) if per is not None else -math.inf)


def _criticism(rows: Sequence[dict[str, Any]]) -> None:
    def weight(r: Mapping[str, Any]) -> tuple[float, int]:
        per = r["deduction_per_point"]
        if per is None:
            per = math.inf if float(r.get("deduction") or 0) > 0 else 0.0
        return (per, int(r.get("overdue") or 0))

    named = [r for r in rows if weight(r) != (0.0, 0)]
    named.sort(key=lambda r: (tuple(-x for x in weight(r)), str(r["id"])))
    previous, rank = None, 0
    for i, r in enumerate(named, start=1):
        w = weight(r)
        if w != previous:
            rank, previous = i, w
        r["criticism_rank"] = rank
    for r in rows:
        r.setdefault("criticism_rank", None)


def days_between(later_date: str, earlier_date: str | None) -> int | None:
    """Whole days between two ISO dates (YYYY-MM-DD); None when ``earlier_date`` is None."""
    if earlier_date is None:
        return None
    return (date.fromisoformat(later_date) - date.fromisoformat(earlier_date)).days
