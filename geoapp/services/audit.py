"""The audit log: one function every write path calls, inside its own transaction.

    from geoapp.services.audit import audit

    with store.transaction() as tx:
        before = tx.get_problem(pk)
        after = tx.set_problem_status(pk, "rectified", actor)
        audit(tx, actor, "problem.status", f"problem:{pk}", before, after)

Because the entry is written by the same transaction as the change, a change that rolls back
leaves no entry, and an entry never exists without its change.  ``before``/``after`` are any
JSON-serialisable values (datetimes become ISO 8601 text); keep them small: the fields that
changed, counts, ids.  The admin page ``/audit`` shows the log.
"""

from __future__ import annotations

from typing import Any

#: The actions written by geoapp itself (merged code may add its own, dotted like these).
ACTIONS = (
    "areas.import",
    "draft.upload",
    "generation.publish",
    "problems.import",
    "problem.status",
    "category.deadline",
    "user.create",
    "token.create",
    "demo.load",
)


def audit(
    tx, actor: str | None, action: str, target: str | None, before: Any = None, after: Any = None
) -> int:
    """Record who (``actor``), what (``action`` on ``target``), before and after, now."""
    return tx.add_audit(actor, action, target, before, after)
