"""The load test, CI-sized: bench/loadgen.py drives ``geoapp serve --workers 2`` on PostGIS
with ~10 clients for ~10 s (no errors; every acknowledged report stored exactly once), and
again while PostgreSQL is restarted (503 during the outage, recovery, nothing lost)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import loadgen  # noqa: E402

SECONDS = float(os.environ.get("GEOAPP_LOAD_SECONDS", "10"))
CLIENTS = int(os.environ.get("GEOAPP_LOAD_CLIENTS", "10"))

pytestmark = [pytest.mark.postgis, pytest.mark.slow]


def _serve(url: str, token: str) -> loadgen.AppServer:
    app = loadgen.AppServer(url, workers=2, threads=4)
    try:
        app.wait_up(token)
    except Exception:
        app.stop()
        raise
    return app


def test_load_no_errors_and_every_acknowledged_report_stored_once(
    postgis_databases, demo_postgis_template
):
    url = postgis_databases.create(template=demo_postgis_template)
    token = loadgen.prepare_database(url)
    app = _serve(url, token)
    try:
        bbox = loadgen.county_bbox(app.base, token)
        result = loadgen.run_load(app.base, token, bbox, CLIENTS, SECONDS)
    finally:
        log = app.stop()
    summary = loadgen.summarize(result)
    assert summary["errors"] == 0, summary
    assert set(summary["per_kind"]) == {"read", "lookup", "report"}, summary
    assert result.acknowledged and not result.refused and not result.unknown
    check = loadgen.check_store(url, result)
    assert loadgen.store_ok(check), check
    assert check["acknowledged_stored_once"] == len(result.acknowledged)
    assert "Traceback" not in log, log[-3000:]


def test_postgres_restart_under_load_gives_503_recovers_and_loses_nothing(own_demo_postgres):
    own_postgres = own_demo_postgres
    url = own_postgres.start()
    token = loadgen.prepare_database(url)
    app = _serve(url, token)
    seconds = max(SECONDS, 10.0)
    try:
        bbox = loadgen.county_bbox(app.base, token)
        thread, outage = loadgen.restart_during(own_postgres, seconds / 4, outage_seconds=3)
        result = loadgen.run_load(app.base, token, bbox, CLIENTS, seconds, seed=7)
        thread.join(120)
    finally:
        log = app.stop()
    assert outage.up_at, "the restart did not finish"
    figures = loadgen.fault_figures(result, outage)
    # during the outage: 503, never another error (a 2xx is a request answered before the
    # stop took effect or after the server accepted connections again)
    assert figures["during_outage_statuses"].get("503", 0) > 0, figures
    assert set(figures["during_outage_statuses"]) <= {"503", "200", "201", "304"}, figures
    assert figures["other_5xx"] == 0 and figures["no_answer"] == 0, figures
    assert figures["recovered"] and not figures["errors_after_recovery"], figures
    statuses = loadgen.summarize(result)["statuses"]
    assert set(statuses) <= {"200", "201", "304", "503"}, statuses
    check = loadgen.check_store(url, result)
    assert loadgen.store_ok(check), check
    assert "Traceback" not in log, log[-3000:]


def test_report_committed_before_the_database_goes_away_is_acknowledged(
    own_demo_postgres, monkeypatch
):
    """The database stops after a report's COMMIT, while its answer is being read back: the
    report is stored, so the client gets 201 (a partial detail), not a 503 that would tell
    it the write failed.  A real outage: the server is stopped between the two steps."""
    import sqlalchemy as sa

    from geoapp import create_app
    from geoapp.services import intake as services_intake
    from geoapp.services.accounts import create_token
    from geoapp.store import open_store

    own_postgres = own_demo_postgres
    url = own_postgres.start()
    with open_store(url, upgrade=True) as store:
        loadgen.prepare_database(url)
        token = create_token(store, "reporter", "inspector")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    real_detail = services_intake.problem_detail

    def stop_then_read(*args, **kwargs):
        own_postgres.stop()
        return real_detail(*args, **kwargs)

    monkeypatch.setattr(services_intake, "problem_detail", stop_then_read)
    body = {
        "problem_id": "AFTER-COMMIT-1",
        "lon": 114.92,
        "lat": 28.23,
        "crs": "EPSG:4326",
        "category": "litter",
        "round": "压力测试",
        "deduction": 1,
        "description": "stored, then the database stops",
    }
    try:
        r = client.post("/api/problems", json=body)
        assert r.status_code == 201, r.get_json()
        detail = r.get_json()
        assert detail["partial"] is True
        assert detail["problem"]["problem_id"] == "AFTER-COMMIT-1"
        assert detail["links"]["self"].endswith(f"/api/problems/{detail['problem']['id']}")
        # while it is down, other requests still get the 503
        assert client.get("/api/units").status_code == 503
        monkeypatch.setattr(services_intake, "problem_detail", real_detail)
        own_postgres.start()
        r = client.get(detail["links"]["self"])
        assert r.status_code == 200 and r.get_json()["properties"]["problem_id"] == "AFTER-COMMIT-1"
        # a retry of the same report is refused, not stored twice
        assert client.post("/api/problems", json=body).status_code == 409
    finally:
        app.extensions["geoapp.store"].close()
        sa.create_engine(url).dispose()
