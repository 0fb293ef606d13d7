"""The app behind a production WSGI server.

* ``geoapp serve --workers N`` runs gunicorn with N worker processes (:func:`serve_gunicorn`).
* Any other WSGI server: point it at ``geoapp.wsgi:app`` (settings from ``GEOAPP_*``), e.g.
  ``gunicorn -w 4 -k gthread --threads 4 'geoapp.wsgi:app'``.

Every worker builds its own app, store and connection pool after the fork (no connection
is shared between processes).  Nothing else is per-process state that matters: the caches
check the database's data version on every request (see :mod:`geoapp.services.reading` and
:func:`geoapp.services.mapping.zoning_for`), so any number of workers and servers can run side by
side on one PostgreSQL + PostGIS database.  Sessions need the same ``GEOAPP_SECRET_KEY``
everywhere: without one, ``geoapp serve --workers`` makes one random key for all its
workers.
"""

from __future__ import annotations

import os
import secrets


def create() -> object:
    from geoapp import create_app

    # caches warmed before this worker serves: the first map load as quick as the next
    return create_app({"WARM_CACHES": True})


def serve_gunicorn(database_url: str, host: str, port: int, workers: int, threads: int = 4) -> None:
    """Run gunicorn in this process (its master) until it is stopped (SIGTERM, Ctrl-C)."""
    from gunicorn.app.base import BaseApplication

    from geoapp import config, logging_setup

    # the workers inherit these: one database, one secret key for all of them
    os.environ["GEOAPP_DATABASE_URL"] = database_url
    os.environ.setdefault("GEOAPP_SECRET_KEY", secrets.token_hex(32))

    env = config.from_env()
    # the code every worker runs, imported once here, before gunicorn forks them: a worker
    # (at the start, or one started again after a crash) then only builds its own app, store
    # and connection pool instead of importing Flask, folium, pandas... itself, and the
    # workers share those pages of memory.  Importing opens nothing (no connection, no file).
    import geoapp.web.app  # noqa: F401

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 120,
                "graceful_timeout": 20,
                # the app writes one line per request (geoapp.request); gunicorn's own
                # messages go through the same handler, in the same format
                "accesslog": None,
                "logconfig_dict": logging_setup.gunicorn_logconfig(
                    env["LOG_LEVEL"], bool(env["LOG_JSON"])
                ),
                "preload_app": False,  # each worker opens its own connection pool
                "proc_name": "geoapp",
                "control_socket_disable": True,  # several servers may run on one machine
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create()

    Server().run()


def __getattr__(name: str):
    """``geoapp.wsgi:app`` for other WSGI servers, built on first access."""
    if name == "app":
        globals()["app"] = application = create()
        return application
    raise AttributeError(name)
