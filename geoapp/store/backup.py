"""The database's half of ``geoapp backup`` / ``geoapp restore``: a consistent copy taken
while the app serves, and its restore into an empty database.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page by
  page into ``store.sqlite``, consistent even while others write.
* PostGIS: ``pg_dump --format=custom`` (one snapshot: consistent while others write) into
  ``store.dump``; restored with ``pg_restore``.  The client programs are looked up on
  ``PATH`` and in Debian's ``/usr/lib/postgresql/<version>/bin``.  The password goes in the
  environment (``PGPASSWORD``), never on the command line.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store.engine import Store
from geoapp.store.errors import StoreError, safe_url

SQLITE_FILE = "store.sqlite"
PG_DUMP_FILE = "store.dump"


def pg_program(name: str) -> str | None:
    """``pg_dump`` / ``pg_restore``: on PATH, else the newest Debian install."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    return candidates[-1] if candidates else None


def _version_key(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _sqlite_path(store: Store) -> str:
    database = store.url.database or ""
    if not database or database == ":memory:":
        raise StoreError(N_("an in-memory SQLite database cannot be backed up"))
    return database


def _pg_args(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(store: Store, argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode:
        reason = (done.stderr or done.stdout).strip().splitlines()
        password = store.url.password
        text = "; ".join(reason[-3:]) if reason else f"exit status {done.returncode}"
        if password:
            text = text.replace(str(password), "***")
        raise StoreError(
            N_("%(program)s failed on %(safe_url)s: %(reason)s"),
            program=Path(argv[0]).name,
            safe_url=safe_url(store.url),
            reason=text,
        )


def backup_database(store: Store, folder: Path) -> str:
    """Copy the database into ``folder``; returns the file's name."""
    if store.backend == "sqlite":
        target = folder / SQLITE_FILE
        source = sqlite3.connect(_sqlite_path(store))
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
        return SQLITE_FILE
    program = pg_program("pg_dump")
    if program is None:
        raise StoreError(N_("pg_dump is not installed (apt-get install postgresql-client)"))
    args, env = _pg_args(store.url)
    target = folder / PG_DUMP_FILE
    _run(
        store,
        [
            program,
            *args,
            "--format=custom",
            "--no-owner",
            "--file",
            str(target),
            store.url.database or "",
        ],
        env,
    )
    return PG_DUMP_FILE


def restore_database(store: Store, folder: Path, name: str) -> None:
    """Fill the empty database of ``store`` from the copy ``name`` in ``folder``."""
    if store.revision() is not None:
        raise StoreError(
            N_("%(safe_url)s already holds a geoapp database: restore into an empty one"),
            safe_url=safe_url(store.url),
        )
    source = folder / name
    if name == SQLITE_FILE and store.backend == "sqlite":
        store.close()
        copy = sqlite3.connect(source)
        try:
            target = sqlite3.connect(_sqlite_path(store))
            try:
                copy.backup(target)
            finally:
                target.close()
        finally:
            copy.close()
        return
    if name == PG_DUMP_FILE and store.backend == "postgis":
        program = pg_program("pg_restore")
        if program is None:
            raise StoreError(N_("pg_restore is not installed (apt-get install postgresql-client)"))
        args, env = _pg_args(store.url)
        store.close()
        _run(
            store,
            [
                program,
                *args,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
                store.url.database or "",
                str(source),
            ],
            env,
        )
        return
    raise StoreError(
        N_("this backup holds a %(kind)s database; restore it into the same kind (%(here)s)"),
        kind="SQLite" if name == SQLITE_FILE else "PostGIS",
        here=safe_url(store.url),
    )
