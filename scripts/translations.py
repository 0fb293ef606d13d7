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
    "The database cannot be reached at the moment. Please try again shortly.": (
        "暂时无法连接数据库，请稍后再试。"
    ),
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
