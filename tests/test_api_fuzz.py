"""The JSON API fuzzed from its own OpenAPI document (schemathesis), every operation (reads
and writes) with an admin's API token, so that no route is refused before it runs.  Every answer must be a non-5xx, and every 4xx a JSON ``{"error", "message"}``.

Bounded (``FUZZ_EXAMPLES`` per operation, default 25) so that it runs in a couple of minutes
on two cores; set ``GEOAPP_FUZZ_EXAMPLES`` to fuzz longer.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from webclient import make_app

from geoapp.services_accounts import create_token
from geoapp.web import openapi

FUZZ_EXAMPLES = int(os.environ.get("GEOAPP_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_app(demo_sqlite_template, tmp_path_factory):
    import shutil

    path = tmp_path_factory.mktemp("fuzz") / "demo.sqlite"
    shutil.copyfile(demo_sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
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
OPERATIONS = sorted(
    {(e.path, e.method.upper()) for e in openapi.ENDPOINTS}
    | {(w.path, w.method.upper()) for w in openapi.WRITE_ENDPOINTS}
)


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
        case.validate_response(response, checks=[not_a_server_error, clear_error_body])

    fuzz()
