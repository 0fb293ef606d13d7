"""What every command shares: the store of this run (opened once, its schema checked), the errors a
command reports as one line, printing them (exit status 2), and the login name recorded as
the actor.
"""

from __future__ import annotations

import getpass
import sys

import click

from geoapp.io.errors import InputError
from geoapp.services import errors


def get_store(ctx: click.Context, *, upgrade: bool = False, check_schema: bool = True):
    """The store of this run, opened on first use and closed when the command ends.

    Its schema must be the one this code needs (else the command stops, naming
    ``geoapp db upgrade``); only ``init-db`` and ``db upgrade`` pass ``upgrade=True`` and
    bring it there (a deploy step: one at a time per database, see ``Store.upgrade``)."""
    from geoapp.store import open_store

    obj = ctx.ensure_object(dict)
    if "store" not in obj:
        try:
            store = open_store(obj.get("database_url"))
            try:
                if upgrade:
                    store.upgrade()
                elif check_schema:  # backup and restore take any revision
                    store.require_head()
            except BaseException:
                store.close()
                raise
        except Exception as exc:  # StoreError and friends: say it, no traceback
            raise click.ClickException(str(exc)) from None
        obj["store"] = store
        ctx.call_on_close(store.close)
    return obj["store"]


def expected_errors():
    """The errors a command prints as one line (no traceback)."""
    from geoapp.core.crs import CRSError
    from geoapp.store import StoreError

    return (InputError, CRSError, errors.ServiceError, StoreError, OSError)


def fail(exc: Exception) -> None:
    """Print ``error: <what is wrong>`` on standard error and exit with status 2."""
    text = exc.describe() if isinstance(exc, InputError) else str(exc)
    click.echo(f"error: {text}", err=True)
    sys.exit(2)


def login_name() -> str:
    """Who runs the command (recorded as the actor), ``cli`` when the system cannot say."""
    try:
        return getpass.getuser()
    except Exception:
        return "cli"


def checked_import(store, plan_import, commit_import, commit: bool, skip_bad: bool) -> int | None:
    """The shape of every file import: ``plan_import(store)`` (a plan with ``bad`` rows and
    a ``summary()``), print its bad rows and summary; with ``commit``,
    ``commit_import(store, plan, actor, allow_bad=skip_bad)`` and return how many rows it
    wrote (None on a dry run).  Errors print one line and exit 2."""
    import json

    try:
        plan = plan_import(store)
    except expected_errors() as exc:
        fail(exc)
    for bad in plan.bad:
        click.echo(f"bad row: {bad}")
    click.echo(json.dumps(plan.summary(), ensure_ascii=False))
    if not commit:
        click.echo("dry run: nothing changed (add --commit to import)")
        return None
    try:
        return len(commit_import(store, plan, login_name(), allow_bad=skip_bad))
    except expected_errors() as exc:
        fail(exc)
    return None  # pragma: no cover - fail() exits
