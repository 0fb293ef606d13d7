"""Commands of inspection coverage: ``import-points`` (a register of inspection points, dry
run unless ``--commit``)."""

from __future__ import annotations

from pathlib import Path

import click

from geoapp.cli.common import checked_import, get_store


@click.command("import-points")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crs", default=None, help="Coordinates' CRS: wgs84, cgcs2000, gcj02, bd09, EPSG:n.")
@click.option("--commit", is_flag=True, help="Register the points (default: only report).")
@click.option("--skip-bad", is_flag=True, help="With --commit: import the good rows anyway.")
@click.pass_context
def import_points(ctx, path: Path, crs: str | None, commit: bool, skip_bad: bool) -> None:
    """Check a register of inspection points (GeoJSON, CSV in UTF-8 or GBK, XLSX) and
    import it."""
    from geoapp.services import point_import

    count = checked_import(
        get_store(ctx),
        lambda store: point_import.plan_point_import(store, path, crs),
        point_import.commit_point_import,
        commit,
        skip_bad,
    )
    if count is not None:
        click.echo(f"registered {count} inspection point(s)")


COMMANDS = (import_points,)
