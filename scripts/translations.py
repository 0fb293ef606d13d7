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
    # boundary editor
    "Boundary editor": "边界编辑",
    "Generations": "边界版本",
    "Boundary generations": "边界版本历史",
    "Selected area": "选中的包干区",
    "Reassign": "改派",
    "Problem": "问题点",
    "Area": "包干区",
    "Areas": "包干区数",
    "Publish as a new boundary generation": "发布为新的边界版本",
    "Started": "创建时间",
    "Edit": "编辑",
    "Generation": "边界版本",
    "no unit": "无责任单位",
    "Changed areas": "变更的包干区",
    "Problems that change": "受影响的问题点",
    "Published generation": "已发布边界版本",
    "District falls apart": "片区不连通",
    "Area without a responsible unit": "包干区没有责任单位",
    "Unknown district": "未知片区",
    "removed": "删除",
    "unit or district": "单位或片区",
    "shape, unit or district": "形状、单位或片区",
    "Draft": "草稿",
    "Changes stay in this draft until it is published; the published boundaries do not change.": "修改只保存在本草稿中，发布前不影响已发布的边界。",
    "Undo": "撤销",
    "Redo": "重做",
    "Split area": "拆分包干区",
    "Draw new area": "绘制新包干区",
    "Publish…": "发布…",
    "Apply my change again on the current version": "在最新版本上重新应用我的修改",
    "Click an area to select it, then drag a corner: a border shared with a neighbour moves for both (corners snap).": "点击包干区选中，再拖动拐点：与相邻包干区共用的边界会同时移动（拐点自动吸附）。",
    "Neighbour": "相邻包干区",
    "Merge with neighbour": "与相邻包干区合并",
    "Delete (ground goes to neighbour)": "删除（范围并入相邻包干区）",
    "New area settings": "新包干区设置",
    "Name": "名称",
    "(choose)": "（请选择）",
    "Validation": "校验",
    "Impact preview": "影响预览",
    "Discard draft": "放弃草稿",
    "The draft has errors: fix them before publishing.": "草稿存在错误，修正后才能发布。",
    "What changed (message)": "变更说明",
    "I accept the warnings": "我接受这些警告",
    "Note on the warnings": "警告说明",
    "Cancel": "取消",
    "Publish": "发布",
    "Edits go into a draft boundary generation; nobody else sees them until the draft is published.": "编辑保存在边界草稿中，发布前其他人看不到。",
    "Start a draft from the current boundaries": "以当前边界新建草稿",
    "Or upload a whole boundary set (GeoJSON, GeoPackage, zipped Shapefile; any CRS)": "或上传整套边界（GeoJSON、GeoPackage、Shapefile 压缩包；任意坐标系）",
    "Upload as a draft": "上传为草稿",
    "Open drafts": "未发布的草稿",
    "Author": "作者",
    "Message": "说明",
    "Version": "版本号",
    "No open drafts.": "暂无草稿。",
    "Compare": "对比",
    "with": "与",
    "draft": "草稿",
    "Change": "变更",
    "Published": "发布时间",
    "By": "发布人",
    "current": "当前",
    "published": "已发布",
    "View": "查看",
    "Roll back": "回滚",
    "version": "版本",
    "Saving…": "正在保存…",
    "Saved": "已保存",
    "current version": "当前版本",
    "Errors": "错误",
    "Warnings": "警告",
    "closed: keeps its assignment": "已办结：保持原分配",
    "Click an area first": "请先点击选择包干区",
    "Draw a line across the selected area; double-click to finish": "画一条穿过选中包干区的线，再次点击最后一点结束",
    "Draw the new area into the gap; click the first point to finish": "在空隙中绘制新包干区，点击第一个点结束",
    "Throw this draft away?": "确定放弃此草稿？",
    "problems re-assigned": "个问题点已重新分配",
    "Rolled back: new generation": "已回滚，新边界版本",
    "Publish this generation's boundaries again as a new generation?": "将此版本的边界重新发布为新版本？",
    "Area without a shape": "包干区没有形状",
    "Invalid geometry": "几何无效",
    "Overlap": "重叠",
    "Gap inside the county": "县域内空隙",
    "Outside the county": "超出县域",
    "Sliver": "碎片",
    "Unknown unit": "未知单位",
    "added": "新增",
    "shape": "形状",
    "Someone else changed this draft (now version %(version)s): your change was not saved. The map shows the current draft; apply your change again if it still fits.": "草稿已被他人修改（当前版本 %(version)s），你的修改未保存。地图已显示最新草稿；如仍需要，请重新应用你的修改。",
    "Generation %(id)s is published; start a draft to change it.": "边界版本 %(id)s 已发布，请新建草稿后修改。",
}


def main() -> int:
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in catalog:
        if message.id and message.fuzzy and message.id in TABLE:
            message.string = ""  # a guess from `pybabel update`; TABLE knows better
            message.flags.discard("fuzzy")
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
