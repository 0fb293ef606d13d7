"""The geoapp command line, run in-process with click's runner against a real store."""

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from geoapp.cli import main
from geoapp.core import crs
from geoapp.services.county import DEMO_DIR
from geoapp.store import open_store


def run(url, *args, input=None):
    result = CliRunner().invoke(main, ["--database-url", url, *map(str, args)], input=input)
    return result


def test_init_db_and_load_demo(store_url):
    r = run(store_url, "init-db")
    assert r.exit_code == 0, r.output
    r = run(store_url, "load-demo")
    assert r.exit_code == 0, r.output
    assert "problems" in r.output
    r = run(store_url, "load-demo", "--if-empty")
    assert r.exit_code == 0 and "already holds data" in r.output
    r = run(store_url, "load-demo")
    assert r.exit_code == 2 and "already holds data" in r.output
    with open_store(store_url) as store:
        assert store.current_generation()["id"] == 1
        assert store.count_problems() >= 3000


def test_assign_geojson_with_zones_folder(tmp_path):
    src = DEMO_DIR / "problems.geojson"
    out = tmp_path / "out.geojson"
    r = CliRunner().invoke(main, ["assign", str(src), str(out), "--zones", str(DEMO_DIR)])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    got = gpd.read_file(out)
    assert summary["rows"] == len(got)
    for col in ("district_id", "area_id", "responsible_unit_id", "lead_unit_id", "rule"):
        assert col in got.columns
    outside = got[got["placement"] == "outside"]
    assert len(outside) > 0 and outside["area_id"].isna().all()
    inside = got[got["placement"] == "interior"]
    assert inside["area_id"].notna().all()
    assert summary["unassigned"] == int(got["area_id"].isna().sum())


def test_assign_gbk_csv_in_gcj02(tmp_path):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    pts = areas.geometry.representative_point().iloc[:20]
    glon, glat = crs.from_wgs84(pts.x.to_numpy(), pts.y.to_numpy(), "gcj02")
    frame = pd.DataFrame({"编号": range(20), "经度": glon, "纬度": glat, "问题类别": "litter"})
    src = tmp_path / "in.csv"
    src.write_bytes(frame.to_csv(index=False).encode("gbk"))
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(
        main, ["assign", str(src), str(out), "--crs", "gcj02", "--zones", str(DEMO_DIR)]
    )
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out, encoding="utf-8-sig")
    assert got["area_id"].tolist() == areas["area_id"].iloc[:20].tolist()
    # the original GCJ-02 coordinates are kept as they were
    assert got["经度"].tolist() == pytest.approx(glon.tolist())


def test_assign_geoparquet_round_trip(tmp_path):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    pts = gpd.GeoDataFrame(
        {"n": range(10)}, geometry=areas.geometry.representative_point().iloc[:10].values, crs=4326
    ).to_crs(32650)
    src = tmp_path / "in.parquet"
    pts.to_parquet(src)
    out = tmp_path / "out.parquet"
    r = CliRunner().invoke(main, ["assign", str(src), str(out), "--zones", str(DEMO_DIR)])
    assert r.exit_code == 0, r.output
    got = gpd.read_parquet(out)
    assert got.crs.to_epsg() == 32650
    assert got["area_id"].tolist() == areas["area_id"].iloc[:10].tolist()


