"""Use cases that change a stored problem: move it through its statuses, edit it (a new
position or category re-runs its assignment), link it as a duplicate of an earlier problem or
unlink it.  Each change lands in the problem's history in the same transaction, and each
answers with the problem's detail (:func:`geoapp.services.intake.problem_detail`).

The rules of the workflow (who may do what, which notes are required) are in
:mod:`geoapp.core.workflow`.
"""

from __future__ import annotations

from geoapp.core.intake import ReportError, check_position, parse_report
from geoapp.core.messages import N_
from geoapp.core.workflow import check_action, check_transition
from geoapp.services.intake import Conflict, category_spellings, convert_position, problem_detail
from geoapp.services.mapping import zoning_for
from geoapp.services.problem_import import _attach_assignment


def transition(
    store,
    problem_pk: int,
    target: str,
    note: str | None,
    actor: str | None,
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
) -> dict:
    """Move a problem to ``target`` if the workflow allows this actor to; records who, when
    and the note."""
    if not isinstance(target, str) or not target:
        raise ReportError("to", N_("is required (the new status)"))
    if note is not None and not isinstance(note, str):
        raise ReportError("note", N_("must be text"))
    with store.transaction() as tx:
        p = tx.get_problem(problem_pk, for_update=True)
        check_transition(p["status"], target, role, actor_unit_id, p["responsible_unit_id"], note)
        tx.set_problem_status(p["id"], target, actor, (note or "").strip() or None)
    return problem_detail(store, problem_pk, role=role, actor_unit_id=actor_unit_id)


EDITABLE = ("lon", "lat", "crs", "category", "round", "deduction", "description", "note")


def patch_problem(
    store,
    problem_pk: int,
    payload,
    actor: str | None,
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
    locale: str = "zh",
) -> dict:
    """Change a problem's position, category, round, deduction or description.  A new
    position or category re-runs the assignment; every change lands in the history with its
    before and after, in one transaction."""
    if not isinstance(payload, dict):
        raise ReportError("body", N_("expected a JSON object"))
    unknown = sorted(set(payload) - set(EDITABLE))
    if unknown:
        raise ReportError(
            unknown[0],
            N_("cannot be changed here (editable: %(names)s)"),
            names=", ".join(EDITABLE),
        )
    if not payload or set(payload) <= {"note", "crs"}:
        raise ReportError("body", N_("nothing to change"))
    check_action("edit", role, actor_unit_id)
    current = store.get_problem(problem_pk)
    fields: dict = {}
    merged = {
        "lon": current["source_x"] if current["source_x"] is not None else current["lon"],
        "lat": current["source_y"] if current["source_y"] is not None else current["lat"],
        "category": current["category"] or "",
        "round": current["round"] or "",
        "deduction": current["deduction"],
        "description": current["description"],
        "crs": "wgs84",
    }
    if ("lon" in payload) != ("lat" in payload):
        raise ReportError("lon" if "lat" in payload else "lat", N_("give lon and lat together"))
    moved = "lon" in payload
    if moved:
        merged.update(lon=payload["lon"], lat=payload["lat"], crs=payload.get("crs") or "wgs84")
    for key in ("category", "round", "deduction", "description"):
        if key in payload:
            merged[key] = payload[key]
    clean = parse_report(
        {k: v for k, v in merged.items() if v is not None},
        category_spellings(store.list_categories()),
    )
    if moved:
        lon, lat, code = convert_position(clean["lon"], clean["lat"], clean["crs"])
        check_position(lon, lat)
        fields |= {
            "lon": lon,
            "lat": lat,
            "source_crs": code,
            "source_x": clean["lon"],
            "source_y": clean["lat"],
        }
    for key in ("category", "round", "deduction", "description"):
        if key in payload:
            fields[key] = clean[key]
    note = payload.get("note")
    if note is not None and not isinstance(note, str):
        raise ReportError("note", N_("must be text"))
    new_row = {
        "lon": fields.get("lon", current["lon"]),
        "lat": fields.get("lat", current["lat"]),
        "category": fields.get("category", current["category"]),
    }
    reassign = moved or new_row["category"] != current["category"]
    if reassign:
        _attach_assignment([new_row], zoning_for(store))
    with store.transaction() as tx:
        p = tx.get_problem(problem_pk, for_update=True)
        if p["updated_at"] != current["updated_at"]:
            raise Conflict(N_("the problem changed meanwhile; reload it and try again"))
        tx.update_problem(p["id"], fields, actor, note)
        if reassign:
            tx.update_assignment(
                p["id"],
                {k: new_row[k] for k in _ASSIGNMENT},
                actor,
                note,
            )
    return problem_detail(store, problem_pk, locale, role=role, actor_unit_id=actor_unit_id)


_ASSIGNMENT = (
    "generation_id",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "rule_id",
)


def link_duplicate(
    store,
    problem_pk: int,
    original_pk: int | None,
    actor: str | None,
    note: str | None = None,
    *,
    role: str | None = None,
) -> dict:
    """Mark a problem as a duplicate of an earlier one (``original_pk``), so its points are
    not deducted twice; ``None`` removes the link."""
    check_action("link_duplicate", role)
    if original_pk is not None and (
        isinstance(original_pk, bool) or not isinstance(original_pk, int)
    ):
        raise ReportError(
            "duplicate_of",
            N_("must be a problem id or null, got %(original_pk)r"),
            original_pk=original_pk,
        )
    with store.transaction() as tx:
        p = tx.get_problem(problem_pk, for_update=True)
        if original_pk is None:
            if p["duplicate_of"] is None:
                raise Conflict(N_("the problem is not linked to another"))
            tx.update_problem(
                p["id"], {"duplicate_of": None}, actor, note, kind="duplicate_unlinked"
            )
        else:
            if original_pk == p["id"]:
                raise Conflict(N_("a problem cannot duplicate itself"))
            original = tx.get_problem(original_pk)
            if original["duplicate_of"] is not None:
                raise Conflict(
                    N_(
                        "problem %(id)s is itself a duplicate of %(duplicate_of)s; link to that one"
                    ),
                    id=original["id"],
                    duplicate_of=original["duplicate_of"],
                )
            if tx.problems_duplicating(p["id"]):
                raise Conflict(N_("other problems are linked to this one as their original"))
            tx.update_problem(
                p["id"], {"duplicate_of": original["id"]}, actor, note, kind="duplicate_linked"
            )
    return problem_detail(store, problem_pk, role=role)
