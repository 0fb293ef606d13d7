"""Problems as the map and the API show them: the paged list, one problem with its history,
the clusters the map draws at a zoom, and the totals of the filtered problems.

Each function takes the store, the query parameters (see
:mod:`geoapp.services.query_params`) and the locale, and returns JSON-ready data (GeoJSON
dicts); ``overdue`` flags are worked out as at ``now`` (default: the present).  No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from geoapp.core import clustering, workflow
from geoapp.core.deadlines import deadline, is_overdue
from geoapp.core.messages import N_
from geoapp.core.model import OPEN_STATUSES, STATUSES, URGENCY, urgency_class
from geoapp.services.geojson import GEOJSON, _collection, _point, _to_display
from geoapp.services.query_params import (
    DEFAULT_LIMIT,
    MAX_ID,
    MAX_LIMIT,
    Args,
    _int,
    _raw,
    parse_display_crs,
    parse_problem_filter,
    parse_zoom,
)
from geoapp.services.reading import _area_names, _points, _Read, _reading
from geoapp.services.reference import status_label
from geoapp.services.times import local_time
from geoapp.store import DEFAULT_STATUS, NotFound

CLOSED_STATUSES = frozenset(STATUSES) - frozenset(OPEN_STATUSES)
SUMMARY_COLUMNS = ("category", "district_id", "responsible_unit_id", "duplicate_of")


def _in_bbox(lon: np.ndarray, lat: np.ndarray, bbox) -> np.ndarray:
    minx, miny, maxx, maxy = bbox
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def _problem_features(
    rows: list[dict], read: _Read, locale: str, display: str, now: datetime | None = None
) -> list[dict]:
    """GeoJSON features of problem rows; ``overdue`` as at ``now`` (default: the present)."""
    ref = read.ref
    names = _area_names(read, (r["generation_id"] for r in rows))
    lon, lat = _to_display(
        [np.nan if r["lon"] is None else r["lon"] for r in rows],
        [np.nan if r["lat"] is None else r["lat"] for r in rows],
        display,
    )
    features = []
    now = now or datetime.now(UTC)
    for r, x, y in zip(rows, lon, lat, strict=True):
        cat = ref.categories.get(r["category"]) if r["category"] else None
        due = deadline(r["reported_at"], (cat or {}).get("deadline_hours"))
        features.append(
            {
                "type": "Feature",
                "id": r["id"],
                "geometry": _point(x, y),
                "properties": {
                    "id": r["id"],
                    "problem_id": r["problem_id"],
                    "round": r["round"],
                    "category": r["category"],
                    "category_label": ref.category_label(r["category"], locale),
                    "description": r["description"],
                    "deduction": r["deduction"],
                    "reported_at": local_time(r["reported_at"]),
                    "status": r["status"],
                    "status_label": status_label(r["status"], locale),
                    "area_id": r["area_id"],
                    "area_name": names.get((r["generation_id"], r["area_id"])),
                    "district_id": r["district_id"],
                    "district_name": ref.district_name(r["district_id"]),
                    "responsible_unit_id": r["responsible_unit_id"],
                    "responsible_unit_name": ref.unit_name(r["responsible_unit_id"]),
                    "lead_unit_id": r["lead_unit_id"],
                    "lead_unit_name": ref.unit_name(r["lead_unit_id"]),
                    "rule_id": r["rule_id"],
                    "generation": r["generation_id"],
                    "due_at": local_time(due),
                    "overdue": _overdue(r["status"], due, now),
                    "duplicate_of": r["duplicate_of"],
                },
            }
        )
    return features


#: The statuses whose problems can be overdue: the open ones and a new, unassigned problem.
OVERDUE_STATUSES = (*OPEN_STATUSES, DEFAULT_STATUS)


def _overdue(status: str, due: datetime | None, now: datetime) -> bool:
    return is_overdue(status, due, now) or (
        status == DEFAULT_STATUS and due is not None and now > due
    )


def page_links(url: str, args: Args, limit: int, offset: int, returned: int, matched: int):
    """``self``, ``next`` and ``prev`` links of a page, keeping the other query parameters."""
    keep = [(k, v) for k in sorted(args) if k not in ("limit", "offset") for v in _raw(args, k)]

    def link(rel: str, start: int) -> dict:
        query = urlencode([*keep, ("limit", limit), ("offset", start)])
        return {"rel": rel, "type": GEOJSON, "href": f"{url}?{query}"}

    links = [link("self", offset)]
    if offset + returned < matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    return links


def problems(
    store,
    args: Args,
    locale: str = "zh",
    url: str = "/api/problems",
    paged: bool = True,
    now: datetime | None = None,
    reported: tuple[datetime | None, datetime | None] = (None, None),
    cql: Callable[[Any], tuple | None] | None = None,
    sort: Sequence[tuple[str, bool]] = (),
) -> dict:
    """Problem points matching the filters, sorted by id, paged with ``limit``/``offset``
    (``paged=False``: all of them, as the old ``/api/problems.geojson``); ``overdue`` as at
    ``now`` (default: the present); ``reported``: the span ``[start, end)`` their
    ``reported_at`` must lie in as well (OGC ``datetime``; None: unbounded).  ``cql(reference)``
    gives a further filter tree (the OGC ``filter``) and ``sort`` the columns to sort by before
    the id (``sortby``)."""
    display = parse_display_crs(args)
    limit = _int(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) if paged else None
    offset = _int(args, "offset", 0, 0, MAX_ID) if paged else 0
    with _reading(store) as read:
        flt = parse_problem_filter(args, read.ref, display)
        where = _within(flt.with_bbox(), *reported)
        tree = cql(read.ref) if cql is not None else None
        if tree is not None:
            where["cql"] = tree
        matched = read.tx.count_problems(where)
        rows = read.tx.problems(where, limit=limit, offset=offset, sort=sort)
        features = _problem_features(rows, read, locale, display, now)
    out = _collection(features, numberMatched=matched, numberReturned=len(features))
    if paged:
        out["links"] = page_links(url, args, limit, offset, len(features), matched)
    return out


def _within(where: dict, start: datetime | None, end: datetime | None) -> dict:
    """Store filters narrowed to ``reported_at`` in ``[start, end)`` too (the store's
    ``date_from`` is inclusive, ``date_to`` exclusive)."""
    if start is not None and (where.get("date_from") is None or start > where["date_from"]):
        where["date_from"] = start
    if end is not None and (where.get("date_to") is None or end < where["date_to"]):
        where["date_to"] = end
    return where


def problem(
    store, problem_pk: int, args: Args, locale: str = "zh", now: datetime | None = None
) -> dict:
    """One problem with its history (``events``) and the coordinates it was reported in;
    ``overdue`` as at ``now`` (default: the present)."""
    display = parse_display_crs(args)
    if not 0 < problem_pk <= MAX_ID:
        raise NotFound(N_("unknown problem id %(problem_pk)r"), problem_pk=problem_pk)
    with _reading(store) as read:
        row = read.tx.get_problem(problem_pk)
        events = read.tx.problem_events(row["id"])
        photos = read.tx.problem_photos(row["id"])
        feature = _problem_features([row], read, locale, display, now)[0]
    feature["properties"] |= {
        "source_crs": row["source_crs"],
        "source_x": row["source_x"],
        "source_y": row["source_y"],
        "photos": [
            {
                "id": ph["id"],
                "content_type": ph["content_type"],
                "bytes": ph["size_bytes"],
                "uploaded_at": local_time(ph["uploaded_at"]),
                "uploaded_by": ph["uploaded_by"],
                "stage": ph.get("stage"),
            }
            for ph in photos
        ],
        "events": [
            {
                "at": local_time(e["at"]),
                "actor": e["actor"],
                "kind": e["kind"],
                "detail": e["detail"],
                "note": e["note"],
            }
            for e in events
        ],
    }
    return feature


def _due_seconds(read: _Read, pts: dict[str, Any]) -> np.ndarray:
    """Each point's deadline (POSIX seconds; NaN without one), from its ``reported_at`` and
    ``category`` columns and the categories' deadlines."""
    hours = {c: v.get("deadline_hours") for c, v in read.ref.categories.items()}
    # each distinct category looked up once, not each of a million rows (the per-row
    # mapping took 1.4 s of a 1.5 s cluster answer at 1M problems)
    codes, distinct = pd.factorize(np.asarray(pts["category"], dtype=object))
    per = pd.to_numeric(pd.Series([hours.get(c) for c in distinct], dtype=object), errors="coerce")
    # code -1 (no category) takes the NaN appended at the end
    limit = np.append(per.to_numpy(np.float64), np.nan)[codes]
    return pts["reported_at"] + limit * 3600.0


