"""Photos as files: take out everything of a JPEG or PNG but the picture.

A phone's photo carries EXIF (the camera, its serial number, the time, the GPS position of
where it was taken, often a thumbnail), XMP and IPTC blocks, comments; a PNG carries text
chunks.  :func:`strip_metadata` keeps only what a viewer needs to draw the picture, without
decoding or re-encoding it (no loss, the same bytes in give the same bytes out):

JPEG
    Kept: the segments that describe the picture (quantisation and Huffman tables, frame,
    restart interval, scans and their data), ``APP0`` (JFIF), ``APP2`` only when it is an
    ICC colour profile, ``APP14`` (Adobe colour transform).  Dropped: ``APP1`` (EXIF, XMP),
    every other ``APPn`` (IPTC, vendors' blocks, multi-picture indexes), comments, bytes
    between segments, and everything after the end of the first picture (phones append
    further pictures there, each with its own EXIF).  Segments between the scans of a
    progressive JPEG are filtered the same way.  The EXIF orientation, when it was not
    1, comes back as a new, minimal EXIF block holding that one tag: the picture is not
    turned, so without it the photo would show on its side.
PNG
    Dropped: ``tEXt``, ``zTXt``, ``iTXt``, ``eXIf`` and ``tIME`` chunks; the rest is kept.
    A PNG whose chunks cannot be followed is kept as it is from that point (no viewer
    would read further either).

Standard library only.
"""

from __future__ import annotations

import struct

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
#: markers with no length field (RSTn, SOI, EOI, TEM)
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), SOI, EOI})
_ICC = b"ICC_PROFILE\0"
_EXIF = b"Exif\0\0"
ORIENTATION_TAG = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_PRIVATE = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})


def strip_metadata(data: bytes) -> bytes:
    """``data`` without metadata if it is a JPEG or PNG (see the module); else unchanged."""
    if data.startswith(b"\xff\xd8"):
        return _strip_jpeg(data)
    if data.startswith(_PNG_SIGNATURE):
        return _strip_png(data)
    return data


def _keep_jpeg_segment(marker: int, body: bytes) -> bool:
    if marker == 0xFE:  # comment
        return False
    if 0xE0 <= marker <= 0xEF:  # APPn
        return marker in (0xE0, 0xEE) or (marker == 0xE2 and body.startswith(_ICC))
    return True


def _strip_jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    orientation = 1
    i, n = 2, len(data)
    insert_at = 1  # the minimal EXIF goes after SOI and a JFIF APP0
    while i < n:
        if data[i] != 0xFF:  # stray bytes between segments: skipped, as decoders do
            i = data.find(b"\xff", i)
            if i < 0:
                break
            continue
        marker = data[i + 1] if i + 1 < n else None
        if marker is None:
            break
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            if marker == EOI:
                out.append(data[i : i + 2])
                break
            out.append(data[i : i + 2])
            i += 2
            continue
        if i + 4 > n:
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        end = i + 2 + length
        body = data[i + 4 : end]
        if marker == 0xE1 and body.startswith(_EXIF):
            orientation = exif_orientation(body[len(_EXIF) :]) or orientation
        if marker == SOS:  # a scan: its header, then entropy-coded data up to a marker
            scan_end = _next_marker(data, end)
            out.append(data[i:scan_end])
            i = scan_end
            continue
        if _keep_jpeg_segment(marker, body):
            out.append(data[i:end])
            if marker == 0xE0 and len(out) == 2:
                insert_at = 2
        i = end
    if orientation != 1:
        out.insert(insert_at, _orientation_segment(orientation))
    return b"".join(out)


def _next_marker(data: bytes, start: int) -> int:
    """The index of the next marker at or after ``start`` in entropy-coded data, where 0xFF
    is only ever followed by 0x00 (a stuffed byte), a restart marker or another 0xFF (the
    end of data when there is none)."""
    i = start
    while True:
        i = data.find(b"\xff", i)
        if i < 0 or i + 1 >= len(data):
            return len(data)
        follower = data[i + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7 or follower == 0xFF:
            i += 1
            continue
        return i


def exif_orientation(tiff: bytes) -> int | None:
    """The Orientation tag (1-8) of a TIFF/EXIF block, or None when absent or unreadable."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
        for k in range(count):
            at = ifd + 2 + 12 * k
            tag, kind, _n = struct.unpack(order + "HHI", tiff[at : at + 8])
            if tag == ORIENTATION_TAG and kind == 3:
                (value,) = struct.unpack(order + "H", tiff[at + 8 : at + 10])
                return value if 1 <= value <= 8 else None
    except struct.error:
        return None
    return None


def _orientation_segment(orientation: int) -> bytes:
    """An APP1 EXIF segment holding only the Orientation tag."""
    tiff = (
        b"MM\x00\x2a\x00\x00\x00\x08"  # big-endian TIFF, IFD0 at offset 8
        + struct.pack(">H", 1)
        + struct.pack(">HHIHH", ORIENTATION_TAG, 3, 1, orientation, 0)
        + struct.pack(">I", 0)  # no next IFD
    )
    body = _EXIF + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _strip_png(data: bytes) -> bytes:
    out = [data[:8]]
    i, n = 8, len(data)
    while i + 8 <= n:
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > n:
            break
        if kind not in _PNG_PRIVATE:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            return b"".join(out)
    out.append(data[i:])
    return b"".join(out)
