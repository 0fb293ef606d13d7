"""The ``geoapp`` command line: the click group :func:`main`, with the commands of each
capability in its own module: ``data`` (init-db, load-demo, import-areas, import-problems,
assign), ``accounts`` (users, tokens, passwords), ``serve`` and ``ledger`` (export-ledger,
set-deadline); ``common`` holds what they share (the store, error printing).

Commands that change data print what they would do and change nothing unless given
``--commit``. Errors print one clear message (with line or feature numbers) and exit 2.

May import: ``geoapp.core``, ``geoapp.io``, ``geoapp.services``, the store's interface
``geoapp.store`` and ``geoapp.create_app``; never the web layer's modules.
"""

from __future__ import annotations

import click

from geoapp.cli import accounts, coverage, data, ledger, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    envvar="GEOAPP_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL of the store (default: a SQLite file under instance/).",
)
@click.version_option(package_name="geoapp")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """geoapp: responsibility zones, problem points and the deduction ledger."""
    ctx.ensure_object(dict)["database_url"] = database_url


for _module in (data, accounts, serve, ledger, coverage):
    for _command in _module.COMMANDS:
        main.add_command(_command)
