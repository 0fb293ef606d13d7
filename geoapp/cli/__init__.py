"""The ``geoapp`` command line: the click group :func:`main`, with the commands of each
capability in its own module: ``data`` (init-db, load-demo, import-areas, import-problems,
assign), ``accounts`` (users, tokens, passwords), ``serve``, ``ledger`` (export-ledger,
set-deadline) and ``ops`` (check, backup, restore); ``common`` holds what they share (the
store, error printing).

Commands that change data print what they would do and change nothing unless given
``--commit``. Errors print one clear message (with line or feature numbers) and exit 2.

May import: ``geoapp.core``, ``geoapp.io``, ``geoapp.services``, the store's interface
``geoapp.store`` and ``geoapp.create_app``; never the web layer's modules.
"""

from __future__ import annotations

import click

from geoapp.cli import accounts, coverage, data, ledger, ops, serve


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
    from geoapp import config, logging_setup

    checking = ctx.invoked_subcommand == "check"  # which lists every problem itself
    try:  # every setting checked once, at start
        settings = config.from_env()
    except config.SettingError as exc:
        if not checking:
            raise click.ClickException(str(exc)) from None
        settings = {name: default for name, (default, _) in config.SETTINGS.items()}
    logging_setup.configure(settings["LOG_LEVEL"], bool(settings["LOG_JSON"]))
    for problem in [] if checking else config.unknown():
        click.echo(f"warning: {problem}", err=True)
    ctx.ensure_object(dict)["database_url"] = database_url


for _module in (data, accounts, serve, ledger, ops, coverage):
    for _command in _module.COMMANDS:
        main.add_command(_command)
