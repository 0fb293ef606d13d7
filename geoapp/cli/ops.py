"""Commands for the people who run geoapp: ``check`` (is this server set up right?),
``backup DIR`` and ``restore DIR`` (the store and the photos together).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geoapp import config
from geoapp.cli.common import expected_errors, fail, get_store

TRANSLATIONS = config.REPO_ROOT / "geoapp" / "translations"
#: settings whose value ``check`` does not print
SECRET_SETTINGS = ("SECRET_KEY",)


def _shown(name: str, value: object) -> str:
    if value in (None, ""):
        return "(unset)"
    if name in SECRET_SETTINGS:
        return "(set, hidden)"
    if name == "DATABASE_URL":
        import sqlalchemy as sa

        try:
            return sa.make_url(str(value)).render_as_string(hide_password=True)
        except Exception:
            return "(not a URL)"
    return repr(value)


@click.command("check")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check this server's setup: every setting and where it comes from, the store, its
    schema, free disk space for photos, the tile folder, the compiled translations.
    Exits 1 with one line per problem."""
    from geoapp.services import health
    from geoapp.store import open_store

    click.echo("settings (value, from):")
    settings, problems = config.read_all()
    url = ctx.find_root().obj.get("database_url")
    if url:
        settings["DATABASE_URL"] = url
    sources = config.sources()
    for name in config.SETTINGS:
        click.echo(f"  GEOAPP_{name:<24} {_shown(name, settings[name]):<40} {sources[name]}")
    problems.extend(config.unknown())
    checks: list = []
    try:
        store = open_store(settings["DATABASE_URL"])
    except Exception as exc:
        checks.append(health.Check("store", False, str(exc)))
    else:
        with store:
            checks.extend(health.store_checks(store))
    upload_root = config.upload_root(settings)
    checks.append(health.writable_folder("uploads", upload_root))
    checks.append(health.free_space(upload_root))
    if settings["TILES_DIR"]:
        checks.append(health.tile_package(Path(settings["TILES_DIR"])))
    checks.extend(health.translations_compiled(TRANSLATIONS))
    click.echo("checks:")
    for c in checks:
        click.echo(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
        if not c.ok:
            problems.append(f"{c.name}: {c.detail}")
    if problems:
        click.echo(f"{len(problems)} problem(s):", err=True)
        for p in problems:
            click.echo(f"  - {p}", err=True)
        sys.exit(1)
    click.echo("all checks passed")


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, folder: Path) -> None:
    """Copy the store and the photos into FOLDER (new or empty); safe while the app serves."""
    from geoapp.services import backup as services_backup

    store = get_store(ctx, check_schema=False)
    try:
        manifest = services_backup.backup(store, config.upload_root(config.from_env()), folder)
    except expected_errors() as exc:
        fail(exc)
    click.echo(
        f"backed up {manifest['problems']} problems and {manifest['files']} files "
        f"(schema {manifest['revision']}) into {folder}"
    )


@click.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.pass_context
def restore(ctx: click.Context, folder: Path) -> None:
    """Restore a backup FOLDER into an empty store (and its photos); run `geoapp db upgrade`
    afterwards when the backup is from an older release."""
    from geoapp.services import backup as services_backup

    store = get_store(ctx, check_schema=False)
    try:
        manifest = services_backup.restore(store, config.upload_root(config.from_env()), folder)
    except expected_errors() as exc:
        fail(exc)
    click.echo(
        f"restored {manifest['problems']} problems and {manifest['files']} files "
        f"(schema {manifest['revision']}, backed up {manifest['created']})"
    )


#: the commands this module adds to ``geoapp``
COMMANDS = (check, backup, restore)
