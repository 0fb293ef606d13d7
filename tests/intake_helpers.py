"""Small helpers shared by the intake tests: real image bytes and known points."""

from __future__ import annotations

import struct
import zlib

import shapely


def png_bytes(width: int = 4, height: int = 3, rgb=(200, 30, 30)) -> bytes:
    """A valid PNG image (truecolour), built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg_like(size: int) -> bytes:
    """Bytes that start like a JPEG (SOI + APP0), ``size`` long."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    return head + b"\0" * (size - len(head))


def inside_point(store, area_id: str | None = None, kind: str | None = None):
    """(area record, lon, lat): a point well inside an area of the current generation."""
    areas = store.areas()
    if area_id is not None:
        areas = areas[areas["area_id"] == area_id]
    if kind is not None:
        areas = areas[areas["kind"] == kind]
    row = areas.iloc[0]
    pt = shapely.maximum_inscribed_circle(row.geometry, 1e-6).coords[0]
    return row, float(pt[0]), float(pt[1])


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file, built as bytes (the test client spools big
    dict-built bodies to temporary files it never closes)."""
    body = (
        (
            f'--xyzzy\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + b"\r\n--xyzzy--\r\n"
    )
    return body, "multipart/form-data; boundary=xyzzy"


def snapshot(store):
    """What a refused request must leave unchanged: problems, their version, the
    categories, the audit log."""
    with store.transaction() as tx:
        return (
            tx.count_problems(),
            tx.data_version()["problems"],
            tx.list_categories(),
            tx.count_audit(),
        )
