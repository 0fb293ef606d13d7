"""Who may call what: THE permission table, its enforcement, and the unit role's scope.

Everything about authorisation lives in this module.

The table
    :data:`PERMISSIONS` maps every Flask endpoint name (``"blueprint.function"``) to the roles
    allowed to call it, or to a dict ``{METHOD: roles}`` when the methods of one endpoint
    differ.  Roles are those of :data:`geoapp.core.accounts.ROLES` plus ``"anonymous"`` (no login).
    Deny by default: an endpoint missing from the table is refused to everyone, and
    ``tests/web/test_permissions.py`` names the missing ones.  To put a new route under the
    scheme, add one line here, e.g.::

        "api.create_problem": {"admin", "coordinator", "inspector"},
        "ledger.ledger_page": STAFF,
        "api.drafts": {"GET": PLANNING, "POST": {"admin", "planner"}},

    When one endpoint serves several methods (``GET`` and ``POST /api/problems`` in one view
    function), give the dict form, so that reading and writing can differ.  Checklist for a
    merged route: (1) a line here, (2) ``scoped_args``/``require_own_problem`` if it reads or
    changes problems or areas, (3) ``current_actor()`` passed to the service as the actor,
    (4) ``audit(tx, ...)`` in the service's transaction, (5) page JS uses ``fetch()`` (the
    CSRF header is added by static/js/csrf.js).

Enforcement
    :func:`enforce` runs before every request (registered by :func:`init_app`): it finds the
    principal (an ``Authorization: Bearer`` token, else the Flask-Login session; who is
    asking is :mod:`geoapp.web.actor`'s job), checks the table, then CSRF
    (:mod:`geoapp.web.security`).  Refusals: 401 JSON for ``/api/`` and for
    token callers, a redirect to the login page for anonymous page requests, 403 otherwise.
    Views never need a decorator.

The ``unit`` role's scope (row level)
    A ``unit`` account is bound to one unit (``principal().unit_id``) and sees only that unit's
    areas and problems, and may report rectification only for its own problems:

    - :func:`scoped_args` forces ``unit=<its unit>`` into the query arguments of every read
      (the JSON API reads its arguments only through it, see ``geoapp.web.answers._args``; it is
      also part of the ETag, so cached answers never cross units).  Merged read routes that
      filter problems or areas: build the ``args`` given to ``geoapp.services.map_features``
      and ``geoapp.services.problem_reads`` with ``scoped_args(request.args.to_dict(flat=False))``.
    - :func:`require_own_problem` (``problem`` a dict with ``responsible_unit_id``, or a
      GeoJSON feature with it in ``properties``) aborts with 403 when a unit account touches
      another unit's problem; call it in any view that reads or changes one problem.
    - :func:`require_own_unit` does the same for a unit id (the unit pages).
    For every other role these helpers change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from geoapp.core.accounts import ROLES
from geoapp.web import security
from geoapp.web.actor import ANONYMOUS, identify, principal, role, wants_json
from geoapp.web.negotiate import is_ogc

EVERYONE = frozenset({ANONYMOUS, *ROLES})
SIGNED_IN = frozenset(ROLES)
STAFF = frozenset({"admin", "coordinator"})
#: Roles that see the whole county (everyone signed in but the unit accounts).
COUNTY = frozenset({"admin", "coordinator", "planner", "inspector"})
PLANNING = frozenset({"admin", "coordinator", "planner"})
ADMIN = frozenset({"admin"})
#: Who reports problems and manages them (a unit account only reports rectification).
REPORTING = frozenset({"admin", "coordinator", "inspector"})
#: Who reads the ledger (unit accounts: their own unit's rows only).  Inspectors read the
#: county's ledger too: they score the units, and the ledger is read-only.
LEDGER = frozenset({"admin", "coordinator", "planner", "inspector", "unit"})
#: Who changes boundaries.
EDITING = frozenset({"admin", "planner"})

Roles = frozenset[str] | set[str]
Rule = Roles | Mapping[str, Roles]

PERMISSIONS: dict[str, Rule] = {
    # served to anyone: the login page, static files, the favicon, the API's description
    "static": EVERYONE,
    "map.favicon": EVERYONE,
    "health.healthz": EVERYONE,
    "health.readyz": EVERYONE,
    "auth.login": EVERYONE,
    "auth.logout": EVERYONE,
    "api.openapi_document": EVERYONE,
    # pages
    "map.index": SIGNED_IN,
    "map.tile": SIGNED_IN,
    "map.districts_index": COUNTY,
    "map.district_page": COUNTY,
    "map.units_index": COUNTY,
    "map.unit_page": SIGNED_IN,  # a unit account: its own unit only (require_own_unit)
    "admin.audit_page": ADMIN,
    "admin.users_page": ADMIN,
    # JSON API (reads); problems and areas are scoped for unit accounts by scoped_args
    "api.lookup": SIGNED_IN,
    "api.districts": SIGNED_IN,
    "api.areas": SIGNED_IN,
    "api.units": SIGNED_IN,
    "api.problems": SIGNED_IN,
    "api.problems_geojson": SIGNED_IN,
    "api.problem": SIGNED_IN,  # a unit account: its own problems only (require_own_problem)
    "api.problem_clusters": SIGNED_IN,
    "api.search": SIGNED_IN,
    "api.summary": SIGNED_IN,
    # problem intake and the rectification workflow; per-step roles in geoapp/core/workflow.py,
    # and a unit account acts on its own problems only (the services check actor_unit_id)
    "intake.report_page": REPORTING,
    "intake.import_page": REPORTING,
    "intake.problem_page": SIGNED_IN,  # a unit account: its own problems only
    "intake.photo": SIGNED_IN,  # a unit account: its own problems' photos only
    "api.create_problem": REPORTING,
    "api.patch_problem": REPORTING,
    "api.problem_transition": {*REPORTING, "unit"},
    "api.add_problem_photo": {*REPORTING, "unit"},
    "api.link_duplicate": REPORTING,
    "api.unlink_duplicate": REPORTING,
    "api.set_category_deadline": STAFF,
    "api.import_preview": REPORTING,
    "api.import_confirm": REPORTING,
    # the boundary editor: planners change boundaries, coordinators may look
    "editor.editor": EDITING,
    "editor.generations_page": PLANNING,
    "api.drafts": EDITING,
    "api.draft": PLANNING,
    "api.draft_create": EDITING,
    "api.draft_upload": EDITING,
    "api.draft_discard": EDITING,
    "api.draft_edit": EDITING,
    "api.draft_undo": EDITING,
    "api.draft_redo": EDITING,
    "api.draft_validation": PLANNING,
    "api.draft_preview": PLANNING,
    "api.draft_publish": EDITING,
    "api.generations": PLANNING,
    "api.generations_compare": PLANNING,
    "api.generation_rollback": EDITING,
    "api.generation_export_geojson": PLANNING,
    "api.generation_export_gpkg": PLANNING,
    # the ledger; a unit account sees its own rows (scoped_args)
    "ledger.ledger_page": LEDGER,
    "ledger.ledger_export": LEDGER,
    "ledger.ledger_print": LEDGER,
    "api.ledger": LEDGER,
    # OGC API - Features (QGIS, GDAL): the whole county, so not for unit accounts
    "ogc.landing": COUNTY,
    "ogc.api_definition": COUNTY,
    "ogc.conformance": COUNTY,
    "ogc.collections": COUNTY,
    "ogc.collection": COUNTY,
    "ogc.queryables": COUNTY,
    "ogc.items": COUNTY,
    "ogc.item": COUNTY,
    # the field pages for phones (geoapp/web/views/field.py): inspectors report, a unit account
    # rectifies its own unit's problems (staff may open a unit's list with ?unit=)
    "field.report_page": REPORTING,
    "field.submit_report": REPORTING,
    "field.unit_page": {*STAFF, "unit"},
    "field.rectify": {*STAFF, "unit"},
    "field.service_worker": EVERYONE,
    # inspection coverage: inspectors record visits, units check in to their own areas (the
    # service checks the area is theirs) and read their own coverage (or their districts')
    "api.inspection_points": COUNTY,
    "api.patch_inspection_point": PLANNING,
    "api.create_visit": REPORTING,
    "api.create_checkin": {"admin", "unit"},  # the service refuses all but unit accounts
    "api.coverage": LEDGER,
    "api.coverage_map": LEDGER,
    # a visit's or check-in's photo: a unit account, only those within its coverage scope
    "api.visit_photo": LEDGER,
    "api.checkin_photo": LEDGER,
    "coverage.coverage_page": LEDGER,
    "coverage.coverage_map_page": LEDGER,
    "coverage.coverage_export": LEDGER,
    "coverage.coverage_print": LEDGER,
    "coverage.points_page": COUNTY,
    "coverage.points_import": PLANNING,
    "coverage.visit_page": REPORTING,
    "field_coverage.visit_page": REPORTING,
    "field_coverage.submit_visit": REPORTING,
    "field_coverage.patrol_page": {"unit"},
    "field_coverage.submit_checkin": {"unit"},
    "field.manifest": EVERYONE,
}


#: endpoints open to everyone that never look up who asks (no database read per static
#: file; a health probe answers even when the store does not)
NO_ACCOUNT_LOOKUP = frozenset({"static", "health.healthz", "health.readyz"})


def allowed_roles(endpoint: str | None, method: str) -> frozenset[str]:
    """The roles allowed to call ``endpoint`` with ``method`` (empty: not in the table)."""
    rule = PERMISSIONS.get(endpoint or "")
    if rule is None:
        return frozenset()
    if isinstance(rule, Mapping):
        if method == "HEAD":
            method = "GET"
        if method == "OPTIONS":
            return frozenset().union(*rule.values())
        return frozenset(rule.get(method, ()))
    return frozenset(rule)


def missing_endpoints(endpoints: Iterable[str]) -> list[str]:
    """Endpoints with no line in the table (they are refused to everyone)."""
    return sorted({e for e in endpoints if e not in PERMISSIONS})


# --- refusing -------------------------------------------------------------------------------
def refuse(status: int, code: str, message: str):
    """A 401/403 answer: JSON for the API and token callers, the login page or an error page
    for people."""
    if wants_json():
        response = jsonify({"error": code, "message": message})
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="geoapp"'
            if g.get("auth_basic") or is_ogc():  # GIS clients answer a Basic challenge
                response.headers.add("WWW-Authenticate", 'Basic realm="geoapp", charset="UTF-8"')
        return response
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(status, description=message)


def enforce():
    """The ``before_request`` hook: authenticate, check the table, check CSRF."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)  # before anything reads the body
    if request.endpoint is None:  # no such URL or method: let the 404/405 answer
        return None
    if request.endpoint in NO_ACCOUNT_LOOKUP:
        g.principal = None  # public files and probes: no account lookup
        return None
    p = identify()
    g.principal = p
    if g.get("bad_token"):
        if g.get("auth_basic"):
            return refuse(
                401,
                "unauthorized",
                _(
                    "Basic authentication takes an API token's name as the user and the "
                    "token as the password, and is accepted for reading (GET) only."
                ),
            )
        return refuse(401, "unauthorized", _("The API token is not valid."))
    allowed = allowed_roles(request.endpoint, request.method)
    who = p.role if p else ANONYMOUS
    if who not in allowed:
        if p is None:
            return refuse(401, "unauthorized", _("Please sign in."))
        return refuse(403, "forbidden", _("Your role may not do this."))
    return security.check_csrf()


