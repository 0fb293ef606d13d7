"""The application log: one line per request with its id, every 500 with its traceback and
the id shown on the error page, and never a secret (password, token, session cookie,
photo bytes) in any record."""

from __future__ import annotations

import io
import logging
import re

import pytest
from intake_helpers import inside_point, png_bytes
from webclient import TEST_PASSWORDS, make_app, sign_in

from geoapp import logging_setup
from geoapp.services.accounts import create_token


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "geoapp.request"]


def text_of(record) -> str:
    """Everything a handler could write for the record, in both formats."""
    text = logging_setup.TextFormatter().format(record)
    return text + "\n" + logging_setup.JsonFormatter().format(record)


def test_a_request_writes_one_line_with_its_id_user_role_rule_status_and_duration(client, caplog):
    caplog.set_level(logging.INFO)
    r = client.get("/api/units")
    assert r.status_code == 200
    rid = r.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{16}", rid)
    [line] = request_lines(caplog)
    assert line.request_id == rid and line.user == "admin" and line.role == "admin"
    assert line.rule == "/api/units" and line.method == "GET" and line.status == 200
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    text = logging_setup.TextFormatter().format(line)
    assert rid in text and "GET /api/units 200" in text and "user=admin role=admin" in text
    as_json = logging_setup.JsonFormatter().format(line)
    assert f'"request_id": "{rid}"' in as_json and '"rule": "/api/units"' in as_json
    # the rule, not the path: ids and query strings stay out of the line
    caplog.clear()
    client.get("/api/units?secret-looking=value")
    [line] = request_lines(caplog)
    assert "secret-looking" not in text_of(line)


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("proxy-4f2a.9_Z", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("", False),
        ("two words", False),
        ("<script>", False),
        ("-starts-with-dash", False),
        ("id\u00e9", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_it_is_a_safe_short_token(
    anon_client, caplog, sent, kept
):
    caplog.set_level(logging.INFO)
    r = anon_client.get("/login", headers={"X-Request-Id": sent})
    rid = r.headers["X-Request-Id"]
    assert (rid == sent) is kept
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", rid)
    assert request_lines(caplog)[-1].request_id == rid


def test_a_refused_request_is_logged_too(anon_client, caplog):
    caplog.set_level(logging.INFO)
    r = anon_client.get("/api/units")
    assert r.status_code == 401 and r.headers["X-Request-Id"]
    [line] = request_lines(caplog)
    assert line.status == 401 and line.role == "anonymous" and line.user == "-"


@pytest.mark.parametrize("language, label", [("zh", "错误编号"), ("en", "Error number")])
def test_a_500_logs_its_traceback_with_the_id_shown_on_the_page(
    demo_sqlite_url, caplog, language, label
):
    app = make_app(demo_sqlite_url)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production

    def explode():
        raise RuntimeError("the-bug-of-the-day")

    # the permission table denies unknown endpoints: the failing view takes a page's place
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    app.view_functions[endpoints["/units"]] = explode
    app.view_functions[endpoints["/api/units"]] = explode
    client = sign_in(app.test_client(), "admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    caplog.set_level(logging.INFO)
    r = client.get("/units")
    assert r.status_code == 500
    rid = r.headers["X-Request-Id"]
    page = r.get_data(as_text=True)
    assert f"{label}: {rid}" in page and "the-bug-of-the-day" not in page
    failures = [rec for rec in caplog.records if rec.exc_info]
    assert len(failures) == 1
    logged = text_of(failures[0])
    assert rid in logged and "RuntimeError: the-bug-of-the-day" in logged
    assert "Traceback" in logged and "explode" in logged
    [line] = request_lines(caplog)
    assert line.status == 500 and line.request_id == rid and line.levelno == logging.WARNING
    # the JSON API names the id in its answer too
    caplog.clear()
    r = client.get("/api/units")
    assert r.status_code == 500 and r.get_json()["request_id"] == r.headers["X-Request-Id"]
    app.extensions["geoapp.store"].close()


def test_no_password_token_cookie_or_photo_bytes_reach_any_log_record(
    demo_sqlite_url, caplog, tmp_path
):
    app = make_app(demo_sqlite_url, LOG_LEVEL="DEBUG", UPLOAD_DIR=str(tmp_path))
    store = app.extensions["geoapp.store"]
    caplog.set_level(logging.DEBUG)
    secrets_seen: list[str] = []

    # a password sign-in, and a failed one
    from test_login_security import login_form

    browser = app.test_client()
    assert login_form(browser, "admin", TEST_PASSWORDS["admin"]).status_code == 302
    secrets_seen.append(TEST_PASSWORDS["admin"])
    assert login_form(app.test_client(), "admin", "wrong-Secret-9f3k").status_code == 401
    secrets_seen.append("wrong-Secret-9f3k")
    cookie = browser.get_cookie("session")
    assert cookie is not None
    secrets_seen.append(cookie.value)
    # a token, in the header and (refused) in the query string
    token = create_token(store, "logging-test", "inspector")
    secrets_seen.append(token)
    r = app.test_client().get("/api/units", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    app.test_client().get(f"/api/units?token={token}")
    app.test_client().get("/api/units", headers={"Authorization": "Bearer not-a-token-7c1e"})
    secrets_seen.append("not-a-token-7c1e")
    # a photo (bytes with a marker), and a refused one
    admin = sign_in(app.test_client(), "admin")
    _, lon, lat = inside_point(store)
    body = {"lon": lon, "lat": lat, "category": "litter", "round": "R"}
    pk = admin.post("/api/problems", json=body).get_json()["problem"]["id"]
    marker = b"PHOTO-MARKER-5e1d"
    photo = png_bytes() + marker
    r = admin.post(f"/api/problems/{pk}/photos", data={"photo": (io.BytesIO(photo), "a.png")})
    assert r.status_code == 201
    r = admin.post(
        f"/api/problems/{pk}/photos", data={"photo": (io.BytesIO(b"GIF89a" + marker), "b.png")}
    )
    assert r.status_code == 415
    secrets_seen.append(marker.decode())

    assert len(request_lines(caplog)) >= 9
    logged = "\n".join(text_of(r) + repr(r.args) + repr(r.__dict__) for r in caplog.records)
    for secret in secrets_seen:
        assert secret not in logged, secret
    assert "\\x89PNG" not in logged and "GIF89a" not in logged
    store.close()
