"""``geoapp backup DIR`` and ``geoapp restore DIR``: the store and the photos together.

A backup folder holds ``manifest.json`` (what, when, the schema revision, the counts), the
database's copy (:mod:`geoapp.store`'s ``backup_database``: SQLite's online backup or
``pg_dump``) and ``uploads/`` (photos and sheets awaiting confirmation).  Safe while the app
serves: the database is copied first, from one consistent snapshot, then the photos, so
every photo the copied rows name is in the folder (a photo is written before its row).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from geoapp.core.messages import N_
from geoapp.services.errors import ServiceError
from geoapp.store import Store, backup_database, restore_database

MANIFEST = "manifest.json"
UPLOADS = "uploads"
FORMAT = 1


def _files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def backup(store: Store, upload_root: Path, folder: Path) -> dict:
    """Copy the store and the upload folder into the new or empty ``folder``."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ServiceError(N_("%(folder)s is not empty: back up into a new folder"), folder=folder)
    folder.mkdir(parents=True, exist_ok=True)
    revision = store.revision()
    name = backup_database(store, folder)
    if upload_root.is_dir():
        shutil.copytree(upload_root, folder / UPLOADS)
    manifest = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": store.backend,
        "database": name,
        "revision": revision,
        "problems": store.count_problems(),
        "files": _files(folder / UPLOADS),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ServiceError(
            N_("%(folder)s holds no geoapp backup (no manifest.json)"), folder=folder
        ) from None
    if manifest.get("format") != FORMAT:
        raise ServiceError(N_("%(folder)s: unknown backup format"), folder=folder)
    return manifest


def restore(store: Store, upload_root: Path, folder: Path) -> dict:
    """Fill the empty store from ``folder`` and put the photos back under ``upload_root``."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    restore_database(store, folder, manifest["database"])
    if (folder / UPLOADS).is_dir():
        shutil.copytree(folder / UPLOADS, upload_root, dirs_exist_ok=True)
    return manifest
