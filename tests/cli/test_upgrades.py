"""Schema upgrades are a deploy step: ``geoapp init-db`` / ``geoapp db upgrade`` migrate (one
at a time per database), app servers never do and refuse to start on a store whose schema is
not the code's, naming the command to run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from geoapp import create_app
from geoapp.cli import main
from geoapp.services.accounts import create_token
from geoapp.store import SchemaOutOfDate, open_store

REPO = Path(__file__).resolve().parents[2]
OLD = "0006_sessions_logins"  # an older revision of the chain


def geoapp_process(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "GEOAPP_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "geoapp.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_an_app_refuses_a_store_behind_its_code_and_does_not_migrate_it(store_url):
    with open_store(store_url) as store:
        store.upgrade(OLD)
    with pytest.raises(SchemaOutOfDate) as refused:
        create_app({"DATABASE_URL": store_url, "TESTING": True})
    message = str(refused.value)
    assert "geoapp db upgrade" in message and OLD in message
    with open_store(store_url) as store:
        assert store.revision() == OLD  # untouched
        head = store.head_revision()
    r = CliRunner().invoke(main, ["--database-url", store_url, "db", "upgrade"])
    assert r.exit_code == 0 and head in r.output, r.output
    create_app({"DATABASE_URL": store_url}).extensions["geoapp.store"].close()


def test_an_app_refuses_an_empty_database_naming_init_db(store_url):
    with pytest.raises(SchemaOutOfDate, match="geoapp init-db"):
        create_app({"DATABASE_URL": store_url, "TESTING": True})
    assert "alembic_version" not in tables(store_url)


def test_a_command_other_than_the_upgrade_refuses_an_old_schema(store_url, tmp_path):
    with open_store(store_url) as store:
        store.upgrade(OLD)
    r = CliRunner().invoke(main, ["--database-url", store_url, "load-demo"])
    assert r.exit_code != 0 and "geoapp db upgrade" in r.output
    r = CliRunner().invoke(main, ["--database-url", store_url, "db", "current"])
    assert r.exit_code == 1 and OLD in r.output
    with open_store(store_url) as store:
        assert store.revision() == OLD


@pytest.mark.parametrize("workers", [None, 2])
def test_geoapp_serve_refuses_to_start_on_an_old_schema(tmp_path, workers):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    with open_store(url) as store:
        store.upgrade(OLD)
    args = ["serve", "--port", "0"] + (["--workers", str(workers)] if workers else [])
    try:
        done = geoapp_process(url, *args, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("geoapp serve started on an old schema")
    assert done.returncode != 0
    assert "geoapp db upgrade" in done.stderr and "Traceback" not in done.stderr
    with open_store(url) as store:
        assert store.revision() == OLD


def run_at_once(*calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]


def upgrade_twice_at_once(url: str) -> None:
    first, second = run_at_once(
        lambda: geoapp_process(url, "db", "upgrade"), lambda: geoapp_process(url, "init-db")
    )
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    with open_store(url) as store:
        assert store.revision() == store.head_revision()
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    assert len(rows) == 1


def test_two_upgrades_at_once_on_sqlite_do_not_collide(tmp_path):
    for i in range(2):
        upgrade_twice_at_once(f"sqlite:///{tmp_path / f'fresh{i}.sqlite'}")


@pytest.mark.postgis
def test_two_upgrades_at_once_on_postgis_do_not_collide(postgis_databases):
    for _ in range(2):
        upgrade_twice_at_once(postgis_databases.create())


@pytest.mark.postgis
@pytest.mark.slow
def test_two_servers_of_two_workers_start_at_once_on_one_fresh_postgis(postgis_databases):
    sys.path.insert(0, str(REPO / "bench"))
    import loadgen

    url = postgis_databases.create()
    # servers started on the fresh database refuse, and leave it empty
    refused = run_at_once(
        *[lambda: geoapp_process(url, "serve", "--workers", "2", "--port", "0")] * 2
    )
    assert all(r.returncode != 0 and "geoapp init-db" in r.stderr for r in refused)
    assert tables(url) <= {"spatial_ref_sys"}
    # the deploy step, then both servers (four workers) at once
    done = geoapp_process(url, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    with open_store(url) as store:
        token = create_token(store, "probe", "inspector")
    servers = [loadgen.AppServer(url, workers=2, threads=2) for _ in range(2)]
    try:
        for server in servers:
            server.wait_up(token, seconds=180)
        for server in servers:
            for _ in range(4):  # reach every worker more or less
                assert loadgen.get_json(server.base, "/api/units", token)[0] == 200
                assert loadgen.get_json(server.base, "/readyz", token)[0] == 200
            time.sleep(0.1)
    finally:
        logs = [server.stop() for server in servers]
    for log in logs:
        assert log.count("Booting worker") == 2, log
        assert "Traceback" not in log and "ERROR" not in log, log
    with open_store(url) as store:
        assert store.revision() == store.head_revision()
