"""Admin pages: the audit log and the accounts (read-only; accounts are made with the CLI)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from geoapp.web.context import get_store

bp = Blueprint("admin", __name__)

AUDIT_PAGE_SIZE = 100


def role_label(role: str | None) -> str:
    labels = {
        "admin": _("Administrator"),
        "coordinator": _("Coordinator"),
        "planner": _("Planner"),
        "inspector": _("Inspector"),
        "unit": _("Unit account"),
    }
    return labels.get(role or "", role or "")


@bp.route("/audit")
def audit_page():
    """Every write: who, when, what, before and after; newest first, 100 a page."""
    store = get_store()
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))
    action = (request.args.get("action") or "").strip() or None
    entries = store.audit_entries(
        limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE, action=action
    )
    return render_template(
        "audit.html",
        entries=entries,
        page=page,
        action=action or "",
        more=len(entries) == AUDIT_PAGE_SIZE,
    )


@bp.route("/users")
def users_page():
    """The accounts and API tokens (without secrets)."""
    store = get_store()
    return render_template("users.html", users=store.list_users(), tokens=store.list_api_tokens())


@bp.app_context_processor
def inject_principal():
    from geoapp.web.actor import principal

    return {"principal": principal(), "role_label": role_label}
