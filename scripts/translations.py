"""Fill in Chinese translations: `python scripts/translations.py` after `pybabel update`.

The .po file stays the source of truth; this only fills empty entries from TABLE and lists
the msgids still missing, so none goes unnoticed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "geoapp/translations/zh/LC_MESSAGES/messages.po"

TABLE = {
    "Filters": "筛选",
    "All": "全部",
    "Inspection round": "检查轮次",
    "Category": "问题类别",
    "Status": "状态",
    "From": "起始日期",
    "To": "截止日期",
    "Apply": "应用",
    "Clear filters": "清除筛选",
    "several problems: click to zoom in": "多个问题点：点击放大",
    "lead unit's office": "牵头单位驻地",
    "Search an area or a unit": "搜索包干区或单位",
    "Problems": "问题点",
    "Deduction points": "扣分合计",
    "Open": "未办结",
    "Units": "单位",
    "Units in this district": "本片区责任单位",
    "Lead unit of": "牵头负责：",
    "none": "无",
    "Unit": "单位",
    "District labels": "片区名称",
    "Problem points": "问题点",
    "Reported": "上报时间",
    "Rule applied": "适用规则",
    "none (the area's unit)": "无（由包干区责任单位负责）",
    "Unit page": "单位页面",
    "Nothing found": "未找到",
    "Could not load the map data": "地图数据加载失败",
    "No unit with id %(id)s": "没有编号为 %(id)s 的单位",
    "No district with id %(id)s": "没有编号为 %(id)s 的片区",
    "This unit's office": "本单位驻地",
    # the ledger (台账)
    "No deduction points": "无扣分",
    "No problems": "无问题点",
    "Linked to an earlier problem: counted, but their points are not": "与先前问题重复：计入问题数，不重复扣分",
    "Duplicates": "其中重复",
    "Overdue": "超期未整改",
    "Closed": "已办结",
    "On time": "按期整改",
    "Late": "逾期整改",
    "On-time rate": "按期整改率",
    "Ledger": "台账",
    "Deduction ledger": "扣分台账",
    "Download": "下载",
    "Excel workbook (all tables and the problems)": "Excel 工作簿（全部统计表及问题清单）",
    "per unit": "按责任单位",
    "per district": "按片区",
    "per category": "按问题类别",
    "Downloads and printouts hold exactly the filtered problems.": "下载和打印的内容与当前筛选结果完全一致。",
    "Duplicates (problems linked to an earlier report) are counted as problems, but their deduction points are not added: the earlier problem carries them.": "重复问题（已关联到先前上报的问题）计入问题数，但不重复扣分：扣分记在先前的问题上。",
    "Overdue: open past the category's deadline. On time: rectified at or before the deadline; problems closed without a recorded rectification are left out of the rate.": "超期：未整改且已超过该类别的整改时限。按期：在时限内（含）整改；没有整改记录而直接办结的问题不计入按期整改率。",
    "Deduction points by unit": "各责任单位扣分",
    "points": "分",
    "New and closed problems by day": "每日新增与整改问题",
    "New": "新增",
    "Ranking for the circulated report": "通报排名",
    "Criticised (most deduction points)": "通报批评（扣分最多）",
    "%(n)s overdue": "超期 %(n)s 个",
    "Commended (fewest points)": "通报表扬（扣分最少）",
    "on time %(rate)s": "按期整改率 %(rate)s",
    "Rules: the three units with the most deduction points are criticised (ties included; never a unit with 0 points). Of the others, the three with the fewest points, then the fewest overdue, then the best on-time rate, are commended (ties included).": "规则：扣分最多的三个单位通报批评（并列者一并列入；零扣分的单位不列入）。其余单位中，扣分最少的三个（扣分相同时比超期数，再比按期整改率）通报表扬（并列者一并列入）。",
    "Per responsible unit": "按责任单位统计",
    "Rank": "排名",
    "Print": "打印",
    "criticised": "批评",
    "commended": "表扬",
    "Per district": "按片区统计",
    "Per category": "按问题类别统计",
    "Deadline (hours)": "整改时限（小时）",
    "Printed": "打印时间",
    "All problems": "全部问题",
    "No.": "编号",
    "Description": "问题描述",
    "Deadline": "整改期限",
    "overdue": "已超期",
    "duplicate of %(id)s": "与 %(id)s 重复",
    "Print the ledger": "打印台账",
    "As of %(time)s (Beijing time): overdue counts change with the clock.": "统计时间：%(time)s（北京时间）。超期数随时间变化。",
}


def main() -> int:
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in catalog:
        if message.id and not message.string:
            if message.id in TABLE:
                message.string = TABLE[message.id]
            else:
                missing.append(message.id)
    with open(PO, "wb") as fh:
        write_po(fh, catalog, omit_header=False)
    for m in missing:
        print(f"missing translation: {m!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
