"""Importing an inspection sheet from the page's API: upload → preview → confirm, on both
backends; GBK, bad rows, points outside the county, mixed CRSs, likely duplicates."""

from __future__ import annotations

import io

import pytest
from intake_helpers import inside_point, multipart
from webclient import make_app, sign_in

from geoapp.core.crs import from_wgs84

HEADER = "编号,检查轮次,问题类别,问题描述,扣分,上报时间,经度,纬度"


@pytest.fixture
def app(demo_url, tmp_path):
    app = make_app(demo_url, UPLOAD_DIR=str(tmp_path / "uploads"))
    yield app
    app.extensions["geoapp.store"].close()


@pytest.fixture
def store(app):
    return app.extensions["geoapp.store"]


def upload(client, content: bytes, name="sheet.csv", crs=None):
    data = {"file": (io.BytesIO(content), name)}
    if crs is not None:
        data["crs"] = crs
    return client.post("/api/imports", data=data)


def sheet(rows, header=HEADER, encoding="gbk") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def test_gbk_sheet_preview_then_confirm(client, store, tmp_path):
    a1, x1, y1 = inside_point(store, kind="back_alley")
    a2, x2, y2 = inside_point(store, kind="compound_managed")
    content = sheet(
        [
            f"N1,第三轮复查,垃圾桶满溢,桶满溢,0.5,2026-11-01 09:30,{x1},{y1}",
            f"N2,第三轮复查,闯红灯,路口闯红灯,1,2026-11-01 10:00,{x2},{y2}",
            "N3,第三轮复查,不存在的类别,x,1,2026-11-01 10:00,114.9,28.2",
            "N4,第三轮复查,垃圾桶满溢,县外,1,2026-11-01 10:00,116.5,29.2",
            "N5,第三轮复查,垃圾桶满溢,x,abc,not a date,114.9,28.2",
            "N6,第三轮复查,垃圾桶满溢,x,1,2026-11-01 10:00,,28.2",
        ]
    )
    before = store.count_problems()
    r = upload(client, content)
    assert r.status_code == 200, r.get_json()
    p = r.get_json()
    assert p["filename"] == "sheet.csv"
    assert p["summary"]["new"] == 3 and p["summary"]["bad_rows"] == 3
    assert p["summary"]["unassigned_outside_county"] == 1
    rows = {r["problem_id"]: r for r in p["rows"]}
    assert rows["N1"]["area_id"] == a1["area_id"] and rows["N1"]["line"] == "line 2"
    assert rows["N1"]["category_label"] == "垃圾桶满溢"
    units = {u["unit_id"]: u["name"] for u in store.list_units()}
    assert rows["N1"]["responsible_unit_name"] == units["U49"]  # R12: bins in back alleys
    assert rows["N1"]["rule_id"] == "R12" and rows["N1"]["district_name"]
    assert rows["N1"]["lead_unit_name"]
    assert units[a1["responsible_unit_id"]]
    assert rows["N2"]["responsible_unit_name"] == "县交警大队" and rows["N2"]["rule_id"] == "R01"
    assert rows["N4"]["assigned"] is False and rows["N4"]["area_name"] is None
    bad = {b["line"]: b["reason"] for b in p["bad"]}
    assert "unknown category '不存在的类别'" in bad["line 4"]
    assert "deduction 'abc'" in bad["line 6"] and "not a date" in bad["line 6"]
    assert "line 7" in bad
    # and in the reader's language (Chinese by default), for the import page
    text = {b["line"]: b["reason_text"] for b in p["bad"]}
    assert "未知的问题类别 '不存在的类别'" in text["line 4"]
    assert "扣分 'abc' 不是 0 到 100 之间的数" in text["line 6"] and "；上报时间" in text["line 6"]
    assert "messages" not in p["bad"][0]
    # nothing written by the preview; the file waits under instance/ by its token
    assert store.count_problems() == before
    kept = list((tmp_path / "uploads" / "imports" / p["token"]).iterdir())
    assert any(f.name == "upload.csv" for f in kept)
    # bad rows block the import until skipped explicitly
    r = client.post(p["confirm"], json={})
    assert r.status_code == 400 and "有 3 行有误" in r.get_json()["message"]
    assert store.count_problems() == before
    r = client.post(p["confirm"], json={"skip_bad": "yes"})
    assert r.status_code == 400
    r = client.post(p["confirm"], json={"skip_bad": True})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["imported"] == 3
    assert store.count_problems() == before + 3
    stored = {q["problem_id"]: q for q in store.problems({"round": "第三轮复查"})}
    assert stored["N4"]["area_id"] is None and stored["N2"]["responsible_unit_id"] == "U11"
    # the token is spent: a second confirm changes nothing
    r = client.post(p["confirm"], json={"skip_bad": True})
    assert r.status_code == 409
    assert store.count_problems() == before + 3
    # a re-upload of the same sheet: every good row is already stored
    again = upload(client, content).get_json()
    assert again["summary"]["new"] == 0 and sorted(again["already_stored"]) == ["N1", "N2", "N4"]


