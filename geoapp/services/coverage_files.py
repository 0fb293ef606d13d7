"""Exports of inspection coverage: the inspected-point ledger (受检点台账: one row per visit,
with its problems and their deduction points) and the coverage table per unit, as XLSX
(both sheets and the filters) or CSV (one table, UTF-8 with a BOM), with the same filters
as the coverage page.  Cells are formula-safe (:mod:`geoapp.io.sheets`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from geoapp.io.sheets import csv_row
from geoapp.io.xlsx_stream import Table, write_tables
from geoapp.services.coverage_figures import Coverage
from geoapp.services.times import display_time

RESULT_ZH = {"clean": "达标", "problems": "有问题"}
STATUS_ZH = {
    "commended": "通报表扬",
    "ranked": "参与排名",
    "insufficient": "检查不足",
    "no_points": "无受检点",
}
VISIT_HEADERS = [
    "受检点编号",
    "受检点",
    "类型",
    "检查轮次",
    "检查时间",
    "检查人",
    "结果",
    "扣分",
    "问题点",
    "责任单位",
    "牵头单位",
    "照片",
]
UNIT_HEADERS = [
    "责任单位",
    "受检点",
    "已检查",
    "检查覆盖率",
    "达标",
    "达标率",
    "扣分",
    "每个受检点扣分",
    "逾期未整改",
    "包干区",
    "已巡查包干区",
    "巡查天数",
    "每个包干区巡查天数",
    "评定",
    "批评排名",
]


def visit_rows(store, cov: Coverage, kinds: dict[str, str]) -> list[list[Any]]:
    """One row per visit of the round to the points in the coverage's scope (the last
    column: the stored file name of the visit's photo, empty when none was sent)."""
    wanted = {p["point_pk"] for p in cov.points}
    units = {u["unit_id"]: u["name"] for u in store.list_units()}
    rows = [VISIT_HEADERS]
    visits = [v for v in store.visits(cov.round) if v["point_pk"] in wanted]
    found = store.problem_deductions(pk for v in visits for pk in v["problem_pks"])
    for v in visits:
        problems = [found[pk] for pk in v["problem_pks"] if pk in found]
        deduction = sum(points for _, points, duplicate in problems if not duplicate)
        rows.append(
            [
                v["point_id"],
                v["point_name"],
                kinds.get(v["kind"], v["kind"]),
                v["round"],
                display_time(v["visited_at"]),
                v["inspector"],
                RESULT_ZH.get(v["result"], v["result"]),
                deduction,
                "、".join(label for label, _, _ in problems),
                units.get(v["responsible_unit_id"], v["responsible_unit_id"]),
                units.get(v["lead_unit_id"], v["lead_unit_id"]),
                v["photo_name"],
            ]
        )
    return rows


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"


def unit_rows(cov: Coverage) -> list[list[Any]]:
    rows = [UNIT_HEADERS]
    for r in cov.by_unit:
        per = r["deduction_per_point"]
        days = r["patrol_days_per_area"]
        rows.append(
            [
                r["name"],
                r["registered"],
                r["inspected"],
                _rate(r["coverage"]),
                r["clean"],
                _rate(r["clean_rate"]),
                r["deduction"],
                None if per is None else round(per, 2),
                r["overdue"],
                r["areas"],
                r["areas_patrolled"],
                r["patrol_days"],
                None if days is None else round(days, 2),
                STATUS_ZH[r["status"]],
                r["criticism_rank"],
            ]
        )
    return rows


def filter_rows(cov: Coverage) -> list[list[Any]]:
    rows = [["条件", "取值"], ["检查轮次", cov.round or "（无检查记录）"]]
    labels = {"district": "片区", "unit": "责任单位", "kind": "受检点类型"}
    rows += [[labels[k], cov.filters[k]] for k in labels if cov.filters.get(k)]
    rows.append(["巡查期间", f"{cov.date_from} 至 {cov.date_to}"])
    rows.append(["表扬所需检查覆盖率", f"{cov.min_coverage * 100:.0f}%"])
    return rows


def xlsx_bytes(store, cov: Coverage, kinds: dict[str, str]) -> bytes:
    """Both tables and the filters as a workbook (:func:`geoapp.io.xlsx_stream.write_tables`)."""
    buf = io.BytesIO()
    write_tables(
        buf,
        [
            Table("受检点台账", visit_rows(store, cov, kinds)),
            Table("检查巡查覆盖", unit_rows(cov)),
            Table("筛选条件", filter_rows(cov)),
        ],
    )
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow(csv_row(row))
    return buf.getvalue().encode("utf-8-sig")
