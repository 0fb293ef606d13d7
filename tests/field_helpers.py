"""Camera-like photos for the field tests: a real JPEG (encoded by Chromium's canvas) with
the metadata a phone writes into it (EXIF: camera, time, orientation, GPS; XMP; a comment;
a second picture appended after the first, as phones' multi-picture files do), built by
hand byte for byte."""

from __future__ import annotations

import base64
import struct

#: a 48x32 JPEG written by Chromium's canvas (it carries an ICC colour profile, APP2)
CANVAS_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAgADADASIAAhEBAxEB/8QAGgABAAIDAQAAAAAAAAAAAAAAAAUHAQQGCP/EAC8QAAACBQYPAAAAAAAAAAAAAAASAgYHERQBBRMVFjEECCMlMjdBQ0Zig4Shs8P/xAAYAQEAAwEAAAAAAAAAAAAAAAAFAgMEBv/EACERAAICAgEEAwAAAAAAAAAAAAADAQQCESEFEhMiUWHB/9oADAMBAAIRAxEAPwDbZuo1tKxzjBQlHuKQ5zc0jnF8ibXJlNmlbwydq5iYcmShSGMmijeeV2k+7YJrFw4h7f6jtWy6tp46PuQFCVY9sfJ0l3qD8bvijL13HGo+jzCAAE0rI2GmQAAslYFYcXRi4cRdv9R2rZdW08dH3IClmbrzYusc3RsXR7+jIQ3LK95vAmlyataVW8MmmpoaIJlYo5SpopXEkfouv2gBS540JW1Z5WpbrjcfhWAyABhKzPYcAAAslYFYcf/Z"
)

ASCII, SHORT, LONG, RATIONAL = 2, 3, 4, 5


def _ascii(text: str) -> bytes:
    return text.encode("ascii") + b"\0"


def _ifd(entries: list[tuple[int, int, int, bytes]], start: int) -> tuple[bytes, bytes]:
    """An IFD at TIFF offset ``start`` and the data area after it (big-endian): entries are
    (tag, type, count, value bytes); values over 4 bytes go to the data area."""
    size = 2 + 12 * len(entries) + 4
    data = b""
    table = struct.pack(">H", len(entries))
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            table += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack(">HHII", tag, kind, count, start + size + len(data))
            data += value + (b"\0" if len(value) % 2 else b"")
    return table + struct.pack(">I", 0), data


def _dms(value: float) -> bytes:
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60 * 10000)
    return struct.pack(">IIIIII", deg, 1, minutes, 1, seconds, 10000)


def exif_block(
    orientation: int = 1,
    gps: tuple[float, float] | None = None,
    make: str = "HUAWEI",
    model: str = "Mate 60 SN:8F3K2L9Q",
    when: str = "2026:12:07 09:30:00",
) -> bytes:
    """The body of an APP1 EXIF segment ("Exif\\0\\0" + big-endian TIFF)."""
    entries = [
        (0x010F, ASCII, len(_ascii(make)), _ascii(make)),
        (0x0110, ASCII, len(_ascii(model)), _ascii(model)),
        (0x0112, SHORT, 1, struct.pack(">H", orientation)),
        (0x0132, ASCII, 20, _ascii(when)),
    ]
    if gps is not None:
        entries.append((0x8825, LONG, 1, b"\0\0\0\0"))  # filled below
    table, data = _ifd(entries, 8)
    tiff = b"MM\0\x2a" + struct.pack(">I", 8) + table + data
    if gps is not None:
        lon, lat = gps
        gps_at = len(tiff)
        gtable, gdata = _ifd(
            [
                (1, ASCII, 2, b"N\0" if lat >= 0 else b"S\0"),
                (2, RATIONAL, 3, _dms(abs(lat))),
                (3, ASCII, 2, b"E\0" if lon >= 0 else b"W\0"),
                (4, RATIONAL, 3, _dms(abs(lon))),
            ],
            gps_at,
        )
        tiff += gtable + gdata
        # point IFD0's GPS entry (the last, by tag order) at the GPS IFD
        entry = 8 + 2 + 12 * (len(entries) - 1)
        tiff = tiff[: entry + 8] + struct.pack(">I", gps_at) + tiff[entry + 12 :]
    return b"Exif\0\0" + tiff


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