def test_mixed_crs_in_one_sheet_and_per_upload(client, store):
    area, x, y = inside_point(store, kind="compound_managed")
    gx, gy = (float(v[0]) for v in from_wgs84([x], [y], "gcj02"))
    bx, by = (float(v[0]) for v in from_wgs84([x], [y], "bd09"))
    header = HEADER + ",坐标系"
    content = sheet(
        [
            f"M1,R,垃圾落地,a,1,2026-11-01 09:30,{x},{y},wgs84",
            f"M2,R,垃圾落地,b,1,2026-11-01 09:30,{gx},{gy},gcj02",
            f"M3,R,垃圾落地,c,1,2026-11-01 09:30,{bx},{by},BD-09",
            f"M4,R,垃圾落地,d,1,2026-11-01 09:30,{x},{y},",
            f"M5,R,垃圾落地,e,1,2026-11-01 09:30,{x},{y},火星坐标",
        ],
        header=header,
        encoding="utf-8",
    )
    p = upload(client, content).get_json()
    rows = {r["problem_id"]: r for r in p["rows"]}
    assert set(rows) == {"M1", "M2", "M3", "M4"}
    for r in rows.values():
        assert r["area_id"] == area["area_id"]
        assert r["lon"] == pytest.approx(x, abs=1e-5) and r["lat"] == pytest.approx(y, abs=1e-5)
    assert [rows[k]["source_crs"] for k in ("M1", "M2", "M3", "M4")] == [
        "EPSG:4326",
        "GCJ-02",
        "BD-09",
        "EPSG:4326",
    ]
    assert [b["line"] for b in p["bad"]] == ["line 6"] and "火星坐标" in p["bad"][0]["reason"]
    # rows of one sheet within 30 m of each other are flagged against the earlier row
    assert rows["M1"]["likely_duplicates"] == []
    assert [d["label"] for d in rows["M2"]["likely_duplicates"]] == ["line 2"]
    # the whole sheet in GCJ-02, said at upload: the same assignment
    only_gcj = sheet([f"G1,R,垃圾落地,a,1,2026-11-01 09:30,{gx},{gy}"])
    g = upload(client, only_gcj, crs="gcj02").get_json()["rows"][0]
    assert g["area_id"] == area["area_id"] and g["source_crs"] == "GCJ-02"
    r = client.post(p["confirm"], json={"skip_bad": True})
    assert r.get_json()["imported"] == 4
    stored = {q["problem_id"]: q for q in store.problems({"round": "R"})}
    assert stored["M3"]["source_crs"] == "BD-09" and stored["M3"]["source_x"] == pytest.approx(bx)


def test_duplicates_against_open_problems_in_the_store(client, store):
    _, x, y = inside_point(store, kind="back_alley")
    first = client.post(
        "/api/problems", json={"lon": x, "lat": y, "category": "litter", "round": "R"}
    ).get_json()
    content = sheet(
        [
            f"D1,R,垃圾落地,near,1,2026-11-01 09:30,{x},{y + 10 / 111195}",
            f"D2,R,闯红灯,other category,1,2026-11-01 09:30,{x},{y}",
        ]
    )
    rows = {r["problem_id"]: r for r in upload(client, content).get_json()["rows"]}
    dup = rows["D1"]["likely_duplicates"]
    assert [d["id"] for d in dup] == [first["problem"]["id"]] and dup[0]["kind"] == "problem"
    assert rows["D2"]["likely_duplicates"] == []


