"""``geoapp serve``: the web app on Flask's development server or gunicorn, with demo
accounts on a loopback address only.
"""

from __future__ import annotations

import click

from geoapp.cli.common import expected_errors, fail, get_store
from geoapp.core.messages import N_
from geoapp.services import errors

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
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
        fail(
            errors.ServiceError(
                N_("--demo serves known accounts: only on a loopback address, not %(host)r"),
                host=host,
            )
        )
    if debug and workers is not None:
        fail(errors.ServiceError(N_("--debug is for the development server; drop --workers")))
    url = ctx.obj.get("database_url")
    app = store = None
    if workers is None:
        # caches warmed before serving: the first map load after the start as quick as the next
        overrides = {"WARM_CACHES": True} | ({"DATABASE_URL": url} if url else {})
        try:
            app = create_app(overrides)
        except expected_errors() as exc:  # e.g. the schema is behind: name the command
            fail(exc)
        store = app.extensions["geoapp.store"]
    else:
        # the schema checked once, here, before any worker starts (never migrated: a deploy
        # step, `geoapp db upgrade`); each worker checks again when it builds its app
        store = get_store(ctx)
    if demo:
        try:
            accounts = services_accounts.seed_demo_accounts(store)
        except expected_errors() as exc:
            fail(exc)
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


#: the commands this module adds to ``geoapp``
COMMANDS = (serve,)