#: The point columns clustering reads besides id, position, status and deduction.
CLUSTER_COLUMNS = ("category", "reported_at")


def _urgency(pts: dict[str, Any], due: np.ndarray, now: datetime) -> np.ndarray:
    """Each point's place in :data:`URGENCY` (0 = overdue)."""
    vocab = pts["status_vocab"]
    opened = np.array([workflow.is_open(s) for s in vocab] or [False])[pts["status_code"]]
    with np.errstate(invalid="ignore"):
        overdue = opened & (due < now.timestamp())
    rank = np.array([URGENCY.index(urgency_class(s, False)) for s in vocab] or [0])
    return np.where(overdue, 0, rank[pts["status_code"]]).astype(np.int64)


def problem_clusters(store, args: Args, locale: str = "zh", now: datetime | None = None) -> dict:
    """Problems clustered on a grid of about 60 screen pixels at ``zoom`` (required).

    Each feature is a single problem ``{"count": 1, "id", "status", "overdue", "worst",
    "deduction"}`` or a cluster ``{"count": n, "statuses": {status: n}, "overdue": n,
    "ring": [[class, n], ...], "worst": class, "deduction": total}`` at the mean position.
    ``ring`` counts the problems per class of :data:`geoapp.core.model.URGENCY` (an overdue
    problem only as "overdue"), most urgent first; ``worst`` is its first class, the colour
    the map draws the dot in, so open and overdue problems show through closed ones.
    ``numberMatched`` counts the problems drawn (filters and bbox), ``numberFiltered``
    those matching the filters anywhere.
    """
    zoom = parse_zoom(args)
    display = parse_display_crs(args)
    now = now or datetime.now(UTC)
    with _reading(store) as read:
        flt = parse_problem_filter(args, read.ref, display)
        pts = _points(read, flt, CLUSTER_COLUMNS)
        due = _due_seconds(read, pts)
    urgency = _urgency(pts, due, now)
    lon, lat = pts["lon"], pts["lat"]
    mask = np.isfinite(lon) & np.isfinite(lat)
    filtered = int(mask.sum())
    if flt.bbox is not None:
        mask &= _in_bbox(lon, lat, flt.bbox)
    sel = np.flatnonzero(mask)
    clusters = clustering.grid_clusters(lon[sel], lat[sel], zoom)
    deduction = clustering.cluster_sums(clusters, pts["deduction"][sel])
    vocab = pts["status_vocab"]
    tallies = clustering.cluster_tallies(clusters, pts["status_code"][sel], max(len(vocab), 1))
    classes = clustering.cluster_tallies(clusters, urgency[sel], len(URGENCY))
    x, y = _to_display(clusters.lon, clusters.lat, display)
    ids, statuses = pts["id"], pts["status"]
    features = []
    for i, n in enumerate(clusters.count.tolist()):
        ring = [[URGENCY[c], int(classes[i, c])] for c in np.flatnonzero(classes[i])]
        if n == 1:
            j = sel[clusters.first[i]]
            props = {
                "count": 1,
                "id": int(ids[j]),
                "status": statuses[j],
                "overdue": bool(urgency[j] == 0),
                "worst": ring[0][0],
                "deduction": round(float(deduction[i]), 2),
            }
        else:
            row = tallies[i]
            props = {
                "count": n,
                "statuses": {vocab[s]: int(row[s]) for s in np.flatnonzero(row)},
                "overdue": int(classes[i, 0]),
                "ring": ring,
                "worst": ring[0][0],
                "deduction": round(float(deduction[i]), 2),
            }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(x[i]), float(y[i])]},
                "properties": props,
            }
        )
    return _collection(
        features,
        numberMatched=len(sel),
        numberFiltered=filtered,
        zoom=zoom,
        cellPixels=clustering.CELL_PX,
    )