XMP = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><rdf:Description exif:GPSLatitude='31,14.5N' tiff:Artist='Zhang San'/></x:xmpmeta>"


def camera_jpeg(
    jpeg: bytes = CANVAS_JPEG,
    orientation: int = 6,
    gps: tuple[float, float] | None = (117.2272, 31.8206),
    trailer: bool = True,
) -> bytes:
    """``jpeg`` as a phone would save it: EXIF (camera with serial, time, orientation,
    GPS) and XMP after SOI, a comment, and a second picture with its own EXIF after the end."""
    assert jpeg[:2] == b"\xff\xd8"
    out = (
        jpeg[:2]
        + segment(0xE1, exif_block(orientation, gps))
        + segment(0xE1, XMP)
        + segment(0xFE, b"taken by inspector Zhang San, 13800138000")
        + jpeg[2:]
    )
    if trailer:
        out += b"\xff\xd8" + segment(0xE1, exif_block(1, gps)) + jpeg[2:]
    return out


def jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) of a JPEG's frame, as stored (before any EXIF orientation)."""
    i = 2
    while i + 9 <= len(jpeg):
        marker = jpeg[i + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", jpeg[i + 5 : i + 9])
            return width, height
        i += 2 + struct.unpack(">H", jpeg[i + 2 : i + 4])[0]
    raise ValueError("no frame header")


#: JS drawing a photo-like picture (sky, street, blocks, grain) of ``w`` x ``h`` pixels on
#: a canvas and resolving with its JPEG (quality ``q``) as base64: a camera's file size.
CANVAS_PHOTO_JS = """async ([w, h, q]) => {
  const c = document.createElement('canvas'); c.width = w; c.height = h;
  const x = c.getContext('2d');
  const sky = x.createLinearGradient(0, 0, 0, h); sky.addColorStop(0, '#7fb2e5');
  sky.addColorStop(0.45, '#dfe9f3'); sky.addColorStop(0.46, '#8a8577'); sky.addColorStop(1, '#4b4a44');
  x.fillStyle = sky; x.fillRect(0, 0, w, h);
  let seed = 7; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let k = 0; k < 900; k++) {
    x.fillStyle = `hsl(${Math.floor(rnd() * 360)},${Math.floor(20 + rnd() * 50)}%,${Math.floor(25 + rnd() * 50)}%)`;
    x.fillRect(rnd() * w, h * 0.2 + rnd() * h * 0.8, 20 + rnd() * w / 12, 10 + rnd() * h / 10);
  }
  x.fillStyle = '#fff'; x.fillRect(w * 0.05, h * 0.05, w * 0.12, h * 0.5);  // a white post, left
  const img = x.getImageData(0, 0, w, h); const d = img.data;
  for (let i = 0; i < d.length; i += 4) {
    const n = (rnd() - 0.5) * 28; d[i] += n; d[i + 1] += n; d[i + 2] += n;
  }
  x.putImageData(img, 0, 0);
  const blob = await new Promise(r => c.toBlob(r, 'image/jpeg', q));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = ''; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}"""


def form_body(fields: dict, photos=()) -> tuple[bytes, str]:
    """A multipart/form-data body built as bytes (the test client spools big dict-built
    bodies to temporary files it never closes)."""
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--xyzzy\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for i, data in enumerate(photos):
        head = (
            f'--xyzzy\r\nContent-Disposition: form-data; name="photo"; filename="IMG_{i}.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + b"--xyzzy--\r\n", "multipart/form-data; boundary=xyzzy"
