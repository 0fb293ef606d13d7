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
    # accounts, roles, security (issue 7)
    "Audit log": "审计日志",
    "Time": "时间",
    "Who": "操作人",
    "Action": "操作",
    "Target": "对象",
    "Before": "修改前",
    "After": "修改后",
    "Filter": "筛选",
    "Nothing recorded yet.": "暂无记录。",
    "Newer": "较新",
    "Older": "较早",
    "Sign out": "退出登录",
    "Sign in": "登录",
    "Name": "用户名",
    "Password": "密码",
    "Accounts": "账号",
    "Role": "角色",
    "Created": "创建时间",
    "My unit": "本单位",
    "Accounts and API tokens are created with the command line: geoapp create-user, geoapp create-token.": "账号和 API 令牌通过命令行创建：geoapp create-user、geoapp create-token。",
    "API tokens": "API 令牌",
    "Administrator": "管理员",
    "Coordinator": "创卫办协调员",
    "Planner": "规划员",
    "Inspector": "检查员",
    "Unit account": "责任单位账号",
    "Too many failed attempts; wait a few minutes and try again.": "失败次数过多，请几分钟后再试。",
    "Wrong name or password.": "用户名或密码错误。",
    "The API token is not valid.": "API 令牌无效。",
    "Please sign in.": "请先登录。",
    "Your role may not do this.": "您的角色无权执行此操作。",
    "This belongs to another unit.": "这属于其他单位。",
    "The form has expired or did not come from this site; reload the page.": "表单已过期或并非来自本站，请刷新页面。",
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
