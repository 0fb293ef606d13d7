"""Many app servers on one database: no per-process state may hide another process's writes;
``geoapp serve --workers N`` (gunicorn) as a real subprocess; a 503 while the database is
down and recovery when it is back."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from webclient import make_app, sign_in

from geoapp import create_app
from geoapp.services import boundary_import, mapping, problem_import
from geoapp.services.accounts import create_token
from geoapp.store import open_store

REPO = Path(__file__).resolve().parents[2]
PG_SCRIPT = REPO / "scripts" / "pg-test-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def republish(store, tmp_path: Path, area_id: str, unit_id: str) -> int:
    """Publish the current areas again with one area given to another unit; returns the new
    generation's id."""
    gen = store.current_generation()["id"]
    areas = store.areas(gen)
    areas.loc[areas["area_id"] == area_id, "responsible_unit_id"] = unit_id
    path = tmp_path / f"areas-{uuid.uuid4().hex[:6]}.geojson"
    gpd.GeoDataFrame(areas, geometry="geometry", crs=4326).to_file(path, driver="GeoJSON")
    plan = boundary_import.plan_area_import(store, path)
    assert not plan.errors, plan.errors
    return boundary_import.commit_area_import(store, plan, "test", "republish")["id"]


def add_problem(store, tmp_path: Path, lon: float, lat: float, pid: str) -> None:
    src = tmp_path / f"{pid}.csv"
    src.write_text(
        "编号,检查轮次,问题类别,问题描述,扣分,上报时间,经度,纬度\n"
        f"{pid},第九轮,垃圾桶满溢,新问题,0.5,2026-11-01 09:30,{lon},{lat}\n",
        encoding="utf-8",
    )
    plan = problem_import.plan_problem_import(store, src)
    problem_import.commit_problem_import(store, plan, "test")


def test_two_app_servers_see_each_others_writes(demo_url, tmp_path):
    """Every cache (assignment index, read caches, API bodies, map page parts) follows what
    another app instance writes to the same database, on the next request."""
    one = make_app(demo_url)
    two = make_app(demo_url)
    a, b = sign_in(one.test_client(), "admin"), sign_in(two.test_client(), "admin")
    store_a = one.extensions["geoapp.store"]
    try:
        area = store_a.areas(store_a.current_generation()["id"]).iloc[0]
        point = area.geometry.representative_point()
        lookup = f"/api/lookup?lon={point.x}&lat={point.y}"
        # warm every cache of the second app
        before = {
            "lookup": b.get(lookup).get_json(),
            "areas": b.get("/api/areas").get_json(),
            "problems": b.get("/api/problems?limit=1").get_json(),
            "summary": b.get("/api/summary").get_json(),
            "page": b.get("/").get_data(as_text=True),
            "ogc": b.get("/ogc/collections/problems/items?limit=1").get_json(),
        }
        etag = b.get("/api/areas").headers["ETag"]
        assert a.get("/api/areas").headers["ETag"] == etag  # one tag across processes
        old_gen = before["lookup"]["generation"]
        other_unit = next(
            u["unit_id"]
            for u in store_a.list_units()
            if u["unit_id"] != area["responsible_unit_id"]
        )

        # 1. a generation published through the first app
        new_gen = republish(store_a, tmp_path, area["area_id"], other_unit)
        assert new_gen != old_gen
        after = b.get(lookup).get_json()
        assert after["generation"] == new_gen
        assert after["responsible_unit"]["id"] == other_unit
        fc = b.get("/api/areas", headers={"If-None-Match": etag})
        assert fc.status_code == 200 and fc.get_json()["generation"] == new_gen
        mine = [f for f in fc.get_json()["features"] if f["id"] == area["area_id"]]
        assert mine[0]["properties"]["responsible_unit_id"] == other_unit
        page = b.get("/").get_data(as_text=True)
        assert f"{new_gen} · " in page and f"{old_gen} · " not in page

        # 2. a problem added through the first app
        add_problem(store_a, tmp_path, point.x, point.y, "SCALE-1")
        problems = b.get("/api/problems?limit=1").get_json()
        assert problems["numberMatched"] == before["problems"]["numberMatched"] + 1
        assert b.get("/api/summary").get_json()["problems"] == before["summary"]["problems"] + 1
        ogc = b.get("/ogc/collections/problems/items?limit=1").get_json()
        assert ogc["numberMatched"] == before["ogc"]["numberMatched"] + 1
        assert "第九轮" in b.get("/").get_data(as_text=True)  # the round filter's options

        # 3. a district's lead unit changed through the first app: the second app's
        # assignment index (which holds the lead units) is rebuilt
        district = after["district"]["id"]
        with store_a.transaction() as tx:
            row = next(d for d in tx.list_districts() if d["district_id"] == district)
            tx.upsert_districts([row | {"lead_unit_id": other_unit}])
        assert b.get(lookup).get_json()["lead_unit"]["id"] == other_unit
        # and rules: the index another process uses to assign new problems sees them
        store_b = two.extensions["geoapp.store"]
        rules = store_a.list_rules()
        with store_a.transaction() as tx:
            tx.replace_rules(
                [
                    *rules,
                    {
                        "rule_id": "RX",
                        "priority": 0,
                        "category": "overflowing_bin",
                        "area_kind": None,
                        "unit_id": other_unit,
                    },
                ]
            )
        zoning = mapping.zoning_for(store_b)
        assert "RX" in {r.rule_id for r in zoning.rules}
    finally:
        for app in (one, two):
            app.extensions["geoapp.store"].close()