def test_assign_reports_bad_rows_and_writes_nothing(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("lon,lat\n114.92,28.23\nx,y\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(main, ["assign", str(src), str(out), "--zones", str(DEMO_DIR)])
    assert r.exit_code == 2
    assert "line 3" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_assign_unknown_crs(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("lon,lat\n114.92,28.23\n", encoding="utf-8")
    r = CliRunner().invoke(
        main,
        ["assign", str(src), str(tmp_path / "o.csv"), "--crs", "mars", "--zones", str(DEMO_DIR)],
    )
    assert r.exit_code == 2 and "unknown CRS 'mars'" in r.output


def test_assign_from_store_needs_a_generation(store_url, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("lon,lat\n114.92,28.23\n", encoding="utf-8")
    assert run(store_url, "init-db").exit_code == 0
    r = run(store_url, "assign", src, tmp_path / "o.csv")
    assert r.exit_code == 2 and "no boundary generation is published" in r.output


def test_import_problems_dry_run_then_commit(demo_url, tmp_path):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    p = areas.geometry.representative_point()
    rows = [
        "编号,检查轮次,问题类别,问题描述,扣分,上报时间,经度,纬度",
        f"N1,第三轮复查,垃圾桶满溢,桶满溢,0.5,2026-11-01 09:30,{p.x[0]},{p.y[0]}",
        f"N2,第三轮复查,闯红灯,路口闯红灯,1,2026-11-01 10:00,{p.x[1]},{p.y[1]}",
        "N3,第三轮复查,不存在的类别,x,1,2026-11-01 10:00,114.9,28.2",
        "N4,第三轮复查,垃圾桶满溢,x,1,2026-11-01 10:00,115.5,28.2",
        "N5,第三轮复查,垃圾桶满溢,x,abc,not a date,114.9,28.2",
    ]
    src = tmp_path / "round3.csv"
    src.write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    with open_store(demo_url) as store:
        before = store.count_problems()
    r = run(demo_url, "import-problems", src)
    assert r.exit_code == 0, r.output
    assert "line 4: unknown category '不存在的类别'" in r.output
    assert "line 6" in r.output and "deduction 'abc'" in r.output
    summary = json.loads([line for line in r.output.splitlines() if line.startswith("{")][0])
    assert summary["new"] == 3 and summary["bad_rows"] == 2
    assert summary["unassigned_outside_county"] == 1
    r = run(demo_url, "import-problems", src, "--commit")
    assert r.exit_code == 2 and "nothing was imported" in r.output
    with open_store(demo_url) as store:
        assert store.count_problems() == before
    r = run(demo_url, "import-problems", src, "--commit", "--skip-bad")
    assert r.exit_code == 0, r.output
    with open_store(demo_url) as store:
        assert store.count_problems() == before + 3
        new = {p["problem_id"]: p for p in store.problems({"round": "第三轮复查"})}
        assert new["N1"]["area_id"] == areas["area_id"][0]
        assert new["N4"]["area_id"] is None
        assert new["N2"]["rule_id"] is not None  # traffic goes to the traffic police
    # importing the same file again adds nothing
    r = run(demo_url, "import-problems", src, "--commit", "--skip-bad")
    assert r.exit_code == 0 and "imported 0 problem(s)" in r.output


def test_import_areas_dry_run_and_commit(demo_url, tmp_path):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    # move area 0 to the unit of area 1: an attribute change only
    areas.loc[0, "responsible_unit_id"] = areas.loc[1, "responsible_unit_id"]
    src = tmp_path / "redraw.gpkg"
    areas.to_crs(32650).to_file(src, driver="GPKG")
    r = run(demo_url, "import-areas", src)
    assert r.exit_code == 0, r.output
    assert f"{areas.loc[0, 'area_id']}: attributes" in r.output
    assert "dry run" in r.output
    with open_store(demo_url) as store:
        assert store.current_generation()["id"] == 1
    r = run(demo_url, "import-areas", src, "--commit", "-m", "调整包干区")
    assert r.exit_code == 0, r.output
    with open_store(demo_url) as store:
        assert store.current_generation()["id"] == 2
        assert len(store.list_generations()) == 2


def test_import_areas_rejects_overlaps(demo_url, tmp_path):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    areas.loc[0, "geometry"] = areas.geometry[0].buffer(0.0005)
    src = tmp_path / "bad.geojson"
    areas.to_file(src)
    r = run(demo_url, "import-areas", src, "--commit")
    assert r.exit_code == 2
    assert "overlap by" in r.output and "nothing was changed" in r.output
    with open_store(demo_url) as store:
        assert store.current_generation()["id"] == 1


def test_import_areas_unknown_unit_and_invalid_geometry(demo_url, tmp_path):
    doc = json.loads((DEMO_DIR / "areas.geojson").read_text(encoding="utf-8"))
    doc["features"][0]["properties"]["responsible_unit_id"] = "NOPE"
    doc["features"][1]["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[114.9, 28.2], [114.91, 28.21], [114.91, 28.2], [114.9, 28.21], [114.9, 28.2]]
        ],
    }
    src = tmp_path / "bad.geojson"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = run(demo_url, "import-areas", src)
    assert r.exit_code == 2
    assert "feature 1: responsible unit NOPE does not exist" in r.output
    assert "feature 2: invalid geometry: Self-intersection" in r.output


def test_bad_database_url_is_a_clear_message(tmp_path):
    r = CliRunner().invoke(
        main, ["--database-url", "postgresql+psycopg://u:secret@127.0.0.1:1/x", "init-db"]
    )
    assert r.exit_code != 0
    assert "secret" not in r.output and "Traceback" not in r.output


def test_zones_index_is_cached_by_file_contents(tmp_path):
    import shutil

    import numpy as np

    from geoapp.services.assign_files import zoning_from_folder

    zones = tmp_path / "zones"
    shutil.copytree(DEMO_DIR, zones, ignore=shutil.ignore_patterns("problems.geojson", "*.md"))
    cache = tmp_path / "cache"
    built = zoning_from_folder(zones, cache_dir=cache)
    assert len(list(cache.glob("zoning-*.pickle"))) == 1
    loaded = zoning_from_folder(zones, cache_dir=cache)
    assert loaded is not built
    rng = np.random.default_rng(3)
    lon = 114.88 + rng.random(50_000) * 0.08
    lat = 28.19 + rng.random(50_000) * 0.07
    assert built.assign(lon, lat).equals(loaded.assign(lon, lat))
    # another rule file is another index
    rules = (zones / "rules.csv").read_text(encoding="utf-8").splitlines()
    (zones / "rules.csv").write_text("\n".join(rules[:-1]) + "\n", encoding="utf-8")
    changed = zoning_from_folder(zones, cache_dir=cache)
    assert len(changed.rules) == len(built.rules) - 1
    assert len(list(cache.glob("zoning-*.pickle"))) == 2


def test_import_areas_in_the_wrong_crs(demo_url, tmp_path):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    # projected coordinates written without saying so: a GeoJSON reader takes them as degrees
    utm = areas.to_crs(32650)
    doc = json.loads(utm.to_json())
    doc.pop("crs", None)
    src = tmp_path / "utm.geojson"
    src.write_text(json.dumps(doc), encoding="utf-8")
    r = run(demo_url, "import-areas", src)
    assert r.exit_code == 2 and "are not longitudes and latitudes" in r.output
    # a whole degree away from the county: not the county
    far = areas.copy()
    far["geometry"] = far.geometry.translate(xoff=1.0)
    src = tmp_path / "far.geojson"
    far.to_file(src)
    r = run(demo_url, "import-areas", src, "--commit")
    assert r.exit_code == 2 and "do not even overlap the current county" in r.output
    with open_store(demo_url) as store:
        assert store.current_generation()["id"] == 1


#: every command of ``geoapp``, whichever module of geoapp/cli/ defines it
COMMANDS = {
    "activate-user",
    "assign",
    "backup",
    "check",
    "create-token",
    "create-user",
    "db",
    "deactivate-user",
    "export-ledger",
    "import-areas",
    "import-points",
    "import-problems",
    "init-db",
    "load-demo",
    "restore",
    "revoke-token",
    "serve",
    "set-deadline",
    "set-password",
}


def test_every_command_is_on_the_group_and_python_m_runs_it(tmp_path):
    """``geoapp`` (the console script's ``geoapp.cli:main``) and ``python -m geoapp.cli``
    list the same commands, every one of them, each with its own help."""
    assert set(main.commands) == COMMANDS
    listed = subprocess.run(
        [sys.executable, "-m", "geoapp.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert listed.startswith("Usage: geoapp ")
    shown = {line.split()[0] for line in listed.split("Commands:")[1].splitlines() if line.strip()}
    assert shown == COMMANDS
    for name in COMMANDS:
        r = CliRunner().invoke(main, [name, "--help"])
        assert r.exit_code == 0 and r.output.startswith(f"Usage: main {name} "), (name, r.output)
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    ran = subprocess.run(
        [sys.executable, "-m", "geoapp.cli", "--database-url", url, "init-db"],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0 and ran.stdout.startswith("database ready: sqlite:///"), ran


def test_importing_the_main_module_runs_no_command():
    """A tool that imports every module (pkgutil.walk_packages, as the architecture test
    does) must not start the command line: ``geoapp.cli.__main__`` runs it only as
    ``python -m``."""
    code = "import geoapp.cli.__main__; print('imported')"
    ran = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "imported\n" and ran.stderr == ""


def test_help_loads_no_data_library():
    """``geoapp --help`` and every command's help answer without importing pandas,
    geopandas, shapely, SQLAlchemy or Flask (a second of start-up each time): the commands
    import what they need when they run."""
    code = (
        "import sys\n"
        "from geoapp.cli import main\n"
        "for args in (['--help'], *[[n, '--help'] for n in sorted(main.commands)],"
        " ['db', 'upgrade', '--help']):\n"
        "    try:\n"
        "        main(args, prog_name='geoapp')\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, args\n"
        "heavy = ('pandas', 'geopandas', 'shapely', 'pyproj', 'sqlalchemy', 'flask', 'numpy')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == "[]\n"
    assert "Usage: geoapp load-demo" in ran.stdout and "[default: (the demo county" in ran.stdout


def test_the_schema_commands_load_no_geometry_frame_library(tmp_path):
    """``geoapp init-db``, ``db upgrade`` and ``db current`` (a deploy step, run in a fresh
    process each time) touch no area: they answer without importing geopandas or pyproj,
    which the store and the coverage rules import only where a frame or a projection is
    made (a third of a second of start-up each time)."""
    url = f"sqlite:///{tmp_path / 'schema.sqlite'}"
    code = (
        "import sys\n"
        "from geoapp.cli import main\n"
        "for args in (['init-db'], ['db', 'upgrade'], ['db', 'current']):\n"
        "    try:\n"
        f"        main(['--database-url', {url!r}, *args], prog_name='geoapp')\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, (args, exc.code)\n"
        "print(sorted(m for m in ('geopandas', 'pyproj') if m in sys.modules), file=sys.stderr)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.strip().splitlines()[-1] == "[]", ran.stderr
    assert "database ready: sqlite:///" in ran.stdout
