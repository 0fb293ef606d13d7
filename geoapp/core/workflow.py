"""The rectification workflow of a problem point: which status may follow which, and who may
move it.  Pure: no Flask, no SQL.

::

    reported ──交办──▶ assigned ──▶ rectifying ──▶ rectified ──核查──▶ verified (closed)
        └──────────────────────────────▶┘   ▲            │                │
                                            └── reopen ──┴────────────────┘

A reopen (back to ``rectifying``) needs a note saying why.  Roles are those of the accounts
work: ``admin``, ``coordinator``, ``planner``, ``inspector``, ``unit``.  ``role=None`` means
"not checked" (no accounts yet): every transition the graph allows is allowed.  A ``unit``
acts only on problems it answers for (``actor_unit_id`` equal to the problem's responsible
unit).

>>> [t.target for t in allowed_transitions("rectifying", role="unit",
...     actor_unit_id="U08", problem_unit_id="U08")]
['rectified']
>>> check_transition("reported", "verified")
Traceback (most recent call last):
...
geoapp.core.workflow.TransitionRefused: a problem that is reported cannot become verified (allowed: assigned, rectifying)
"""

from __future__ import annotations

from dataclasses import dataclass

from geoapp.core.messages import N_, Explained, Term
from geoapp.core.model import STATUS_ALIASES, STATUSES

ROLES = ("admin", "coordinator", "planner", "inspector", "unit")
# Older rows may carry the store's generic default, "open": it means "just reported"
# (geoapp.core.model.STATUS_ALIASES).

_STAFF = frozenset({"admin", "coordinator"})


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str  # a short code, e.g. "assign", "reopen"
    roles: frozenset[str]
    note_required: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("reported", "assigned", "assign", _STAFF),
    Transition("reported", "rectifying", "start", _STAFF | {"unit"}),
    Transition("assigned", "rectifying", "start", _STAFF | {"unit"}),
    Transition("rectifying", "rectified", "rectify", _STAFF | {"unit"}),
    Transition("rectified", "verified", "verify", _STAFF | {"inspector"}),
    Transition("rectified", "rectifying", "reopen", _STAFF | {"inspector"}, note_required=True),
    Transition("verified", "rectifying", "reopen", _STAFF | {"inspector"}, note_required=True),
)

#: Other actions on a problem and the roles that may take them (a unit: its own problems).
ACTIONS: dict[str, frozenset[str]] = {
    "report": _STAFF | {"inspector"},
    "edit": _STAFF | {"inspector"},
    "link_duplicate": _STAFF | {"inspector"},
    "add_photo": _STAFF | {"inspector", "unit"},
    "set_deadline": _STAFF,
    "import": _STAFF | {"inspector"},
}


#: the readers' words for the statuses and actions named in refusals (messages.Term)
WORDS = (
    N_("status:reported"),
    N_("status:assigned"),
    N_("status:rectifying"),
    N_("status:rectified"),
    N_("status:verified"),
    N_("action:assign"),
    N_("action:start"),
    N_("action:rectify"),
    N_("action:verify"),
    N_("action:reopen"),
    N_("action:report"),
    N_("action:edit"),
    N_("action:link_duplicate"),
    N_("action:add_photo"),
    N_("action:set_deadline"),
    N_("action:import"),
)


class WorkflowError(Explained):
    """A change the workflow does not allow; the message says why."""


class TransitionRefused(WorkflowError):
    """The status graph (or a missing note) forbids this change (HTTP 409)."""


class NotPermitted(WorkflowError):
    """This role, or this unit, may not do this (HTTP 403)."""


def normalise_status(status: str | None) -> str:
    """A stored status as a workflow status ('open' → 'reported'); unknown → ValueError."""
    s = STATUS_ALIASES.get(str(status), str(status))
    if s not in STATUSES:
        raise TransitionRefused(
            N_("unknown status %(status)r (known: %(names)s)"),
            status=status,
            names=", ".join(STATUSES),
        )
    return s


def _check_role(
    roles: frozenset[str],
    role: str | None,
    actor_unit_id: str | None,
    problem_unit_id: str | None,
    what: str,
) -> None:
    if role is None:
        return
    if role not in ROLES:
        raise NotPermitted(N_("unknown role %(role)r"), role=role)
    if role not in roles:
        raise NotPermitted(
            N_("the role %(role)r may not %(what)s"), role=role, what=Term("action", what)
        )
    if role == "unit" and (actor_unit_id is None or actor_unit_id != problem_unit_id):
        raise NotPermitted(
            N_("a unit may %(what)s only for problems in its own areas"), what=Term("action", what)
        )


def _permitted(t: Transition, role, actor_unit_id, problem_unit_id) -> bool:
    try:
        _check_role(t.roles, role, actor_unit_id, problem_unit_id, t.action)
    except NotPermitted:
        return False
    return True


def allowed_transitions(
    status: str,
    role: str | None = None,
    actor_unit_id: str | None = None,
    problem_unit_id: str | None = None,
) -> list[Transition]:
    """The transitions this actor may make from ``status``, in graph order."""
    source = normalise_status(status)
    return [
        t
        for t in TRANSITIONS
        if t.source == source and _permitted(t, role, actor_unit_id, problem_unit_id)
    ]


def check_transition(
    status: str,
    target: str,
    role: str | None = None,
    actor_unit_id: str | None = None,
    problem_unit_id: str | None = None,
    note: str | None = None,
) -> Transition:
    """The transition from ``status`` to ``target`` if this actor may make it; raises
    :class:`TransitionRefused` (graph, missing note) or :class:`NotPermitted` (role, unit)."""
    source = normalise_status(status)
    if target not in STATUSES:
        raise TransitionRefused(
            N_("unknown status %(target)r (known: %(names)s)"),
            target=target,
            names=", ".join(STATUSES),
        )
    if target == source:
        raise TransitionRefused(
            N_("the problem is already %(target)s"), target=Term("status", target)
        )
    match = next((t for t in TRANSITIONS if t.source == source and t.target == target), None)
    if match is None:
        allowed = tuple(Term("status", t.target) for t in TRANSITIONS if t.source == source)
        raise TransitionRefused(
            N_("a problem that is %(source)s cannot become %(target)s (allowed: %(allowed)s)"),
            source=Term("status", source),
            target=Term("status", target),
            allowed=allowed or "none",
        )
    _check_role(match.roles, role, actor_unit_id, problem_unit_id, match.action)
    if match.note_required and not (note and note.strip()):
        raise TransitionRefused(
            N_("%(action)s: a note saying why is required"), action=Term("action", match.action)
        )
    return match


def check_action(
    action: str,
    role: str | None = None,
    actor_unit_id: str | None = None,
    problem_unit_id: str | None = None,
) -> None:
    """Raise :class:`NotPermitted` unless this actor may take ``action`` (see ACTIONS)."""
    roles = ACTIONS.get(action)
    if roles is None:
        raise ValueError(f"unknown action {action!r}")
    _check_role(roles, role, actor_unit_id, problem_unit_id, action)


def may_act(
    action: str,
    role: str | None,
    actor_unit_id: str | None = None,
    problem_unit_id: str | None = None,
) -> bool:
    """Whether :func:`check_action` lets this actor take ``action`` (pages show a control only
    when the same rule that judges its request lets it through)."""
    try:
        check_action(action, role, actor_unit_id, problem_unit_id)
    except NotPermitted:
        return False
    return True


def is_open(status: str | None) -> bool:
    """Still to be rectified (reported, assigned or rectifying)."""
    try:
        return normalise_status(status) in ("reported", "assigned", "rectifying")
    except TransitionRefused:
        return False
