"""Vocabulary shared by every layer: statuses, kinds, and their Chinese labels.

Codes are English (see the glossary in the brief); labels are what county staff write.
"""

from __future__ import annotations

STATUSES = {
    "reported": "已上报",
    "assigned": "已交办",
    "rectifying": "整改中",
    "rectified": "已整改",
    "verified": "已核查销号",
}
OPEN_STATUSES = ("reported", "assigned", "rectifying")
#: How a map ranks what a dot holds, most urgent first: open problems past their deadline,
#: then the open statuses (the earliest stage first), any other status, then the closed
#: ones.  A cluster is drawn in the colour of its most urgent problem (its "worst"), with a
#: ring split by these classes, so one overdue problem among many closed ones shows.
URGENCY = ("overdue", "reported", "assigned", "rectifying", "other", "rectified", "verified")
#: Stored statuses read as another for the map ("open" is the store's default: reported).
STATUS_ALIASES = {"open": "reported"}


def urgency_class(status: str | None, overdue: bool) -> str:
    """The class of :data:`URGENCY` a problem falls in on the map."""
    if overdue:
        return "overdue"
    s = STATUS_ALIASES.get(str(status), str(status))
    return s if s in URGENCY else "other"


AREA_KINDS = {
    "main_road": "主次干道",
    "back_alley": "背街小巷",
    "compound_managed": "有物业小区",
    "compound_unmanaged": "无物业小区",
    "open_compound": "开放式小区",
    "urban_village": "城中村",
    "market": "农贸市场",
    "public_space": "公共空间",
    "unit_yard": "单位大院",
}

UNIT_KINDS = {
    "lead": "牵头单位",
    "responsible": "责任单位",
    "special_group": "专项工作小组",
    "company": "企业",
}

# column names accepted in inspectors' spreadsheets, Chinese or English → field
PROBLEM_COLUMNS = {
    "problem_id": ("problem_id", "id", "编号", "问题编号"),
    "round": ("round", "inspection_round", "轮次", "检查轮次"),
    "category": ("category", "类别", "问题类别", "问题类型"),
    "description": ("description", "desc", "描述", "问题描述"),
    "deduction": ("deduction", "points", "扣分", "扣分值"),
    "reported_at": ("reported_at", "time", "date", "上报时间", "时间", "检查时间"),
    "status": ("status", "状态"),
    "reporter": ("reporter", "inspector", "上报人", "检查人"),
    # when a problem that arrives rectified/verified was rectified (feeds the on-time rate)
    "rectified_at": ("rectified_at", "rectified_time", "整改完成时间", "整改时间", "办结时间"),
}


def status_code(text: str | None) -> str | None:
    """'已整改' or 'rectified' → 'rectified'; unknown → None; empty → 'reported'."""
    if text is None or not str(text).strip():
        return "reported"
    t = str(text).strip()
    if t in STATUSES:
        return t
    for code, label in STATUSES.items():
        if t == label:
            return code
    return None


#: The largest integer a column can hold on both backends: the tables' ``sa.Integer`` is
#: PostgreSQL's 32-bit INTEGER (SQLite's would take 64 bits).  Ids and counts in URLs, query
#: arguments and bodies are checked against it, so both backends answer alike.
DB_INT_MAX = 2**31 - 1
