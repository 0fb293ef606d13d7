"""Use case of a category's rectification deadline: change it (audited).

Parsing a duration ("48h", "3d", "3天") and the deadline of a problem are in
:mod:`geoapp.core.deadlines` (pure).
"""

from __future__ import annotations

from geoapp.core.deadlines import parse_duration_hours
from geoapp.core.intake import ReportError
from geoapp.core.messages import N_
from geoapp.core.workflow import check_action
from geoapp.services.audit import audit
from geoapp.services.intake import category_spellings


def set_deadline(
    store, category: str, text, *, role: str | None = None, actor: str | None = None
) -> dict:
    """Change a category's rectification deadline ("48h", "3d", "3天"; null: none), at most
    a year; the change is audited (before/after) in the same transaction."""
    check_action("set_deadline", role)
    if text is None:
        hours = None
    else:
        try:
            value = parse_duration_hours(text)
        except ValueError as exc:
            raise ReportError("deadline", N_("%(error)s"), error=exc) from None
        hours = round(value)
        if hours < 1 or abs(value - hours) > 1e-9:
            raise ReportError("deadline", N_("%(text)r: give whole hours (at least 1)"), text=text)
    code = category_spellings(store.list_categories()).get(str(category), category)
    with store.transaction() as tx:
        was = {c["category"]: c for c in tx.list_categories()}.get(code)
        row = tx.set_category_deadline(code, hours)
        if was is None or was["deadline_hours"] != row["deadline_hours"]:
            audit(
                tx,
                actor,
                "category.deadline",
                f"category:{row['category']}",
                {"deadline_hours": was["deadline_hours"] if was else None},
                {"deadline_hours": row["deadline_hours"]},
            )
    return row
