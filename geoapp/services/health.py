"""Is this server ready to serve?  The checks behind ``/readyz`` and ``geoapp check``: the
store answers, its schema is at the revision this code needs, the folders the app writes to
(photos and uploads) are writable, and the basemap's tile folder, when set, can be read.

Each check answers a :class:`Check`: a short name (the only thing ``/readyz`` shows: no
path, URL or error text leaves the server), whether it passed, and for the operator's eyes
(the log, ``geoapp check``) what was found.
"""

from __future__ import annotations

import os
import shutil
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


#: below this much free space in the photo folder, ``geoapp check`` reports a problem
MIN_FREE_MB = 500


def free_space(folder: Path, min_free_mb: int = MIN_FREE_MB) -> Check:
    """Free disk space where photos are written."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free / 1024 / 1024
    except OSError as exc:
        return Check("disk", False, f"{folder}: {exc.strerror or exc}")
    detail = f"{free:,.0f} MiB free for photos in {probe}"
    if free < min_free_mb:
        return Check("disk", False, f"{detail} (less than {min_free_mb} MiB)")
    return Check("disk", True, detail)


def tile_package(folder: Path) -> Check:
    """A tile folder holds ``z/x/y.<png|jpg|jpeg|webp>`` files."""
    check = readable_folder("tiles", folder)
    if not check.ok:
        return check
    zooms = sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    for z in zooms:
        for tile in (folder / str(z)).glob("*/*"):
            if tile.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
                return Check("tiles", True, f"{folder}: zoom levels {zooms[0]}-{zooms[-1]}")
    return Check("tiles", False, f"{folder} holds no z/x/y tile")


def translations_compiled(folder: Path) -> list[Check]:
    """Each catalogue (``<lang>/LC_MESSAGES/messages.po``) has a compiled ``.mo`` at least
    as new as itself."""
    out = []
    for po in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        mo = po.with_suffix(".mo")
        if not mo.exists():
            out.append(
                Check(f"translations:{lang}", False, f"{mo} is missing: run `make translations`")
            )
        elif mo.stat().st_mtime < po.stat().st_mtime:
            out.append(
                Check(
                    f"translations:{lang}",
                    False,
                    f"{mo} is older than {po.name}: run `make translations`",
                )
            )
        else:
            out.append(Check(f"translations:{lang}", True, f"{mo.name} compiled"))
    if not out:
        out.append(Check("translations", False, f"no catalogue under {folder}"))
    return out
