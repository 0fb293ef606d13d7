"""Use cases of a problem's photos: keep an uploaded JPEG or PNG (its type sniffed from the
bytes, its metadata taken out) under the photo folder with a random name, and find a stored
photo's file again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from geoapp.core.intake import ReportError, sniff_image
from geoapp.core.messages import N_
from geoapp.core.workflow import check_action
from geoapp.io.photos import strip_metadata
from geoapp.services.errors import ServiceError
from geoapp.services.intake import TooLarge, UnsupportedType


def checked_image(data: bytes, max_bytes: int) -> tuple[bytes, str, str]:
    """A photo as it is kept: (its bytes without metadata, content type, extension).
    Refused when empty, larger than ``max_bytes`` or not a JPEG or PNG (sniffed from the
    bytes, never from a file name)."""
    if not data:
        raise ReportError("photo", N_("the file is empty"))
    if len(data) > max_bytes:
        raise TooLarge(N_("the photo is larger than %(value)s MiB"), value=max_bytes // 2**20)
    kind = sniff_image(data)
    if kind is None:
        raise UnsupportedType(N_("the file is not a JPEG or PNG image"))
    content_type, ext = kind
    return strip_metadata(data), content_type, ext


def write_photo(photo_dir: Path, data: bytes, ext: str) -> Path:
    """Write checked photo bytes under ``photo_dir`` with a random name (atomically)."""
    photo_dir = Path(photo_dir)
    photo_dir.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    target = photo_dir / name
    tmp = photo_dir / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def stored_file(photo_dir: Path, name: str) -> Path:
    """The file of a stored photo name (a bare random name, never a path)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ServiceError(N_("bad stored photo name"))
    return Path(photo_dir) / name


def add_photo(
    store,
    problem_pk: int,
    data: bytes,
    filename: str | None,
    photo_dir: Path,
    max_bytes: int,
    actor: str | None,
    *,
    role: str | None = None,
    actor_unit_id: str | None = None,
    stage: str | None = None,
    once: bool = False,
) -> dict:
    """Keep a JPEG or PNG photo of a problem under ``photo_dir`` with a random name; the
    type is sniffed from the bytes, never taken from the file's name, and the metadata (EXIF
    with the GPS position, camera, comments) is taken out (:func:`strip_metadata`).
    ``stage="after"`` marks a photo of the rectified place; ``once``: the same bytes sent
    again for the same problem (a retry) answer the photo already stored."""
    problem = store.get_problem(problem_pk)
    check_action("add_photo", role, actor_unit_id, problem["responsible_unit_id"])
    data, content_type, ext = checked_image(data, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if once and (kept := store.photo_by_content(problem["id"], digest)) is not None:
        return {"id": kept["id"], "content_type": kept["content_type"], "bytes": kept["size_bytes"]}
    target = write_photo(photo_dir, data, ext)
    name = target.name
    original = (filename or "")[:200] or None
    try:
        with store.transaction() as tx:
            photo_id = tx.add_photo(
                problem["id"],
                {
                    "stored_name": name,
                    "content_type": content_type,
                    "size_bytes": len(data),
                    "sha256": digest,
                    "original_name": original,
                },
                actor,
            )
            if stage is not None:
                tx.set_photo_stage(photo_id, stage)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return {"id": photo_id, "content_type": content_type, "bytes": len(data)}


def photo_file(store, photo_id: int, photo_dir: Path) -> tuple[Path, str]:
    """The file and content type of a stored photo."""
    photo = store.get_photo(photo_id)
    return stored_file(photo_dir, photo["stored_name"]), photo["content_type"]
