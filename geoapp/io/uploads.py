"""Uploaded files: the type is read from the content (never from the name), the size is
bounded, and files kept on disk get a name the server chooses.

For merged upload routes (imports, photos)::

    from geoapp.io.uploads import sniff, save_upload
    data = request.files["file"].read(max_bytes + 1)      # MAX_CONTENT_LENGTH bounds it too
    kind = require_kind(data, {"png", "jpeg", "webp"}, request.files["file"].filename)
    path = save_upload(data, folder, kind)                  # e.g. 3f9c...e1.jpg

The readers in :mod:`geoapp.io` check that a file's content matches its suffix before
parsing it (:func:`check_content`), and open zipped Shapefiles only after
:func:`geoapp.io.files.safe_zip` has bounded their entries and their unpacked size.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from geoapp.core.messages import N_, Explained

#: kind → the file name suffix the server gives it
SUFFIXES = {
    "zip": ".zip",
    "sqlite": ".gpkg",
    "parquet": ".parquet",
    "json": ".geojson",
    "text": ".csv",
    "png": ".png",
    "jpeg": ".jpg",
    "webp": ".webp",
}
TEXT_SAMPLE = 8192


class UploadError(Explained, ValueError):
    """The upload is not what it claims to be, or is too large."""


def sniff(data: bytes) -> str:
    """What ``data`` is, judged by its first bytes: zip (also XLSX), sqlite (GeoPackage),
    parquet, png, jpeg, webp, json (a JSON object or array), text, or unknown (binary)."""
    head = data[:16]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    sample = data[:TEXT_SAMPLE]
    if b"\x00" in sample:
        return "unknown"
    stripped = sample.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped[:1] in (b"{", b"["):
        return "json"
    return "text"


def require_kind(data: bytes, allowed: set[str] | frozenset[str], name: str = "upload") -> str:
    """The sniffed kind of ``data``; UploadError unless it is one of ``allowed``."""
    kind = sniff(data)
    if kind not in allowed:
        raise UploadError(
            N_("%(name)s: the content is %(kind)s, not one of %(names)s"),
            name=name,
            kind=kind,
            names=", ".join(sorted(allowed)),
        )
    return kind


def save_upload(data: bytes, folder: Path, kind: str, max_bytes: int | None = None) -> Path:
    """Write ``data`` under ``folder`` with a random name and the suffix of ``kind``."""
    if max_bytes is not None and len(data) > max_bytes:
        raise UploadError(N_("the file is larger than %(max_bytes)s bytes"), max_bytes=max_bytes)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}{SUFFIXES.get(kind, '.bin')}"
    with open(path, "xb") as fh:  # never overwrite
        fh.write(data)
    return path
