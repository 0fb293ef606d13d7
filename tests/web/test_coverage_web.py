"""Inspection coverage over HTTP on the demo county (SQLite and PostGIS): the pages in
Chinese, visits by inspectors, check-ins by unit accounts to their own areas only, each
account's view of the coverage, the exports and the OpenAPI document."""

import io
import json
import uuid

import pytest

from geoapp.services.accounts import demo_unit


@pytest.fixture
def store(app):
    return app.extensions["geoapp.store"]


def area_spot(store, own: bool):
    unit = demo_unit(store)
    areas = store.areas()
    row = areas[(areas.responsible_unit_id == unit) == own].iloc[0]
    spot = row.geometry.representative_point()
    return row.area_id, row["name"], spot.x, spot.y


@pytest.mark.parametrize(
    ("path", "role", "text"),
    [
        ("/ledger/coverage", "coordinator", "检查覆盖"),
        ("/ledger/coverage/map", "coordinator", "距上次检查或巡查的天数"),
        ("/ledger/coverage/print", "coordinator", "受检点台账"),
        ("/coverage/points", "planner", "受检点"),
        ("/coverage/visit", "inspector", "记录检查"),
        ("/field/visit", "inspector", "检查受检点"),
        ("/field/patrol", "unit", "巡查签到"),
    ],
)
def test_pages_in_chinese(client_as, path, role, text):
    r = client_as(role).get(path)
    assert r.status_code == 200, r.data[:300]
    assert text in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/field/patrol", "inspector"),
        ("/field/visit", "unit"),
        ("/coverage/points", "unit"),
        ("/coverage/visit", "unit"),
    ],
)
def test_pages_refused_to_other_roles(client_as, path, role):
    assert client_as(role).get(path).status_code == 403


def test_inspector_records_visits_once(client_as, store):
    point = store.inspection_points()[0]
    inspector = client_as("inspector")
    body = {
        "point_id": point["point_id"],
        "round": "复查",
        "result": "clean",
        "client_id": uuid.uuid4().hex,
    }
    first = inspector.post("/api/visits", json=body)
    assert first.status_code == 201, first.json
    again = inspector.post("/api/visits", json=body)
    assert again.status_code == 200 and again.json["visit"]["id"] == first.json["visit"]["id"]
    found = inspector.post(
        "/api/visits",
        json={
            "point_id": point["point_id"],
            "round": "复查",
            "result": "problems",
            "problems": [{"category": "overflowing_bin", "deduction": 1.0}],
        },
    )
    assert found.status_code == 201, found.json
    pk = found.json["visit"]["problem_pks"][0]
    assert store.get_problem(pk)["round"] == "复查"
    assert client_as("unit").post("/api/visits", json=body).status_code == 403
    refused = inspector.post("/api/visits", json={**body, "result": "dirty", "client_id": None})
    assert refused.status_code == 400


def test_units_check_in_to_their_own_areas_only(client_as, store):
    unit = client_as("unit")
    area_id, _name, x, y = area_spot(store, own=True)
    ok = unit.post(
        "/api/checkins",
        json={
            "area_id": area_id,
            "lon": x,
            "lat": y,
            "accuracy_m": 9.0,
            "client_id": uuid.uuid4().hex,
        },
    )
    assert ok.status_code == 201, ok.json
    assert ok.json["checkin"]["distance_m"] == 0 and ok.json["checkin"]["accuracy_m"] == 9.0
    other_id, other_name, ox, oy = area_spot(store, own=False)
    away = unit.post(
        "/api/checkins",
        json={"area_id": area_id, "lon": ox, "lat": oy, "client_id": uuid.uuid4().hex},
    )
    assert away.status_code == 422
    assert other_name in away.json["message"] and "签到被拒绝" in away.json["message"]
    foreign = unit.post(
        "/api/checkins",
        json={"area_id": other_id, "lon": ox, "lat": oy, "client_id": uuid.uuid4().hex},
    )
    assert foreign.status_code == 403
    staff = client_as("coordinator").post(
        "/api/checkins",
        json={"area_id": area_id, "lon": x, "lat": y, "client_id": uuid.uuid4().hex},
    )
    assert staff.status_code == 403


def test_phone_posts_go_through_the_queue_format(client_as, store):
    area_id, _name, x, y = area_spot(store, own=True)
    report = {"area_id": area_id, "lon": x, "lat": y, "client_id": uuid.uuid4().hex}
    unit = client_as("unit")
    first = unit.post("/field/api/checkins", data={"report": json.dumps(report)})
    again = unit.post("/field/api/checkins", data={"report": json.dumps(report)})
    assert (first.status_code, again.status_code) == (201, 200)
    assert len([c for c in store.checkins() if c["client_id"] == report["client_id"]]) == 1


