"""Commands for accounts: people's accounts (``create-user``, ``set-password``,
``deactivate-user``, ``activate-user``) and API tokens (``create-token``, ``revoke-token``).
Passwords are read from standard input, never from the command line.
"""

from __future__ import annotations

import sys

import click

from geoapp.cli.common import expected_errors, fail, get_store, login_name


def _read_password() -> str:
    """The password from standard input: prompted (hidden, twice) on a terminal, else the
    first line."""
    if sys.stdin.isatty():
        return click.prompt("password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, help="admin, coordinator, planner, inspector or unit.")
@click.option("--unit", "unit_id", default=None, help="The unit a unit account speaks for.")
@click.pass_context
def create_user(ctx, name: str, role: str, unit_id: str | None) -> None:
    """Create a person's account; the password is read from standard input."""
    from geoapp.core.accounts import AccountError
    from geoapp.services import accounts as services_accounts

    store = get_store(ctx)
    password = _read_password()
    try:
        user = services_accounts.create_user(
            store, name, password, role, unit_id, actor=login_name()
        )
    except (AccountError, *expected_errors()) as exc:
        fail(exc)
    unit = f", unit {user['unit_id']}" if user["unit_id"] else ""
    click.echo(f"created user {user['name']} (role {user['role']}{unit})")


@click.command("set-password")
@click.argument("name")
@click.pass_context
def set_password(ctx, name: str) -> None:
    """Give a person's account a new password (read from standard input); every session of
    the account ends (its cookies no longer sign anyone in)."""
    from geoapp.core.accounts import AccountError
    from geoapp.services import accounts as services_accounts

    store = get_store(ctx)
    password = _read_password()
    try:
        services_accounts.set_password(store, name, password, actor=login_name())
    except (AccountError, *expected_errors()) as exc:
        fail(exc)
    click.echo(f"password of user {name} changed; its sessions have ended")


@click.command("create-token")
@click.argument("name")
@click.option("--role", required=True, help="The role the token acts with.")
@click.option("--unit", "unit_id", default=None, help="The unit, for a unit token.")
@click.pass_context
def create_token(ctx, name: str, role: str, unit_id: str | None) -> None:
    """Create an API token and print it (once: only its hash is stored).  Other systems
    send it as ``Authorization: Bearer TOKEN``."""
    from geoapp.core.accounts import AccountError
    from geoapp.services import accounts as services_accounts

    store = get_store(ctx)
    try:
        token = services_accounts.create_token(store, name, role, unit_id, actor=login_name())
    except (AccountError, *expected_errors()) as exc:
        fail(exc)
    click.echo(token)


def _set_active(ctx, kind: str, name: str, active: bool, done: str) -> None:
    from geoapp.services import accounts as services_accounts

    store = get_store(ctx)
    try:
        before = services_accounts.set_active(store, kind, name, active, actor=login_name())
    except expected_errors() as exc:
        fail(exc)
    was = "" if bool(before["active"]) != active else " (it already was)"
    click.echo(f"{kind} {name} {done}{was}")


@click.command("deactivate-user")
@click.argument("name")
@click.pass_context
def deactivate_user(ctx, name: str) -> None:
    """Switch a person's account off: no more sign-ins, and every session of it ends (a
    copied cookie too; switching it back on does not revive them).  The account and its history stay; activate-user switches it back on."""
    _set_active(ctx, "user", name, False, "deactivated")


@click.command("activate-user")
@click.argument("name")
@click.pass_context
def activate_user(ctx, name: str) -> None:
    """Switch a deactivated account back on."""
    _set_active(ctx, "user", name, True, "activated")


@click.command("revoke-token")
@click.argument("name")
@click.pass_context
def revoke_token(ctx, name: str) -> None:
    """Revoke an API token (by the name it was created with): requests carrying it get 401."""
    _set_active(ctx, "token", name, False, "revoked")


#: the commands this module adds to ``geoapp``
COMMANDS = (
    create_user,
    set_password,
    create_token,
    deactivate_user,
    activate_user,
    revoke_token,
)
