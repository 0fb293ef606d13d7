"""Use cases of problem intake: report a problem (checked, converted once to WGS84, assigned
with the current generation, its likely duplicates flagged) and show one with everything the
problem page needs (assignment, photos, history, likely duplicates, the transitions allowed).

Also here, shared by the other intake modules: their errors (:class:`Conflict`,
:class:`TooLarge`, :class:`UnsupportedType`), the accepted spellings of a category and the
conversion of a position.  Changing a stored problem is in
:mod:`geoapp.services.problem_workflow`, photos in :mod:`geoapp.services.photos`, a
category's deadline in :mod:`geoapp.services.deadlines`, importing a sheet through a preview
in :mod:`geoapp.services.sheet_import`.

The assignment is the one of :mod:`geoapp.services.mapping` (``zoning_for`` and the same row
assignment the importer uses); the rules of the workflow are in :mod:`geoapp.core.workflow` and
the checks of a report in :mod:`geoapp.core.intake`.  No Flask here: the web layer passes the
actor, its role and unit, and folders under ``instance/``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from geoapp.core.crs import parse_crs, to_wgs84
from geoapp.core.intake import (
    Candidate,
    ReportError,
    bbox_around,
    check_position,
    likely_duplicates,
    parse_report,
)
from geoapp.core.messages import N_
from geoapp.core.model import OPEN_STATUSES
from geoapp.core.workflow import allowed_transitions, check_action, is_open
from geoapp.services import problem_reads
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import zoning_for
from geoapp.services.problem_import import FIRST_YEAR, LAST_YEAR, _attach_assignment, parse_time
from geoapp.services.times import local_time
from geoapp.store import DEFAULT_STATUS, StoreUnavailable

#: Statuses a candidate for "likely duplicate" may have (the store's default counts as open).
CANDIDATE_STATUSES = [*OPEN_STATUSES, DEFAULT_STATUS]
_FUTURE_SLACK = timedelta(minutes=10)


class TooLarge(ServiceError):
    status = 413


class UnsupportedType(ServiceError):
    status = 415


class Conflict(ServiceError):
    status = 409


def _now() -> datetime:
    return datetime.now(UTC)


def category_spellings(categories: list[dict]) -> dict[str, str]:
    """Every accepted way to name a category (code, Chinese name, English name) → code."""
    out: dict[str, str] = {}
    for c in categories:
        for name in (c.get("name_en"), c.get("name_zh"), c["category"]):
            if name:
                out[str(name)] = c["category"]
    return out


def convert_position(lon: float, lat: float, crs_name: str | None) -> tuple[float, float, str]:
    crs = parse_crs(crs_name)
    x, y = to_wgs84([lon], [lat], crs)
    return float(x[0]), float(y[0]), crs.code


def _reported_at(text: str | None, now: datetime) -> datetime:
    if text is None:
        return now
    iso = parse_time(text)
    if iso is None:
        raise ReportError(
            "reported_at",
            N_("%(text)r is not a date and time from %(first)s to %(last)s"),
            text=text,
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    when = datetime.fromisoformat(iso)
    if when > now.astimezone(when.tzinfo) + _FUTURE_SLACK:
        raise ReportError("reported_at", N_("%(text)r is in the future"), text=text)
    return when


# --- likely duplicates ----------------------------------------------------------------------
def _candidates(tx, category: str, lon: float, lat: float, exclude: int | None = None):
    """Open problems of ``category`` near (lon, lat), not themselves linked duplicates; the
    SQL bbox prefilter uses the (lon, lat) index."""
    rows = tx.problems(
        {"category": category, "status": CANDIDATE_STATUSES, "bbox": bbox_around(lon, lat)}
    )
    return [
        Candidate(r["id"], r["category"], r["lon"], r["lat"])
        for r in rows
        if r["id"] != exclude and r["duplicate_of"] is None and r["lon"] is not None
    ]


def duplicates_of_point(
    tx, category: str, lon: float, lat: float, exclude: int | None = None
) -> list[dict]:
    """The open problems a problem at (lon, lat) of ``category`` likely duplicates."""
    cands = _candidates(tx, category, lon, lat, exclude)
    found = likely_duplicates([lon], [lat], [category], cands)[0]
    if not found:
        return []
    out = []
    for pk, dist in found:
        p = tx.get_problem(pk)
        out.append(
            {
                "id": pk,
                "problem_id": p["problem_id"],
                "distance_m": dist,
                "status": p["status"],
                "reported_at": local_time(p["reported_at"]),
                "description": p["description"],
            }
        )
    return out


# --- views of a problem ---------------------------------------------------------------------
def assignment_of(store, problem: dict, locale: str = "zh") -> dict:
    """The assignment of a stored problem, with names: area, district, units, rule."""
    props = problem
    rule = None
    if props.get("rule_id"):
        rules = {r["rule_id"]: r for r in store.list_rules()}
        r = rules.get(props["rule_id"])
        rule = {"id": props["rule_id"], "note": r.get("note") if r else None}
    assigned = props.get("area_id") is not None

    def unit(uid, name):
        return {"id": uid, "name": name} if uid else None

    return {
        "assigned": assigned,
        "area": {"id": props["area_id"], "name": props.get("area_name")} if assigned else None,
        "district": {"id": props["district_id"], "name": props.get("district_name")}
        if props.get("district_id")
        else None,
        "responsible_unit": unit(
            props.get("responsible_unit_id"), props.get("responsible_unit_name")
        ),
        "lead_unit": unit(props.get("lead_unit_id"), props.get("lead_unit_name")),
        "rule": rule,
        "generation": props.get("generation"),
    }


def problem_detail(
    store,
    problem_pk: int,
    locale: str = "zh",
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
) -> dict:
    """Everything the problem page shows: the problem (as the API's feature properties, with
    deadline and overdue flag), its assignment, photos, history, likely duplicates and the
    transitions this actor may make."""
    feature = problem_reads.problem(store, problem_pk, {}, locale)
    props = dict(feature["properties"])
    lon, lat = (feature["geometry"] or {}).get("coordinates", (None, None))
    with store.transaction() as tx:
        row = tx.get_problem(problem_pk)
        dups = (
            duplicates_of_point(tx, row["category"], row["lon"], row["lat"], exclude=row["id"])
            if row["duplicate_of"] is None
            and is_open(row["status"])
            and row["lon"] is not None
            and row["category"]
            else []
        )
        original = tx.get_problem(row["duplicate_of"]) if row["duplicate_of"] else None
        linked = tx.problems_duplicating(row["id"])
    transitions = [
        {"to": t.target, "action": t.action, "note_required": t.note_required}
        for t in allowed_transitions(row["status"], role, actor_unit_id, row["responsible_unit_id"])
    ]
    return {
        "problem": props | {"lon": lon, "lat": lat},
        "assignment": assignment_of(store, props, locale),
        "photos": props.pop("photos", []),
        "likely_duplicates": dups,
        "duplicate_of": {"id": original["id"], "problem_id": original["problem_id"]}
        if original
        else None,
        "duplicated_by": linked,
        "transitions": transitions,
        "events": props.pop("events", []),
    }


# --- report ---------------------------------------------------------------------------------
def create_problem(
    store,
    payload,
    actor: str | None,
    *,
    role: str | None = None,
    locale: str = "zh",
    now: datetime | None = None,
    client_id: str | None = None,
    location_accuracy_m: float | None = None,
) -> dict:
    """Report one problem: check it, convert its position once to WGS84, assign it with the
    current generation, flag likely duplicates, store it.  Returns :func:`problem_detail`
    (points outside the county are kept, with ``assignment.assigned`` false).
    ``client_id`` and ``location_accuracy_m`` (checked by the caller,
    :mod:`geoapp.services.field`) are stored with it."""
    check_action("report", role)
    now = now or _now()
    report = parse_report(payload, category_spellings(store.list_categories()))
    lon, lat, crs_code = convert_position(report["lon"], report["lat"], report["crs"])
    check_position(lon, lat)
    row = {
        "problem_id": report["problem_id"],
        "round": report["round"],
        "category": report["category"],
        "description": report["description"],
        "deduction": report["deduction"],
        "reported_at": _reported_at(report["reported_at"], now),
        "status": "reported",
        "reporter": report["reporter"] or actor,
        "lon": lon,
        "lat": lat,
        "source_crs": crs_code,
        "source_x": report["lon"],
        "source_y": report["lat"],
        "client_id": client_id,
        "location_accuracy_m": location_accuracy_m,
    }
    _attach_assignment([row], zoning_for(store))
    original = None
    with store.transaction() as tx:
        if row["problem_id"] and tx.existing_problem_ids([row["problem_id"]]):
            raise Conflict(
                N_("problem_id %(problem_id)r is already stored"), problem_id=row["problem_id"]
            )
        if report["duplicate_of"] is not None:
            original = tx.get_problem(report["duplicate_of"])
            if original["duplicate_of"] is not None:
                raise Conflict(
                    N_(
                        "problem %(id)s is itself a duplicate of %(duplicate_of)s; link to that one"
                    ),
                    id=original["id"],
                    duplicate_of=original["duplicate_of"],
                )
            row["duplicate_of"] = original["id"]
        (pk,) = tx.add_problems([row], actor=actor if actor is not None else row["reporter"])
    try:
        return problem_detail(store, pk, locale, role=role)
    except StoreUnavailable:
        # Committed: the report is stored.  The database went away while the answer was
        # being read back; a 503 now would tell the client its write failed, so
        # acknowledge it with what is known without the database.
        return _stored_report(row, pk, original, role)


def _stored_report(row: dict, pk: int, original: dict | None, role: str | None) -> dict:
    """A report's detail built from the stored row alone (no names, no history), flagged
    ``partial``: the answer to a committed report when the database cannot be read."""

    def ref(key):
        return {"id": row[key], "name": None} if row.get(key) else None

    return {
        "problem": {
            "id": pk,
            **{
                k: row.get(k)
                for k in ("problem_id", "round", "category", "description", "deduction")
            },
            "status": row["status"],
            "reported_at": local_time(row["reported_at"]),
            "lon": row["lon"],
            "lat": row["lat"],
        },
        "assignment": {
            "assigned": row.get("area_id") is not None,
            "area": ref("area_id"),
            "district": ref("district_id"),
            "responsible_unit": ref("responsible_unit_id"),
            "lead_unit": ref("lead_unit_id"),
            "rule": {"id": row["rule_id"], "note": None} if row.get("rule_id") else None,
            "generation": row.get("generation_id"),
        },
        "photos": [],
        "likely_duplicates": [],
        "duplicate_of": {"id": original["id"], "problem_id": original["problem_id"]}
        if original
        else None,
        "duplicated_by": [],
        "transitions": [
            {"to": t.target, "action": t.action, "note_required": t.note_required}
            for t in allowed_transitions(row["status"], role, None, row["responsible_unit_id"])
        ],
        "events": [],
        "partial": True,
    }
