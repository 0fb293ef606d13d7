"""The coverage pages (blueprint ``coverage``): the coverage ledger (检查覆盖 / 巡查覆盖, the
ranking for the circulated report with its rule in words), the coverage map, the exports
(受检点台账 and the coverage table, XLSX/CSV) and the A4 print view, the register of
inspection points (list, edit, import with a dry run) and the desktop visit form.

Unit accounts see their own unit, or the districts their unit leads
(:func:`geoapp.services.coverage_figures.scope`); the others see the county.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _

from geoapp.core import coverage as rules
from geoapp.core.messages import N_
from geoapp.io.errors import InputError
from geoapp.services import coverage_figures, coverage_files, point_import, times
from geoapp.services.errors import ServiceError
from geoapp.web.actor import current_actor
from geoapp.web.api.coverage import held_to, min_coverage, ranking_rule
from geoapp.web.api.intake import upload_dir
from geoapp.web.context import clock_now, get_store
from geoapp.web.views.intake import _categories

bp = Blueprint("coverage", __name__)

FILTER_KEYS = ("round", "district", "unit", "kind", "date_from", "date_to")
STATUS_LABELS = {
    "commended": N_("commended"),
    "ranked": N_("ranked"),
    "insufficient": N_("insufficient inspection"),
    "no_points": N_("no inspection points"),
}


def kind_labels() -> dict[str, str]:
    return {k: _(v) for k, v in rules.POINT_KINDS.items()}


def _filters() -> dict[str, str]:
    return {k: v for k in FILTER_KEYS if (v := request.args.get(k, "").strip())}


def _build():
    return coverage_figures.build(
        get_store(),
        request.args.to_dict(),
        held_to=held_to(),
        min_coverage=min_coverage(),
        now=clock_now(),
    )


def _options(cov) -> dict:
    store = get_store()
    scope = held_to()
    districts = [(d["district_id"], d["name"]) for d in store.list_districts()]
    units = [(u["unit_id"], u["name"]) for u in store.list_units()]
    if "district" in scope:
        districts = [d for d in districts if d[0] in scope["district"]]
        units = [(r["id"], r["name"]) for r in cov.by_unit]
    if "unit" in scope:
        districts, units = [], [u for u in units if u[0] in scope["unit"]]
    return {
        "rounds": cov.rounds,
        "districts": districts,
        "units": units,
        "kinds": list(kind_labels().items()),
    }


def _page_args(cov) -> dict:
    filters = _filters()
    return {
        "cov": cov,
        "filters": filters,
        "options": _options(cov),
        "kinds": kind_labels(),
        "status_labels": {k: _(v) for k, v in STATUS_LABELS.items()},
        "rule": ranking_rule(cov.min_coverage),
        "as_of": times.display_time(clock_now()),
        "export": {
            "xlsx": url_for("coverage.coverage_export", format="xlsx", **filters),
            "visits_csv": url_for(
                "coverage.coverage_export", format="csv", table="visits", **filters
            ),
            "units_csv": url_for(
                "coverage.coverage_export", format="csv", table="units", **filters
            ),
        },
        "print_url": url_for("coverage.coverage_print", **filters),
        "map_url": url_for("coverage.coverage_map_page", **filters),
    }


@bp.route("/ledger/coverage")
def coverage_page():
    """Coverage per unit and district, the ranking and its rule, what was not covered."""
    return render_template("coverage.html", **_page_args(_build()))


@bp.route("/ledger/coverage/print")
def coverage_print():
    """The coverage table and the inspected-point ledger for A4 paper."""
    cov = _build()
    store = get_store()
    visits = coverage_files.visit_rows(store, cov, kind_labels())
    photos = {
        v["photo_name"]: url_for("api.visit_photo", visit_id=v["id"])
        for v in store.visits(cov.round)
        if v["photo_name"]
    }
    return render_template("coverage_print.html", visits=visits, photos=photos, **_page_args(cov))


@bp.route("/ledger/coverage/export.<any(xlsx, csv):format>")
def coverage_export(format: str):  # noqa: A002 - the URL's own word
    """The inspected-point ledger and the coverage table: XLSX (both), CSV (``table``:
    visits, the default, or units)."""
    cov = _build()
    store = get_store()
    stamp = clock_now().astimezone(times.LOCAL_TZ).strftime("%Y%m%d-%H%M")
    if format == "xlsx":
        body = coverage_files.xlsx_bytes(store, cov, kind_labels())
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        name = f"coverage-{stamp}.xlsx"
    else:
        table = request.args.get("table", "visits")
        if table not in ("visits", "units"):
            raise ServiceError(N_("table=%(value)r is not visits or units"), value=table)
        rows = (
            coverage_files.visit_rows(store, cov, kind_labels())
            if table == "visits"
            else coverage_files.unit_rows(cov)
        )
        body = coverage_files.csv_bytes(rows)
        mimetype = "text/csv; charset=utf-8"
        name = f"coverage-{table}-{stamp}.csv"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.route("/ledger/coverage/map")
def coverage_map_page():
    """Areas and points coloured by days since their last inspection or patrol."""
    cov = _build()
    filters = _filters()
    area_kind = request.args.get("area_kind", "").strip()
    if area_kind:
        filters["area_kind"] = area_kind
    area_kinds = sorted({k for k in get_store().areas()["kind"].dropna()})
    config = {
        "data": url_for("api.coverage_map", **filters),
        "legend": [{"colour": c["colour"], "label": _(c["label"])} for c in rules.legend()],
        "labels": {
            "days": _("%(days)s days since the last inspection or patrol"),
            "never": _("never inspected or patrolled"),
            "area": _("Contracted area"),
            "point": _("Inspection point"),
        },
    }
    return render_template(
        "coverage_map.html",
        cfg=config,
        area_kinds=area_kinds,
        area_kind=area_kind,
        **_page_args(cov),
    )


def _points_page(kind: str | None = None, **extra):
    store = get_store()
    return render_template(
        "coverage_points.html",
        points=store.inspection_points({"kind": kind} if kind else None),
        units={u["unit_id"]: u["name"] for u in store.list_units()},
        kinds=kind_labels(),
        kind=kind,
        patch_url=url_for("api.patch_inspection_point", point_pk=0).replace("/0", "/__ID__"),
        **{"plan": None, **extra},
    )


@bp.route("/coverage/points", methods=["GET"])
def points_page():
    """The register of inspection points: list (by kind), edit, import."""
    return _points_page(request.args.get("kind", "").strip() or None)


@bp.route("/coverage/points/import", methods=["POST"])
def points_import():
    """Import a register: the first post (a file) previews; the second (its token) imports."""
    store = get_store()
    folder = upload_dir("registers")
    token = request.form.get("token", "").strip()
    if token:
        matches = sorted(folder.glob(f"{token}.*")) if token.isalnum() and folder.is_dir() else []
        if not matches:
            abort(400, description=_("The preview has expired; upload the file again."))
        path = matches[0]
        plan = point_import.plan_point_import(store, path, request.form.get("crs") or None)
        ids = point_import.commit_point_import(
            store, plan, current_actor(), allow_bad=bool(request.form.get("skip_bad"))
        )
        path.unlink(missing_ok=True)
        return _points_page(imported=len(ids))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, description=_("Choose a file to import."))
    data = upload.read()
    suffix = Path(upload.filename).suffix.lower()
    try:
        plan = point_import.plan_point_import(
            store, Path(upload.filename), request.form.get("crs") or None, data=data
        )
    except InputError as exc:
        abort(400, description=str(exc))
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    (folder / f"{token}{suffix}").write_bytes(data)
    return _points_page(
        plan=plan, summary=plan.summary(), token=token, crs=request.form.get("crs") or ""
    )


@bp.route("/coverage/visit")
def visit_page():
    """The desktop form recording a visit: point, round, clean or the problems found."""
    store = get_store()
    return render_template(
        "coverage_visit.html",
        points=store.inspection_points(),
        kinds=kind_labels(),
        categories=_categories(store),
        rounds=store.visit_rounds(),
        submit_url=url_for("api.create_visit"),
    )