def may(endpoint: str, method: str = "GET") -> bool:
    """Whether the current principal may call ``endpoint`` (for links in templates)."""
    return role() in allowed_roles(endpoint, method)


def may_see_unit(unit_id: str | None) -> bool:
    """Whether the current principal may open the page of unit ``unit_id`` (the table, and a
    unit account only its own unit: :func:`require_own_unit`), for links in templates."""
    unit = own_unit()
    return may("map.unit_page") and (unit is None or unit == unit_id)


def init_app(app) -> None:
    app.before_request(enforce)
    app.jinja_env.globals["may"] = may
    app.jinja_env.globals["may_see_unit"] = may_see_unit


# --- the unit role's scope ------------------------------------------------------------------
def own_unit() -> str | None:
    """The unit a ``unit`` account is bound to; None for every other role (no scope)."""
    p = principal()
    if p is not None and p.role == "unit":
        return p.unit_id or "-"  # a unit account without a unit sees nothing
    return None


def visibility_key() -> str:
    """Everything about the reader that decides what an answer may show: the role and, for a
    unit account, its unit.  Part of every cache key and ETag (geoapp.web.answers.conditional),
    so that a cached answer never reaches a reader with another view of the data."""
    return f"{role()}:{own_unit() or ''}"


def scoped_args(args: dict[str, list[str]]) -> dict[str, list[str]]:
    """Query arguments with the unit filter forced for unit accounts (unchanged otherwise)."""
    unit = own_unit()
    if unit is None:
        return args
    return {**args, "unit": [unit]}


def require_own_unit(unit_id: str | None) -> None:
    """Abort with 403 when a unit account asks about another unit."""
    unit = own_unit()
    if unit is not None and unit_id != unit:
        abort(403, description=_("This belongs to another unit."))


def require_own_problem(problem: Mapping[str, Any]) -> None:
    """Abort with 403 when a unit account reads or changes another unit's problem."""
    if own_unit() is None:
        return
    props = problem.get("properties") if "properties" in problem else problem
    require_own_unit((props or {}).get("responsible_unit_id"))
