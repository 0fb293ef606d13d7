"""Commands that load and change the data: ``init-db``, ``load-demo``, ``import-areas``,
``import-problems`` (dry run unless ``--commit``) and ``assign`` (points of a file to their
units, also with the dask engine).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from geoapp.cli.common import expected_errors, fail, get_store, login_name
from geoapp.core.messages import N_
from geoapp.services import errors


@click.command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Create the database or upgrade its schema to the latest migration (= db upgrade)."""
    _upgrade(ctx)


def _upgrade(ctx: click.Context) -> None:
    from geoapp.store import safe_url

    store = get_store(ctx, upgrade=True)
    click.echo(f"database ready: {safe_url(store.url)} at schema revision {store.revision()}")


@click.group("db")
def db() -> None:
    """The database's schema: upgrade it (a deploy step), show its revision."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the schema to this code's revision; stop the app servers' old version first.

    Safe to run twice at once (the second waits, then finds nothing to do); app servers
    never migrate and refuse to start on an older schema."""
    _upgrade(ctx)


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the database's schema revision and the one this code needs."""
    from geoapp.store import open_store

    try:
        with open_store(ctx.find_root().obj.get("database_url")) as store:
            current, head = store.revision(), store.head_revision()
    except expected_errors() as exc:
        fail(exc)
    click.echo(f"database: {current or '(empty)'}\ncode:     {head}")
    if current != head:
        sys.exit(1)


def _demo_dir() -> Path:
    from geoapp.services.county import DEMO_DIR

    return DEMO_DIR


@click.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already has data.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=_demo_dir,
    show_default="the demo county in data/geojson",
    help="County folder to load.",
)
@click.pass_context
def load_demo(ctx: click.Context, if_empty: bool, data_dir: Path) -> None:
    """Load the synthetic demo county (units, districts, areas, rules, problems)."""
    from geoapp.services import county

    store = get_store(ctx)
    if not store.is_empty():
        if if_empty:
            click.echo("the store already holds data; demo not loaded")
            return
        fail(
            errors.ServiceError(
                N_(
                    "the store already holds data; load the demo into an empty database (see GEOAPP_DATABASE_URL)"
                )
            )
        )
    try:
        summary = county.load_county(store, data_dir)
    except expected_errors() as exc:
        fail(exc)
    click.echo("loaded: " + ", ".join(f"{k} {v}" for k, v in summary.items()))


@click.command("import-areas")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Publish the boundary set (default: only report).")
@click.option("--message", "-m", default=None, help="Why the boundaries change.")
@click.option("--author", default=None, help="Who publishes (default: the login name).")
@click.pass_context
def import_areas(ctx, path: Path, commit: bool, message: str | None, author: str | None) -> None:
    """Validate a boundary set (GeoJSON, GeoPackage, zipped Shapefile; any CRS).

    With --commit it becomes a new published generation and open problems are re-assigned.
    """
    from geoapp.services import boundary_import

    store = get_store(ctx)
    try:
        plan = boundary_import.plan_area_import(store, path)
    except expected_errors() as exc:
        fail(exc)
    for finding in plan.findings:
        click.echo(str(finding))
    changed = plan.changes
    for row in changed.head(50).itertuples(index=False):
        click.echo(f"  {row.area_id}: {row.change}")
    if len(changed) > 50:
        click.echo(f"  ... and {len(changed) - 50} more")
    click.echo(json.dumps(plan.summary(), ensure_ascii=False))
    if plan.errors:
        fail(
            errors.ServiceError(
                N_("%(count)s error(s); nothing was changed"), count=len(plan.errors)
            )
        )
    if not commit:
        click.echo("dry run: nothing changed (add --commit to publish)")
        return
    try:
        published = boundary_import.commit_area_import(
            store, plan, author or login_name(), message or f"import {path.name}"
        )
    except expected_errors() as exc:
        fail(exc)
    click.echo(
        f"published generation {published['id']}; "
        f"{published['reassigned']} open problem(s) re-assigned"
    )


@click.command("import-problems")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", default=None, help="Coordinates' CRS: wgs84, cgcs2000, gcj02, bd09, EPSG:n.")
@click.option("--commit", is_flag=True, help="Write the problems (default: only report).")
@click.option("--skip-bad", is_flag=True, help="With --commit: import the good rows anyway.")
@click.pass_context
def import_problems(ctx, path: Path, crs: str | None, commit: bool, skip_bad: bool) -> None:
    """Check an inspection file (GeoJSON, CSV in UTF-8 or GBK, XLSX) and import it.

    The file is read in batches (memory stays flat in its size); --commit writes it in one
    transaction, or nothing when it has bad rows and --skip-bad is not given."""
    from geoapp.services import problem_import

    store = get_store(ctx)
    try:
        if commit:
            plan = problem_import.import_problem_file(
                store, path, login_name(), crs, allow_bad=skip_bad
            )
        else:
            plan = problem_import.plan_problem_import(store, path, crs, keep_rows=False)
    except expected_errors() as exc:
        fail(exc)
    for bad in plan.bad:
        click.echo(f"bad row: {bad}")
    click.echo(json.dumps(plan.summary(), ensure_ascii=False))
    if not commit:
        click.echo("dry run: nothing changed (add --commit to import)")
        return
    if plan.imported is None:
        fail(problem_import.refuse_bad_rows(plan))
    click.echo(f"imported {plan.imported} problem(s)")


@click.command()
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
    from geoapp.services import assign_files, mapping

    try:
        if zones is not None:
            zoning = assign_files.zoning_from_folder(zones)
        else:
            zoning = mapping.zoning_for(get_store(ctx), generation)
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
    except expected_errors() as exc:
        fail(exc)
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


#: the commands this module adds to ``geoapp``
COMMANDS = (
    init_db,
    db,
    load_demo,
    import_areas,
    import_problems,
    assign,
)
