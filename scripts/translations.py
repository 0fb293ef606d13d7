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
    # intake and workflow (issue 5)
    "Report a problem": "上报问题点",
    "Import a sheet": "导入检查表",
    "Import an inspection sheet": "导入检查表",
    "CSV (UTF-8 or GBK), XLSX or GeoJSON; columns such as 编号, 检查轮次, 问题类别, 问题描述, 扣分, "
    "上报时间, 经度, 纬度. Nothing is written until you confirm.": "CSV（UTF-8 或 GBK）、XLSX 或 "
    "GeoJSON；列名如 编号、检查轮次、问题类别、问题描述、扣分、上报时间、经度、纬度。确认之前不会写入任何数据。",
    "Coordinate system": "坐标系",
    "As the file says (a 坐标系 column), else WGS84": "按文件中的“坐标系”列，没有则为 WGS84",
    "Preview": "预览",
    "Bad rows": "有误的行",
    "Line": "行号",
    "New rows": "新增的行",
    "Likely duplicates": "疑似重复",
    "Skip the bad rows and import the rest": "跳过有误的行，导入其余各行",
    "Confirm the import": "确认导入",
    "Overdue": "已超期",
    "not counted: duplicate": "重复问题，不重复扣分",
    "Deadline": "整改时限",
    "Position": "位置",
    "Workflow": "办理流程",
    "No status change is open to you here.": "您在此无可办理的状态变更。",
    "Duplicates": "重复问题",
    "Duplicate of": "重复于",
    "Remove the link": "取消关联",
    "Likely duplicate of an open problem of the same category within 30 m": "30 米内有同类未办结问题点，疑似重复",
    "m": "米",
    "Link as duplicate": "关联为重复",
    "No likely duplicate.": "无疑似重复。",
    "Duplicated by": "被以下问题重复：",
    "Photos": "照片",
    "Photo": "照片",
    "No photo yet.": "暂无照片。",
    "Add photos (JPEG or PNG)": "添加照片（JPEG 或 PNG）",
    "Change position or category": "更正位置或类别",
    "Longitude": "经度",
    "Latitude": "纬度",
    "Save the change": "保存更正",
    "History": "办理记录",
    "Click the map to place the point, or type its coordinates": "点击地图定位，或输入坐标",
    "Show on the map": "在地图上显示",
    "— choose —": "— 请选择 —",
    "Photos (JPEG or PNG)": "照片（JPEG 或 PNG）",
    "Save": "保存",
    "Open the problem page": "查看问题点详情",
    "WGS84 (GPS, Tianditu)": "WGS84（GPS、天地图）",
    "GCJ-02 (AMap, Tencent)": "GCJ-02（高德、腾讯）",
    "BD-09 (Baidu)": "BD-09（百度）",
    "CGCS2000": "CGCS2000（国家大地坐标系）",
    "Saving…": "正在保存…",
    "Saved": "已保存",
    "photos attached": "已上传照片",
    "Unassigned (outside the county)": "未分配（县城范围外）",
    "row": "行",
    "Nothing has been imported yet: check the rows, then confirm.": "尚未导入：请核对各行后确认。",
    "Bad rows must be fixed, or skipped explicitly, before importing.": "导入前须修正有误的行，或明确选择跳过。",
    "%(new)s new rows (%(assigned)s assigned, %(unassigned)s outside the county), %(bad)s bad "
    "rows, %(stored)s already stored.": "新增 %(new)s 行（已分配 %(assigned)s 行，县城范围外 "
    "%(unassigned)s 行），有误 %(bad)s 行，已存在 %(stored)s 行。",
    "line %(n)s": "第 %(n)s 行",
    "feature %(n)s": "第 %(n)s 个要素",
    "Deduction (points)": "扣分",
    "Write a note saying why": "请填写说明原因",
    "Remove the duplicate link?": "取消重复关联？",
    "Assign to the unit": "交办责任单位",
    "Start rectifying": "开始整改",
    "Verify and close": "核查销号",
    "Assigned by location": "按位置分配",
    "Edited": "已更正",
    "Photo added": "上传照片",
    "Linked as duplicate": "关联为重复",
    "Duplicate link removed": "取消重复关联",
    "File": "文件",
    "Reason": "原因",
    "Id": "编号",
    "Problem": "问题点",
    "reported": "上报于",
    "Outside the county: no unit is responsible here; the problem is kept unassigned": "县城范围外：此处无责任单位，问题点保留为未分配",
    "reported in": "原坐标系",
    "Note": "说明",
    "Problem category": "问题类别",
    "Description": "问题描述",
    "Reporter": "上报人",
    "Assignment": "责任分配",
    "Report another": "继续上报",
    "Failed": "失败",
    "problem": "问题点",
    "Imported": "已导入",
    "No problem with id %(id)s": "没有编号为 %(id)s 的问题点",
    "Report rectified": "报告已整改",
    "Reopen": "重新整改",
    "Re-assigned": "重新分配",
    "Status changed": "状态变更",
    "Problem reported": "上报问题",
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
}


def main() -> int:
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in catalog:
        # a fuzzy entry is pybabel's guess from a similar msgid: never trust it
        if message.id and (not message.string or message.fuzzy):
            if message.id in TABLE:
                message.string = TABLE[message.id]
                message.flags.discard("fuzzy")
            else:
                missing.append(message.id)
    with open(PO, "wb") as fh:
        write_po(fh, catalog, omit_header=False)
    for m in missing:
        print(f"missing translation: {m!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
