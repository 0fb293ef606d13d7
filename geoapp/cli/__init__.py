"""The ``geoapp`` command line.

Commands that change data print what they would do and change nothing unless given
``--commit``. Errors print one clear message (with line or feature numbers) and exit 2.

May import: ``geoapp.core``, ``geoapp.io``, ``geoapp.services``, the store's interface
``geoapp.store`` and ``geoapp.create_app``; never the web layer's modules.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

import click

from geoapp.core.crs import CRSError
from geoapp.core.messages import N_
from geoapp.io.errors import InputError
from geoapp.services import assign_files, boundary_import, county, errors, mapping, problem_import


def _store(ctx: click.Context):
    from geoapp.store import open_store

    obj = ctx.ensure_object(dict)
    if "store" not in obj:
        try:
            store = open_store(obj.get("database_url"))
            store.upgrade()
        except Exception as exc:  # StoreError and friends: say it, no traceback
            raise click.ClickException(str(exc)) from None
        obj["store"] = store
        ctx.call_on_close(store.close)
    return obj["store"]


def _errors():
    from geoapp.store import StoreError

    return (InputError, CRSError, errors.ServiceError, StoreError, OSError)


def _fail(exc: Exception) -> None:
    text = exc.describe() if isinstance(exc, InputError) else str(exc)
    click.echo(f"error: {text}", err=True)
    sys.exit(2)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "cli"


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


@main.command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Create the database or upgrade its schema to the latest migration."""
    from geoapp.store import safe_url

    store = _store(ctx)
    click.echo(f"database ready: {safe_url(store.url)}")


@main.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already has data.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=county.DEMO_DIR,
    show_default=True,
    help="County folder to load.",
)
@click.pass_context
def load_demo(ctx: click.Context, if_empty: bool, data_dir: Path) -> None:
    """Load the synthetic demo county (units, districts, areas, rules, problems)."""
    store = _store(ctx)
    if not store.is_empty():
        if if_empty:
            click.echo("the store already holds data; demo not loaded")
            return
        _fail(
            errors.ServiceError(
                N_(
                    "the store already holds data; load the demo into an empty database (see GEOAPP_DATABASE_URL)"
                )
            )
        )
    try:
        summary = county.load_county(store, data_dir)
    except _errors() as exc:
        _fail(exc)
    click.echo("loaded: " + ", ".join(f"{k} {v}" for k, v in summary.items()))


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Serve with gunicorn and this many worker processes (production). "
    "Without it: Flask's development server, one process.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="With --workers: threads per worker process.",
)
@click.option("--debug", is_flag=True, help="Development server only: debugger and tracebacks.")
@click.option(
    "--demo",
    is_flag=True,
    help="Demo mode: (re)create one account per role with fresh passwords and print them. "
    "Loopback addresses only.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    debug: bool,
    demo: bool,
) -> None:
    """Serve the web app (gunicorn with --workers N, else the development server)."""
    from geoapp import create_app
    from geoapp.services import accounts as services_accounts
    from geoapp.store import safe_url

    if demo and not is_loopback(host):
        _fail(
            errors.ServiceError(
                N_("--demo serves known accounts: only on a loopback address, not %(host)r"),
                host=host,
            )
        )
    if debug and workers is not None:
        _fail(errors.ServiceError(N_("--debug is for the development server; drop --workers")))
    url = ctx.obj.get("database_url")
    app = store = None
    if workers is None:
        app = create_app({"DATABASE_URL": url} if url else None)
        store = app.extensions["geoapp.store"]
    else:
        store = _store(ctx)  # migrate once, here, before any worker starts
    if demo:
        try:
            accounts = services_accounts.seed_demo_accounts(store)
        except _errors() as exc:
            _fail(exc)
        click.echo("demo accounts (this start only; passwords change at every start):")
        for a in accounts:
            unit = f"  unit {a['unit_id']}" if a["unit_id"] else ""
            click.echo(f"  {a['role']:<12} name {a['name']:<12} password {a['password']}{unit}")
    if app is not None:
        click.echo(f"geoapp on http://{host}:{port}/  (store: {safe_url(store.url)})")
        app.run(host=host, port=port, debug=debug, use_reloader=False)
        return
    from geoapp.wsgi import serve_gunicorn

    click.echo(
        f"geoapp on http://{host}:{port}/  with gunicorn, {workers} worker(s) × {threads} "
        f"thread(s)  (store: {safe_url(store.url)})"
    )
    database_url = store.url.render_as_string(hide_password=False)
    store.close()
    serve_gunicorn(database_url, host, port, workers, threads)