# --- summary, search ------------------------------------------------------------------------
def _totals(values: np.ndarray, deduction: np.ndarray) -> list[tuple[Any, int, float]]:
    """(value, problems, deduction) per distinct value; None for empty values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    n = len(uniques)
    codes = np.where(codes < 0, n, codes)
    counts = np.bincount(codes, minlength=n + 1)
    sums = np.bincount(codes, weights=deduction, minlength=n + 1)
    out = [(uniques[i], int(counts[i]), float(sums[i])) for i in range(n)]
    if counts[n]:
        out.append((None, int(counts[n]), float(sums[n])))
    return out


def _ranked(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (-r["deduction"], -r["problems"], r["id"] is None, r["id"]))


def summary(store, args: Args, locale: str = "zh") -> dict:
    """Totals of the problems matching the filters (and ``bbox``): count, deduction, open,
    by status, category, responsible unit and district.  A problem linked as a duplicate
    (``duplicate_of``) is counted but adds no deduction: the earlier one carries it."""
    display = parse_display_crs(args)
    with _reading(store) as read:
        flt = parse_problem_filter(args, read.ref, display)
        pts = _points(read, flt, SUMMARY_COLUMNS)
        ref = read.ref
    mask = np.ones(len(pts["id"]), dtype=bool)
    if flt.bbox is not None:
        mask &= _in_bbox(pts["lon"], pts["lat"], flt.bbox)
    # a problem linked as a duplicate of another counts, but its points are the other's
    duplicate = np.array([d is not None for d in pts["duplicate_of"]], dtype=bool)
    ded = np.where(duplicate, 0.0, pts["deduction"])[mask]
    status = pts["status"][mask]
    by_status = dict.fromkeys(STATUSES, 0)
    for s, n, _ in _totals(status, ded):
        by_status[s] = n
    open_count = int(sum(n for s, n in by_status.items() if s not in CLOSED_STATUSES))

    def groups(column: str, name: Callable[[Any], str | None]) -> list[dict]:
        return _ranked(
            [
                {"id": v, "name": name(v), "problems": n, "deduction": round(d, 2)}
                for v, n, d in _totals(pts[column][mask], ded)
            ]
        )

    return {
        "problems": int(mask.sum()),
        "deduction": round(float(ded.sum()), 2),
        "open": open_count,
        "by_status": by_status,
        "by_category": groups("category", lambda c: ref.category_label(c, locale)),
        "by_unit": groups("responsible_unit_id", ref.unit_name),
        "by_district": groups("district_id", ref.district_name),
    }


def problem_unit(store, problem_pk: int) -> str | None:
    """The unit responsible for one problem (for a scope check); raises NotFound."""
    if not 0 < problem_pk <= MAX_ID:
        raise NotFound(N_("unknown problem id %(problem_pk)r"), problem_pk=problem_pk)
    with store.transaction() as tx:
        return tx.get_problem(problem_pk)["responsible_unit_id"]