def test_each_account_sees_its_own_coverage(client_as, store):
    every = client_as("coordinator").get("/api/coverage").json
    mine = client_as("unit").get("/api/coverage").json
    assert len(every["units"]) > 10
    assert [u["id"] for u in mine["units"]] == [demo_unit(store)]
    assert "80%" in every["rule"]
    assert client_as("unit").get("/api/coverage?unit=U01").json["units"] == []
    features = client_as("unit").get("/api/coverage/map").json["features"]
    areas = store.areas()
    own = set(areas[areas.responsible_unit_id == demo_unit(store)].area_id)
    assert {f["properties"]["id"] for f in features if f["properties"]["layer"] == "area"} == own


def test_exports(client_as):
    import openpyxl

    coordinator = client_as("coordinator")
    r = coordinator.get("/ledger/coverage/export.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(r.data), read_only=True)
    assert book.sheetnames == ["受检点台账", "检查巡查覆盖", "筛选条件"]
    rows = list(book["受检点台账"].iter_rows(values_only=True))
    assert rows[0][:4] == ("受检点编号", "受检点", "类型", "检查轮次") and len(rows) > 100
    csv_text = coordinator.get("/ledger/coverage/export.csv?table=units").data.decode("utf-8-sig")
    assert csv_text.startswith("责任单位,受检点,已检查,检查覆盖率")
    assert coordinator.get("/ledger/coverage/export.csv?table=nope").status_code == 400


def test_openapi_lists_the_coverage_routes(client_as):
    doc = client_as("coordinator").get("/api/openapi.json").json
    for path in (
        "/api/points",
        "/api/visits",
        "/api/checkins",
        "/api/coverage",
        "/api/coverage/map",
    ):
        assert path in doc["paths"], path
    assert "Visit" in doc["components"]["schemas"]


def test_register_import_page_previews_then_registers(client_as, store, app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    _area, _name, x, y = area_spot(store, own=True)
    text = f"编号,名称,类型,经度,纬度\nNEW1,新市场,农贸市场,{x},{y}\nNEW2,坏,castle,{x},{y}\n"
    planner = client_as("planner")
    before = len(store.inspection_points())
    preview = planner.post(
        "/coverage/points/import",
        data={"file": (io.BytesIO(text.encode("gbk")), "register.csv")},
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "新受检点 1 个，错误行 1 行" in page
    assert len(store.inspection_points()) == before
    token = page.split('name="token" value="')[1].split('"')[0]
    refused = planner.post("/coverage/points/import", data={"token": token})
    assert refused.status_code == 400 and len(store.inspection_points()) == before
    done = planner.post("/coverage/points/import", data={"token": token, "skip_bad": "1"})
    assert done.status_code == 200 and "已登记 1 个受检点" in done.get_data(as_text=True)
    assert store.inspection_point_by_code("NEW1")["kind"] == "market"
    assert planner.post("/coverage/points/import", data={"token": token}).status_code == 400


def test_refusal_in_english_names_the_area(client_as, store):
    unit = client_as("unit")
    unit.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    area_id, name, _x, _y = area_spot(store, own=True)
    _other, other_name, ox, oy = area_spot(store, own=False)
    away = unit.post(
        "/api/checkins",
        json={"area_id": area_id, "lon": ox, "lat": oy, "client_id": uuid.uuid4().hex},
    )
    message = away.json["message"]
    assert away.status_code == 422 and message.startswith("refused: the phone is in ")
    assert other_name in message and name in message


def test_the_coverage_workbook_holds_the_csv_tables_cell_by_cell(client_as):
    """Each sheet of the workbook reads back as the CSV of the same table (numbers as
    numbers, texts as texts, the same cells), with a bold, frozen header row."""
    import csv

    import openpyxl

    coordinator = client_as("coordinator")
    book = openpyxl.load_workbook(io.BytesIO(coordinator.get("/ledger/coverage/export.xlsx").data))
    for title, table in (("受检点台账", "visits"), ("检查巡查覆盖", "units")):
        data = coordinator.get(f"/ledger/coverage/export.csv?table={table}").data
        expected = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        ws = book[title]
        got = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
        assert got == expected and len(got) > 1
        assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
        for row in ws.iter_rows(min_row=2):
            assert all(c.data_type in ("s", "n") for c in row)
    numbers = [c.value for c in book["检查巡查覆盖"]["C"][1:]]  # 已检查: counts
    assert numbers and all(type(v) is int for v in numbers)