TOKEN: dict[str, str] = {}  # the API token the subprocess tests send


def _get(url: str, timeout: float = 10.0) -> tuple[int, bytes, dict]:
    headers = {"Authorization": f"Bearer {TOKEN['value']}"} if TOKEN else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        ) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def _wait_up(url: str, proc: subprocess.Popen, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        try:
            if _get(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.mark.slow
def test_serve_with_gunicorn_workers(demo_url, tmp_path):
    """`geoapp serve --workers 2` in a real subprocess: two worker processes answer the
    API, the OGC API and the map page, and follow a generation published elsewhere."""
    import psutil

    with open_store(demo_url) as store:
        TOKEN["value"] = create_token(store, "gunicorn-test", "admin")
    port = free_port()
    env = {**os.environ, "GEOAPP_DATABASE_URL": demo_url}
    env.pop("GEOAPP_SECRET_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "geoapp.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(f"{base}/ogc/", proc)
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        status, body, headers = _get(f"{base}/api/areas")
        assert status == 200 and headers["Content-Type"].startswith("application/geo+json")
        first_gen = json.loads(body)["generation"]
        assert _get(f"{base}/")[0] == 200
        assert _get(f"{base}/ogc/collections/units/items")[0] == 200
        with open_store(demo_url) as store:
            area = store.areas(first_gen).iloc[0]
            unit = next(
                u["unit_id"]
                for u in store.list_units()
                if u["unit_id"] != area["responsible_unit_id"]
            )
            new_gen = republish(store, tmp_path, area["area_id"], unit)
        for _ in range(8):  # whichever worker answers
            assert json.loads(_get(f"{base}/api/areas")[1])["generation"] == new_gen
    finally:
        TOKEN.clear()
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    text = out.decode(errors="replace")
    assert "gunicorn" in text and "Traceback" not in text, text[-3000:]


# --- the database goes away and comes back -----------------------------------------------
@pytest.mark.postgis
@pytest.mark.slow
def test_database_down_gives_503_then_recovers(own_demo_postgres):
    own_postgres = own_demo_postgres  # the demo county, loaded once per run
    url = own_postgres.start()
    with open_store(url, upgrade=True) as store:
        assert store.list_units()
        token = create_token(store, "probe", "admin")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    paths = ["/api/areas", "/api/problems?limit=5", "/ogc/collections/areas/items", "/"]
    try:
        for path in paths:
            assert client.get(path).status_code == 200, path
        own_postgres.stop()
        for path in paths:
            r = client.get(path)
            assert r.status_code == 503, (path, r.status_code)
            assert r.headers["Retry-After"]
            if path == "/":
                assert r.mimetype == "text/html"
                assert "数据库" in r.get_data(as_text=True)  # zh by default: a clear message
            else:
                assert r.mimetype == "application/json"
                assert r.get_json()["error"] == "database_unavailable"
        r = client.get("/api/lookup?lon=114.92&lat=28.23")
        assert r.status_code == 503
        own_postgres.start()
        for path in paths:  # the pool reconnects by itself
            assert client.get(path).status_code == 200, path
        assert client.get("/api/lookup?lon=114.92&lat=28.23").status_code == 200
    finally:
        app.extensions["geoapp.store"].close()
        sa.create_engine(url).dispose()
