"""The audit log: who did what to which target, with the value before and after.

A mixin of :class:`geoapp.store.Transaction`.
"""

import json
from typing import Any

import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import StoreError
from geoapp.store.plumbing import TransactionBase, _json, _now


class AuditLog(TransactionBase):
    """Appending to and reading the audit log."""

    # ------------------------------------------------------------------ audit log

    def add_audit(
        self,
        actor: str | None,
        action: str,
        target: str | None,
        before: Any = None,
        after: Any = None,
    ) -> int:
        """Append one entry to the audit log (``before``/``after`` as JSON); returns its id."""
        action = V.convert(action, V.to_text, "audit", "action")
        if not action:
            raise StoreError(N_("audit: an action is required"))
        return self._x(
            sa.insert(S.audit_log)
            .values(
                at=_now(),
                actor=V.convert(actor, V.to_text, "audit", "actor"),
                action=action,
                target=V.convert(target, V.to_text, "audit", "target"),
                before=None if before is None else _json(before),
                after=None if after is None else _json(after),
            )
            .returning(S.audit_log.c.id)
        ).scalar_one()

    def audit_entries(
        self,
        limit: int = 100,
        offset: int = 0,
        action: str | None = None,
        target: str | None = None,
    ) -> list[dict[str, Any]]:
        """Audit entries, newest first (``before``/``after`` parsed from JSON)."""
        a = S.audit_log
        stmt = sa.select(a).order_by(a.c.id.desc()).limit(max(0, limit)).offset(max(0, offset))
        if action:
            stmt = stmt.where(a.c.action == action)
        if target is not None:
            stmt = stmt.where(a.c.target == target)
        rows = self._dicts(stmt)
        for row in rows:
            for key in ("before", "after"):
                if row[key] is not None:
                    row[key] = json.loads(row[key])
        return rows

    def count_audit(self) -> int:
        """How many entries the audit log holds."""
        return self._x(sa.select(sa.func.count()).select_from(S.audit_log)).scalar_one()
