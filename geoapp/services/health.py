"""Is this server ready to serve?  The checks behind ``/readyz`` and ``geoapp check``: the
store answers, its schema is at the revision this code needs, the folders the app writes to
(photos and uploads) are writable, and the basemap's tile folder, when set, can be read.

Each check answers a :class:`Check`: a short name (the only thing ``/readyz`` shows: no
path, URL or error text leaves the server), whether it passed, and for the operator's eyes
(the log, ``geoapp check``) what was found.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geoapp.store import Store, StoreError, safe_url


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def store_checks(store: Store) -> list[Check]:
    """``store``: the database answers; ``schema``: it is at the code's head revision."""
    where = safe_url(store.url)
    try:
        current = store.revision()
    except (StoreError, OSError) as exc:
        return [
            Check("store", False, f"{where}: {exc}"),
            Check("schema", False, "unknown: the store does not answer"),
        ]
    except Exception as exc:  # a driver error the store did not wrap: still "not ready"
        return [
            Check("store", False, f"{where}: {type(exc).__name__}: {exc}"),
            Check("schema", False, "unknown: the store does not answer"),
        ]
    head = store.head_revision()
    if current == head:
        schema = Check("schema", True, f"at {head}")
    else:
        schema = Check(
            "schema",
            False,
            f"at {current or 'nothing (empty database)'}, the code needs {head}: "
            "run `geoapp db upgrade`",
        )
    return [Check("store", True, where), schema]


def writable_folder(name: str, folder: Path) -> Check:
    """The app can create (if missing) ``folder`` and write a file in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".geoapp-probe-"):
            pass
    except OSError as exc:
        return Check(name, False, f"{folder} is not writable: {exc.strerror or exc}")
    return Check(name, True, f"{folder} is writable")


def readable_folder(name: str, folder: Path) -> Check:
    if not folder.is_dir():
        return Check(name, False, f"{folder} is not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        return Check(name, False, f"{folder} cannot be read")
    return Check(name, True, f"{folder} can be read")


def readiness(store: Store, upload_root: Path, tiles_dir: str | Path | None) -> list[Check]:
    """Every check ``/readyz`` runs, in a fixed order."""
    checks = store_checks(store)
    checks.append(writable_folder("uploads", upload_root))
    if tiles_dir:
        checks.append(readable_folder("tiles", Path(tiles_dir)))
    return checks
