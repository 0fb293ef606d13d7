"""The HTML pages live in one blueprint per capability (geoapp/web/views/), at the URLs
they always had; the JSON API still links to two pages by their former names."""

from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import BuildError

#: every page URL (everything outside /api/ and /static/) and the endpoint serving it
PAGES = {
    "/": "map.index",
    "/favicon.ico": "map.favicon",
    "/healthz": "health.healthz",
    "/readyz": "health.readyz",
    "/tiles/<int:z>/<int:x>/<int:y>.<any(png, jpg, jpeg, webp):ext>": "map.tile",
    "/districts": "map.districts_index",
    "/districts/<district_id>": "map.district_page",
    "/units": "map.units_index",
    "/units/<unit_id>": "map.unit_page",
    "/ledger": "ledger.ledger_page",
    "/ledger/export.<any(xlsx, csv):format>": "ledger.ledger_export",
    "/ledger/print": "ledger.ledger_print",
    "/report": "intake.report_page",
    "/import": "intake.import_page",
    "/problems/<int:problem_pk>": "intake.problem_page",
    "/photos/<int:photo_id>": "intake.photo",
    "/editor": "editor.editor",
    "/generations": "editor.generations_page",
    "/audit": "admin.audit_page",
    "/users": "admin.users_page",
    "/login": "auth.login",
    "/logout": "auth.logout",
    "/ogc/": "ogc.landing",
    "/ogc/api": "ogc.api_definition",
    "/ogc/conformance": "ogc.conformance",
    "/ogc/collections": "ogc.collections",
    "/ogc/collections/<collection_id>": "ogc.collection",
    "/ogc/collections/<collection_id>/items": "ogc.items",
    "/ogc/collections/<collection_id>/items/<feature_id>": "ogc.item",
    "/ogc/collections/<collection_id>/queryables": "ogc.queryables",
    "/field/": "field.report_page",
    "/field/unit": "field.unit_page",
    "/field/sw.js": "field.service_worker",
    "/field/manifest.webmanifest": "field.manifest",
    "/field/api/reports": "field.submit_report",
    "/field/api/problems/<int:problem_pk>/rectify": "field.rectify",
    "/field/visit": "field_coverage.visit_page",
    "/field/patrol": "field_coverage.patrol_page",
    "/field/api/visits": "field_coverage.submit_visit",
    "/field/api/checkins": "field_coverage.submit_checkin",
    "/ledger/coverage": "coverage.coverage_page",
    "/ledger/coverage/map": "coverage.coverage_map_page",
    "/ledger/coverage/print": "coverage.coverage_print",
    "/ledger/coverage/export.<any(xlsx, csv):format>": "coverage.coverage_export",
    "/coverage/points": "coverage.points_page",
    "/coverage/points/import": "coverage.points_import",
    "/coverage/visit": "coverage.visit_page",
}


def test_every_page_keeps_its_url_in_its_capability_blueprint(app):
    served = {
        rule.rule: rule.endpoint
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(("/api/", "/static/"))
    }
    assert served == PAGES
    blueprints = {endpoint.split(".")[0] for endpoint in served.values()}
    assert blueprints == {
        "map",
        "ledger",
        "intake",
        "editor",
        "admin",
        "auth",
        "ogc",
        "field",
        "coverage",
        "field_coverage",
        "health",
    }
    assert set(app.blueprints) == blueprints | {"api"}


def test_an_unknown_endpoint_name_is_an_error(app):
    """No table of old names: ``url_for`` of a name no blueprint has raises (the old
    ``pages.*`` names are gone everywhere)."""
    with app.test_request_context("/"):
        for unknown in ("pages.index", "pages.photo", "pages.problem_page", "intake.nothing"):
            with pytest.raises(BuildError):
                url_for(unknown)


def test_a_problem_answer_links_to_its_page(app, client):
    """The JSON API's links to the problem page open that page."""
    problem = app.extensions["geoapp.store"].problems({}, limit=1)[0]
    created = client.post(
        "/api/problems",
        json={key: problem[key] for key in ("category", "round", "deduction", "lon", "lat")},
    )
    assert created.status_code == 201, created.get_json()
    detail = created.get_json()
    page = detail["links"]["page"]
    assert page == f"/problems/{detail['problem']['id']}"
    assert client.get(page).status_code == 200