def test_xlsx_sheet(client, store, tmp_path):
    import pandas as pd

    _, x, y = inside_point(store)
    frame = pd.DataFrame(
        [["X1", "R", "litter", "d", 2, "2026-11-01 09:30", x, y]],
        columns=["编号", "检查轮次", "问题类别", "问题描述", "扣分", "上报时间", "经度", "纬度"],
    )
    path = tmp_path / "s.xlsx"
    frame.to_excel(path, index=False)
    p = upload(client, path.read_bytes(), name="检查表.xlsx").get_json()
    assert p["summary"]["new"] == 1 and p["rows"][0]["assigned"] and p["filename"] == "检查表.xlsx"


@pytest.mark.parametrize(
    ("content", "name", "crs", "status", "words"),
    [
        (b"", "a.csv", None, 400, "empty"),
        (b"MZ\x90\x00", "a.exe", None, 415, "CSV"),
        (b"lon,lat\n1,2\n", "a.csv", "mars", 400, "mars"),
        (b"a,b\n1,2\n", "a.csv", None, 400, "longitude"),
        (b"\x00\x01\x02", "a.xlsx", None, 400, "a.xlsx"),
    ],
)
def test_bad_uploads(client, store, content, name, crs, status, words):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the English refusal texts
    before = store.count_problems()
    r = upload(client, content, name=name, crs=crs)
    assert r.status_code == status, r.get_json()
    assert words in r.get_json()["message"]
    assert store.count_problems() == before


def test_bad_tokens(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the English refusal texts
    assert client.post("/api/imports/../../etc", json={}).status_code == 404
    r = client.post("/api/imports/short", json={})
    assert r.status_code == 400
    r = client.post("/api/imports/" + "a" * 24, json={})
    assert r.status_code == 409 and "upload" in r.get_json()["message"]
    assert client.post("/api/imports", data={}).status_code == 400


def test_oversized_upload(demo_url, tmp_path):
    app = make_app(demo_url, UPLOAD_DIR=str(tmp_path), MAX_UPLOAD_MB=1)
    try:
        body, content_type = multipart("file", "big.csv", b"lon,lat\n" + b"1,2\n" * 300_000)
        r = sign_in(app.test_client(), "admin").post(
            "/api/imports", data=body, content_type=content_type
        )
        assert r.status_code == 413 and r.get_json()["error"]
        assert not (tmp_path / "imports").exists() or not any((tmp_path / "imports").iterdir())
    finally:
        app.extensions["geoapp.store"].close()


def test_import_page_renders(client):
    r = client.get("/import")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "导入检查表" in text or "Import" in text
    assert "import.js" in text


def test_xlsx_preview_speaks_the_readers_language(client, store, tmp_path):
    """An XLSX sheet's rows are "row N" (not "line N"): their place and every bad row's reason
    come in the reader's language, for the preview table and its duplicates column."""
    import pandas as pd

    _, x, y = inside_point(store)
    frame = pd.DataFrame(
        [
            ["X1", "R", "litter", "d", 2, "2026-11-01 09:30", x, y],
            ["X2", "R", "litter", "d", 2, "2026-11-01 09:31", x, y],
            ["X3", "R", "no such category", "d", 2, "2026-11-01 09:30", x, y],
        ],
        columns=["编号", "检查轮次", "问题类别", "问题描述", "扣分", "上报时间", "经度", "纬度"],
    )
    path = tmp_path / "s.xlsx"
    frame.to_excel(path, index=False)
    zh = upload(client, path.read_bytes(), name="s.xlsx").get_json()
    # as Excel numbers them (the header is row 1): rows 2 and 3 are read, row 4 is bad
    assert [r["line_text"] for r in zh["rows"]] == ["第 2 行", "第 3 行"]
    assert [(b["line"], b["line_text"]) for b in zh["bad"]] == [("row 4", "第 4 行")]
    assert zh["bad"][0]["reason_text"] == "未知的问题类别 'no such category'"
    assert zh["rows"][1]["likely_duplicates"][0]["label_text"] == "第 2 行"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    en = upload(client, path.read_bytes(), name="s.xlsx").get_json()
    assert [b["line_text"] for b in en["bad"]] == ["row 4"]
    assert en["bad"][0]["reason_text"] == "unknown category 'no such category'"
