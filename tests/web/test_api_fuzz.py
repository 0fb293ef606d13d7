"""The JSON API fuzzed from its own OpenAPI document (schemathesis), every operation (reads
and writes) with an admin's API token, so that no route is refused before it runs.  Every answer must be a non-5xx, every 4xx a JSON ``{"error", "message"}``, and every answer
what the document declares (content type, body schema).  The document itself is checked
against the OpenAPI 3.1 meta-schema, and real calls to every read operation (and the writes
about problems and deadlines) against the declared answers, in the fast run too.

Bounded (``FUZZ_EXAMPLES`` per operation, default 25) so that it runs in a couple of minutes
on two cores; set ``GEOAPP_FUZZ_EXAMPLES`` to fuzz longer.
"""

from __future__ import annotations

import io
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from intake_helpers import png_bytes
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from webclient import make_app

from geoapp.services.accounts import create_token
from geoapp.web import openapi

FUZZ_EXAMPLES = int(os.environ.get("GEOAPP_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_app(demo_sqlite_template, tmp_path_factory):
    import shutil

    path = tmp_path_factory.mktemp("fuzz") / "demo.sqlite"
    shutil.copyfile(demo_sqlite_template, path)
    app = make_app(f"sqlite:///{path}", UPLOAD_DIR=str(path.parent / "uploads"))
    app.fuzz_token = create_token(app.extensions["geoapp.store"], "fuzzer", "admin")
    yield app
    app.extensions["geoapp.store"].close()


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)


def clear_error_body(ctx, response, case) -> bool | None:
    """Every 4xx answer is JSON naming the error and saying what is wrong."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), body
        assert body.get("error") and body.get("message"), body
    return None


# schemathesis' own pytest plugin does not run under pytest 9 yet: the operations are taken
# from the document here and each is fuzzed by a Hypothesis test built on its strategy.
OPERATIONS = sorted({(r.path, r.method.upper()) for r in openapi.ALL_ROUTES})


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_api_never_fails_and_explains_its_refusals(api_schema, fuzz_app, path, method):
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {fuzz_app.fuzz_token}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case):
        response = case.call(headers=headers)
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                clear_error_body,
                content_type_conformance,
                response_schema_conformance,
            ],
        )

    fuzz()


def test_the_document_is_valid_openapi(api_schema):
    """The document against the OpenAPI 3.1 meta-schema, then every operation as schemathesis
    resolves it (path parameters declared for every template, references that resolve)."""
    api_schema.validate()
    for path, method in OPERATIONS:
        operation = api_schema[path][method]
        templated = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        declared = {p.name for p in operation.path_parameters}
        assert templated == declared, (path, method, templated, declared)


def _first_problem(fuzz_app) -> int:
    return int(fuzz_app.extensions["geoapp.store"].problem_frame()["id"].min())


#: Real calls, one or more per operation: (path, method, path parameters, query, body).
#: Answers of every kind (200, 304-free GETs, 4xx) are checked against the document.
def _calls(pk: int):
    bbox = "114.8,28.1,115.1,28.4"
    return [
        ("/api/lookup", "GET", {}, {"lon": 114.92, "lat": 28.22}, None),
        ("/api/lookup", "GET", {}, {"lon": 200, "lat": 28.22}, None),
        ("/api/districts", "GET", {}, {}, None),
        ("/api/districts", "GET", {}, {"display_crs": "gcj02"}, None),
        ("/api/areas", "GET", {}, {}, None),
        ("/api/areas", "GET", {}, {"bbox": bbox, "simplify": 0.0001}, None),
        ("/api/units", "GET", {}, {}, None),
        ("/api/problems", "GET", {}, {"limit": 3}, None),
        ("/api/problems", "GET", {}, {"limit": 0}, None),
        ("/api/problems.geojson", "GET", {}, {"status": "assigned"}, None),
        ("/api/problems/{problem_pk}", "GET", {"problem_pk": pk}, {}, None),
        ("/api/problems/{problem_pk}", "GET", {"problem_pk": 2**31 - 1}, {}, None),
        ("/api/problems/clusters", "GET", {}, {"zoom": 12}, None),
        ("/api/problems/clusters", "GET", {}, {"zoom": 17, "bbox": bbox}, None),
        ("/api/search", "GET", {}, {"q": "路"}, None),
        ("/api/summary", "GET", {}, {}, None),
        ("/api/drafts", "GET", {}, {}, None),
        ("/api/generations", "GET", {}, {}, None),
        ("/api/generations/compare", "GET", {}, {"a": 1, "b": 1}, None),
        ("/api/generations/{generation_id}/areas.geojson", "GET", {"generation_id": 1}, {}, None),
        ("/api/ledger", "GET", {}, {}, None),
        ("/api/ledger", "GET", {}, {"group": "district"}, None),
        ("/api/openapi.json", "GET", {}, {}, None),
        ("/api/problems/{problem_pk}", "PATCH", {"problem_pk": pk}, {}, {"description": "x"}),
        (
            "/api/problems/{problem_pk}/transitions",
            "POST",
            {"problem_pk": pk},
            {},
            {"to": "nowhere"},
        ),
        ("/api/categories/{category}", "PUT", {"category": "litter"}, {}, {"deadline": "3d"}),
        ("/api/categories/{category}", "PUT", {"category": "litter"}, {}, {"deadline": "9999d"}),
        ("/api/categories/{category}", "PUT", {"category": "nope"}, {}, {"deadline": "3d"}),
    ]


def test_every_answer_matches_the_document(api_schema, fuzz_app):
    """Each declared answer (status, content type, body schema) against what the app sends,
    for real calls to every read operation and the category deadline."""
    headers = {"Authorization": f"Bearer {fuzz_app.fuzz_token}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    seen, failures = set(), []
    calls = _calls(_first_problem(fuzz_app))
    # answers about problems in every state: reported inside and outside the county (no
    # area, no unit), with a photo-less detail, linked as a duplicate, moved through the
    # workflow
    inside = {"lon": 114.92, "lat": 28.22, "category": "litter", "round": "R"}
    outside = {"lon": 116.5, "lat": 29.2, "category": "litter", "round": "R"}
    made = []
    for body in (inside, outside, {**inside, "description": "again"}):
        case = api_schema["/api/problems"]["POST"].Case(body=body, media_type="application/json")
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks)
        made.append(response.json()["problem"]["id"])
    first, lost, again = made
    client = fuzz_app.test_client()
    photo = client.post(
        f"/api/problems/{first}/photos",
        data={"photo": (io.BytesIO(png_bytes()), "p.png")},
        headers=headers,
    )
    assert photo.status_code == 201, photo.get_data(as_text=True)
    calls += [
        ("/api/problems/{problem_pk}", "GET", {"problem_pk": lost}, {}, None),
        ("/api/problems/{problem_pk}", "GET", {"problem_pk": lost}, {"display_crs": "bd09"}, None),
        ("/api/problems", "GET", {}, {"round": "R"}, None),
        ("/api/problems.geojson", "GET", {}, {"round": "R"}, None),
        ("/api/problems/clusters", "GET", {}, {"round": "R", "zoom": 18}, None),
        ("/api/lookup", "GET", {}, {"lon": 116.5, "lat": 29.2}, None),
        ("/api/points", "GET", {}, {}, None),
        ("/api/points", "GET", {}, {"lon": 114.92, "lat": 28.23, "limit": 3}, None),
        ("/api/coverage", "GET", {}, {}, None),
        ("/api/coverage/map", "GET", {}, {}, None),
        (
            "/api/problems/{problem_pk}/duplicate",
            "PUT",
            {"problem_pk": again},
            {},
            {"duplicate_of": first},
        ),
        ("/api/problems/{problem_pk}", "GET", {"problem_pk": again}, {}, None),
        ("/api/problems/{problem_pk}", "GET", {"problem_pk": first}, {}, None),
        ("/api/problems/{problem_pk}/duplicate", "DELETE", {"problem_pk": again}, {}, None),
        (
            "/api/problems/{problem_pk}/transitions",
            "POST",
            {"problem_pk": lost},
            {},
            {"to": "assigned"},
        ),
        (
            "/api/problems/{problem_pk}",
            "PATCH",
            {"problem_pk": lost},
            {},
            {"lon": 114.92, "lat": 28.22},
        ),
        ("/api/problems/{problem_pk}", "GET", {"problem_pk": lost}, {}, None),
    ]
    for path, method, path_parameters, query, body in calls:
        operation = api_schema[path][method]
        kwargs = {"path_parameters": path_parameters, "query": query}
        if body is not None:
            kwargs |= {"body": body, "media_type": "application/json"}
        case = operation.Case(**kwargs)
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:  # every disagreement at once, not only the first
            failures.append(f"{method} {path} {query} -> {response.status_code}: {exc}"[:600])
        seen.add((path, method))
    assert not failures, "\n\n".join(failures)
    reads = {(r.path, r.method.upper()) for r in openapi.ALL_ROUTES if r.method == "get"}
    untested = reads - seen - {("/api/drafts/{generation_id}", "GET")}
    untested -= {(p, m) for p, m in reads if "drafts/{generation_id}" in p}
    untested -= {("/api/generations/{generation_id}/areas.gpkg", "GET")}  # binary
    # photos (binary; fetched and checked in tests/web/test_api_schemas.py)
    untested -= {
        ("/api/visits/{visit_id}/photo", "GET"),
        ("/api/checkins/{checkin_id}/photo", "GET"),
    }
    assert not untested
