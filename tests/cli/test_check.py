"""``geoapp check``: every setting and where it comes from, the store and its schema, disk
space for photos, the tile folder, the compiled translations; exit 1 with a line per problem."""

from __future__ import annotations

import os

from click.testing import CliRunner

from geoapp import config
from geoapp.cli import main
from geoapp.services import health
from geoapp.store import open_store


def check(monkeypatch, url, **env):
    for name in list(os.environ):
        if name.startswith("GEOAPP_") and not name.startswith("GEOAPP_TEST_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(f"GEOAPP_{name}", value)
    return CliRunner().invoke(main, ["--database-url", url, "check"])


def make_tiles(folder):
    (folder / "12" / "3300").mkdir(parents=True)
    (folder / "12" / "3300" / "1700.png").write_bytes(b"\x89PNG")
    return folder


def test_a_good_setup_passes_and_lists_every_setting_and_its_source(
    demo_url, tmp_path, monkeypatch
):
    r = check(
        monkeypatch,
        demo_url,
        UPLOAD_DIR=str(tmp_path / "photos"),
        SLIVER_M2="12.5",
        SECRET_KEY="do-not-print-me",
        TILES_DIR=str(make_tiles(tmp_path / "tiles")),
    )
    assert r.exit_code == 0, r.output
    for name in config.SETTINGS:
        assert f"GEOAPP_{name}" in r.output
    lines = {line.split()[0]: line for line in r.output.splitlines() if "GEOAPP_" in line}
    assert "12.5" in lines["GEOAPP_SLIVER_M2"] and lines["GEOAPP_SLIVER_M2"].endswith("env")
    assert lines["GEOAPP_MAX_PHOTO_MB"].endswith("default")
    assert "do-not-print-me" not in r.output and "(set, hidden)" in lines["GEOAPP_SECRET_KEY"]
    with open_store(demo_url) as store:
        head = store.head_revision()
    for expected in (
        "ok   store",
        f"ok   schema: at {head}",
        "ok   uploads",
        "ok   disk",
        "ok   tiles",
        "ok   translations:zh",
        "all checks passed",
    ):
        assert expected in r.output, expected


def test_a_broken_setup_names_each_problem_and_exits_1(store_url, tmp_path, monkeypatch):
    with open_store(store_url) as store:
        store.upgrade("0006_sessions_logins")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = check(
        monkeypatch,
        store_url,
        UPLOAD_DIR=str(blocker / "photos"),
        TILES_DIR=str(tmp_path / "no-tiles"),
        SLIVERM2="12.5",
        MAX_PHOTO_MB="ten",
    )
    assert r.exit_code == 1
    problems = r.output.split("problem(s):")[1]
    assert "5 problem(s)" in r.output, r.output
    assert "GEOAPP_MAX_PHOTO_MB must be a whole number (int), got 'ten'" in problems
    assert "unknown setting GEOAPP_SLIVERM2 (did you mean GEOAPP_SLIVER_M2?)" in problems
    assert "schema: at 0006_sessions_logins" in problems and "geoapp db upgrade" in problems
    assert "uploads:" in problems and "tiles:" in problems


def test_an_unreachable_store_is_a_problem(tmp_path, monkeypatch):
    url = "postgresql+psycopg://nobody:pw-secret@127.0.0.1:9/none"
    r = check(monkeypatch, url, UPLOAD_DIR=str(tmp_path))
    assert r.exit_code == 1 and "FAIL store" in r.output and "pw-secret" not in r.output


def test_stale_or_missing_translations_are_problems(tmp_path):
    for lang in ("zh", "en"):
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / lang / "LC_MESSAGES" / "messages.po").write_text("")
    mo = tmp_path / "zh" / "LC_MESSAGES" / "messages.mo"
    mo.write_bytes(b"")
    os.utime(mo, (0, 0))  # older than its .po
    found = {c.name: c for c in health.translations_compiled(tmp_path)}
    assert not found["translations:zh"].ok and "older" in found["translations:zh"].detail
    assert not found["translations:en"].ok and "missing" in found["translations:en"].detail


def test_a_tile_folder_without_tiles_is_a_problem(tmp_path):
    (tmp_path / "12").mkdir()
    assert not health.tile_package(tmp_path).ok
    assert health.tile_package(make_tiles(tmp_path / "t")).ok