def _read_password() -> str:
    """The password from standard input: prompted (hidden, twice) on a terminal, else the
    first line."""
    if sys.stdin.isatty():
        return click.prompt("password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@main.command("create-user")
@click.argument("name")
@click.option("--role", required=True, help="admin, coordinator, planner, inspector or unit.")
@click.option("--unit", "unit_id", default=None, help="The unit a unit account speaks for.")
@click.pass_context
def create_user(ctx, name: str, role: str, unit_id: str | None) -> None:
    """Create a person's account; the password is read from standard input."""
    from geoapp.core.accounts import AccountError
    from geoapp.services import accounts as services_accounts

    store = _store(ctx)
    password = _read_password()
    try:
        user = services_accounts.create_user(store, name, password, role, unit_id, actor=_user())
    except (AccountError, *_errors()) as exc:
        _fail(exc)
    unit = f", unit {user['unit_id']}" if user["unit_id"] else ""
    click.echo(f"created user {user['name']} (role {user['role']}{unit})")


@main.command("set-password")
@click.argument("name")
@click.pass_context
def set_password(ctx, name: str) -> None:
    """Give a person's account a new password (read from standard input); every session of
    the account ends (its cookies no longer sign anyone in)."""
    from geoapp.core.accounts import AccountError
    from geoapp.services import accounts as services_accounts

    store = _store(ctx)
    password = _read_password()
    try:
        services_accounts.set_password(store, name, password, actor=_user())
    except (AccountError, *_errors()) as exc:
        _fail(exc)
    click.echo(f"password of user {name} changed; its sessions have ended")


@main.command("create-token")
@click.argument("name")
@click.option("--role", required=True, help="The role the token acts with.")
@click.option("--unit", "unit_id", default=None, help="The unit, for a unit token.")
@click.pass_context
def create_token(ctx, name: str, role: str, unit_id: str | None) -> None:
    """Create an API token and print it (once: only its hash is stored).  Other systems
    send it as ``Authorization: Bearer TOKEN``."""
    from geoapp.core.accounts import AccountError
    from geoapp.services import accounts as services_accounts

    store = _store(ctx)
    try:
        token = services_accounts.create_token(store, name, role, unit_id, actor=_user())
    except (AccountError, *_errors()) as exc:
        _fail(exc)
    click.echo(token)


def _set_active(ctx, kind: str, name: str, active: bool, done: str) -> None:
    from geoapp.services import accounts as services_accounts

    store = _store(ctx)
    try:
        before = services_accounts.set_active(store, kind, name, active, actor=_user())
    except _errors() as exc:
        _fail(exc)
    was = "" if bool(before["active"]) != active else " (it already was)"
    click.echo(f"{kind} {name} {done}{was}")


@main.command("deactivate-user")
@click.argument("name")
@click.pass_context
def deactivate_user(ctx, name: str) -> None:
    """Switch a person's account off: no more sign-ins, and every session of it ends (a
    copied cookie too; switching it back on does not revive them).  The account and its history stay; activate-user switches it back on."""
    _set_active(ctx, "user", name, False, "deactivated")


@main.command("activate-user")
@click.argument("name")
@click.pass_context
def activate_user(ctx, name: str) -> None:
    """Switch a deactivated account back on."""
    _set_active(ctx, "user", name, True, "activated")


@main.command("revoke-token")
@click.argument("name")
@click.pass_context
def revoke_token(ctx, name: str) -> None:
    """Revoke an API token (by the name it was created with): requests carrying it get 401."""
    _set_active(ctx, "token", name, False, "revoked")


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", default=None, help="Coordinates' CRS: wgs84, cgcs2000, gcj02, bd09, EPSG:n.")
@click.option(
    "--zones",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A county folder (areas.geojson, districts.csv, rules.csv) instead of the store.",
)
@click.option("--generation", type=int, default=None, help="Boundary generation (default current).")
@click.option("--category-column", default=None, help="Column holding the problem category.")
@click.option(
    "--engine",
    type=click.Choice(["default", "dask"]),
    default="default",
    show_default=True,
    help="dask: GeoParquet of any size on a dask.distributed cluster.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="With --engine dask: a dask scheduler (tcp://host:8786); default a LocalCluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=2,
    show_default=True,
    help="With --engine dask and no --scheduler: worker processes of the LocalCluster.",
)
@click.pass_context
def assign(
    ctx,
    input_path,
    output_path,
    crs,
    zones,
    generation,
    category_column,
    engine,
    scheduler,
    workers,
) -> None:
    """Assign every point of INPUT (GeoJSON, CSV, XLSX, GeoParquet) and write OUTPUT.

    OUTPUT holds the same rows with district_id, area_id, responsible_unit_id,
    lead_unit_id and rule added (empty when the point lies outside every area).
    """
    try:
        if zones is not None:
            zoning = assign_files.zoning_from_folder(zones)
        else:
            zoning = mapping.zoning_for(_store(ctx), generation)
        if engine == "dask":
            summary = _assign_dask(
                input_path, output_path, zoning, crs, category_column, scheduler, workers
            )
        else:
            if scheduler:
                raise errors.ServiceError(N_("--scheduler needs --engine dask"))
            summary = assign_files.assign_file(
                input_path, output_path, zoning, crs, category_column
            )
    except _errors() as exc:
        _fail(exc)
    click.echo(json.dumps(summary, ensure_ascii=False))


def _assign_dask(input_path, output_path, zoning, crs, category_column, scheduler, workers):
    from geoapp.services.batch import assign_parquet

    with click.progressbar(length=1, label="assigning", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        return assign_parquet(
            input_path,
            output_path,
            zoning,
            crs,
            category_column,
            scheduler=scheduler,
            workers=workers,
            on_partition=progress,
        )


@main.command("import-areas")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Publish the boundary set (default: only report).")
@click.option("--message", "-m", default=None, help="Why the boundaries change.")
@click.option("--author", default=None, help="Who publishes (default: the login name).")
@click.pass_context
def import_areas(ctx, path: Path, commit: bool, message: str | None, author: str | None) -> None:
    """Validate a boundary set (GeoJSON, GeoPackage, zipped Shapefile; any CRS).

    With --commit it becomes a new published generation and open problems are re-assigned.
    """
    store = _store(ctx)
    try:
        plan = boundary_import.plan_area_import(store, path)
    except _errors() as exc:
        _fail(exc)
    for finding in plan.findings:
        click.echo(str(finding))
    changed = plan.changes
    for row in changed.head(50).itertuples(index=False):
        click.echo(f"  {row.area_id}: {row.change}")
    if len(changed) > 50:
        click.echo(f"  ... and {len(changed) - 50} more")
    click.echo(json.dumps(plan.summary(), ensure_ascii=False))
    if plan.errors:
        _fail(
            errors.ServiceError(
                N_("%(count)s error(s); nothing was changed"), count=len(plan.errors)
            )
        )
    if not commit:
        click.echo("dry run: nothing changed (add --commit to publish)")
        return
    try:
        published = boundary_import.commit_area_import(
            store, plan, author or _user(), message or f"import {path.name}"
        )
    except _errors() as exc:
        _fail(exc)
    click.echo(
        f"published generation {published['id']}; "
        f"{published['reassigned']} open problem(s) re-assigned"
    )


@main.command("import-problems")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", default=None, help="Coordinates' CRS: wgs84, cgcs2000, gcj02, bd09, EPSG:n.")
@click.option("--commit", is_flag=True, help="Write the problems (default: only report).")
@click.option("--skip-bad", is_flag=True, help="With --commit: import the good rows anyway.")
@click.pass_context
def import_problems(ctx, path: Path, crs: str | None, commit: bool, skip_bad: bool) -> None:
    """Check an inspection file (GeoJSON, CSV in UTF-8 or GBK, XLSX) and import it."""
    store = _store(ctx)
    try:
        plan = problem_import.plan_problem_import(store, path, crs)
    except _errors() as exc:
        _fail(exc)
    for bad in plan.bad:
        click.echo(f"bad row: {bad}")
    click.echo(json.dumps(plan.summary(), ensure_ascii=False))
    if not commit:
        click.echo("dry run: nothing changed (add --commit to import)")
        return
    try:
        ids = problem_import.commit_problem_import(store, plan, _user(), allow_bad=skip_bad)
    except _errors() as exc:
        _fail(exc)
    click.echo(f"imported {len(ids)} problem(s)")


@main.command("set-deadline")
@click.argument("category")
@click.argument("deadline")
@click.pass_context
def set_deadline(ctx, category: str, deadline: str) -> None:
    """Set a category's rectification deadline: 48h, 3d, 3天 (or "none")."""
    from geoapp.core.intake import ReportError
    from geoapp.services import intake as services_intake

    store = _store(ctx)
    try:
        row = services_intake.set_deadline(
            store,
            category,
            None if deadline.strip().lower() in ("none", "无") else deadline,
            actor=_user(),
        )
    except (*_errors(), ReportError) as exc:
        _fail(exc)
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


@main.command("export-ledger")
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
    type=click.Choice(["unit", "district", "category"]),
    default="unit",
    show_default=True,
    help="The grouping a CSV holds (an XLSX holds every grouping and the problems).",
)
@_ledger_options
@click.pass_context
def export_ledger(ctx, output_path: Path, fmt: str | None, group: str, **filters) -> None:
    """Write the deduction ledger (台账) of the filtered problems to OUTPUT.

    XLSX: one sheet per unit, district and category, one of the problems, one of the
    filters.  CSV (UTF-8 with BOM): the one grouping --group names.  Filters are the map's.
    """
    from geoapp.core.model import status_code
    from geoapp.services import ledger as services_ledger
    from geoapp.services import ledger_files as ledger_export
    from geoapp.services.query_params import BadParameter

    if fmt is None:
        fmt = output_path.suffix.lower().lstrip(".")
        if fmt not in ("xlsx", "csv"):
            _fail(
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
    store = _store(ctx)
    try:
        led = services_ledger.build(store, args, "zh")
        data = (
            ledger_export.xlsx_bytes(led) if fmt == "xlsx" else ledger_export.csv_bytes(led, group)
        )
        tmp = output_path.with_name(f".{output_path.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, output_path)
    except (*_errors(), BadParameter) as exc:
        _fail(exc)
    click.echo(
        f"wrote {output_path}: {led.totals['problems']} problem(s), "
        f"{led.totals['deduction']:g} point(s)"
    )
