"""Commands about the ledger: ``export-ledger`` (the deduction ledger, 台账, as XLSX or CSV,
with the map's filters) and ``set-deadline`` (a category's rectification deadline).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from geoapp.cli.common import expected_errors, fail, get_store, login_name
from geoapp.core.messages import N_


@click.command("set-deadline")
@click.argument("category")
@click.argument("deadline")
@click.pass_context
def set_deadline(ctx, category: str, deadline: str) -> None:
    """Set a category's rectification deadline: 48h, 3d, 3天 (or "none")."""
    from geoapp.core.intake import ReportError
    from geoapp.services import deadlines

    store = get_store(ctx)
    try:
        row = deadlines.set_deadline(
            store,
            category,
            None if deadline.strip().lower() in ("none", "无") else deadline,
            actor=login_name(),
        )
    except (*expected_errors(), ReportError) as exc:
        fail(exc)
    hours = row["deadline_hours"]
    click.echo(f"{row['category']}: {'no deadline' if hours is None else f'{hours} h'}")


LEDGER_FILTERS = (
    ("round", "round", "Inspection round."),
    ("category", "category", "Problem category code."),
    ("status", "status", "Status code (reported, assigned, ...) or its Chinese label."),
    ("district", "district", "District id."),
    ("unit", "unit", "Responsible unit id."),
    ("from", "date_from", "First reported date, YYYY-MM-DD (Beijing), inclusive."),
    ("to", "date_to", "Last reported date, YYYY-MM-DD (Beijing), inclusive."),
)


def _ledger_options(command):
    for option, dest, text in reversed(LEDGER_FILTERS):
        multiple = dest not in ("date_from", "date_to")
        extra = " Repeat or separate with commas for several." if multiple else ""
        command = click.option(f"--{option}", dest, multiple=multiple, help=text + extra)(command)
    return command


@click.command("export-ledger")
@click.argument("output_path", metavar="OUTPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv"]),
    default=None,
    help="File format (default: from OUTPUT's suffix).",
)
@click.option(
    "--group",
    type=click.Choice(["unit", "district", "category", "round", "problems"]),
    default="unit",
    show_default=True,
    help="The table a CSV holds: a grouping or the problem list (an XLSX holds every "
    "grouping and the problems).",
)
@_ledger_options
@click.pass_context
def export_ledger(ctx, output_path: Path, fmt: str | None, group: str, **filters) -> None:
    """Write the deduction ledger (台账) of the filtered problems to OUTPUT.

    XLSX: one sheet per unit, district and category, one of the problems, one of the
    filters.  CSV (UTF-8 with BOM): the one table --group names.  Filters are the map's.
    Written as read, in flat memory, to a temporary file renamed at the end.
    """
    from geoapp.core.model import status_code
    from geoapp.services import ledger as services_ledger
    from geoapp.services import ledger_files as ledger_export
    from geoapp.services.query_params import BadParameter

    if fmt is None:
        fmt = output_path.suffix.lower().lstrip(".")
        if fmt not in ("xlsx", "csv"):
            fail(
                BadParameter("format", N_("give --format xlsx or csv (OUTPUT has no such suffix)"))
            )
    args: dict[str, list[str]] = {}
    for _, dest, _ in LEDGER_FILTERS:
        value = filters.get(dest)
        values = [value] if isinstance(value, str) else list(value or ())
        if dest == "status":
            values = [status_code(v) or v for part in values for v in part.split(",") if v.strip()]
        if values:
            args[dest] = values
    store = get_store(ctx)
    try:
        led = services_ledger.build(store, args, "zh")
        tmp = output_path.with_name(f".{output_path.name}.part")
        try:
            with tmp.open("wb") as fh:
                if fmt == "xlsx":
                    ledger_export.write_xlsx(store, led, fh)
                else:
                    fh.writelines(ledger_export.iter_csv(store, led, group))
            os.replace(tmp, output_path)
        finally:
            tmp.unlink(missing_ok=True)
    except (*expected_errors(), BadParameter) as exc:
        fail(exc)
    click.echo(
        f"wrote {output_path}: {led.totals['problems']} problem(s), "
        f"{led.totals['deduction']:g} point(s)"
    )


#: the commands this module adds to ``geoapp``
COMMANDS = (
    export_ledger,
    set_deadline,
)
