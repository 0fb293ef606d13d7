"""Metadata taken out of photos on the server (geoapp/io/photos.py), on real JPEG bytes
(Chromium's encoder) carrying what a phone writes, and on PNGs with text chunks."""

import struct
import zlib

import pytest
from field_helpers import CANVAS_JPEG, XMP, camera_jpeg, exif_block, segment
from intake_helpers import png_bytes

from geoapp.io.photos import exif_orientation, strip_metadata

PERSONAL = [b"HUAWEI", b"SN:8F3K2L9Q", b"2026:12:07", b"Zhang San", b"13800138000", b"GPS", b"xmp"]


def segments(jpeg: bytes) -> list[int]:
    """The markers of a JPEG's segments up to its first scan."""
    out, i = [], 2
    while jpeg[i + 1] != 0xDA:
        out.append(jpeg[i + 1])
        i += 2 + struct.unpack(">H", jpeg[i + 2 : i + 4])[0]
    return out


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_phone_photo_keeps_the_picture_and_its_orientation_only(orientation):
    photo = camera_jpeg(orientation=orientation)
    assert all(word in photo for word in (b"HUAWEI", b"Zhang San"))
    clean = strip_metadata(photo)
    assert not any(word in clean for word in PERSONAL), clean
    # the picture itself: the encoder's segments and scan, byte for byte, and one EOI
    assert clean.endswith(CANVAS_JPEG[-200:]) and clean.count(b"\xff\xd9") == 1
    assert b"ICC_PROFILE" in clean  # colour, not personal
    exifs = [m for m in segments(clean) if m == 0xE1]
    if orientation == 1:
        assert exifs == [] and clean == CANVAS_JPEG
    else:
        assert exifs == [0xE1]
        block = clean[clean.index(b"Exif\0\0") + 6 :]
        assert exif_orientation(block) == orientation
    assert strip_metadata(clean) == clean  # nothing more to take out: the same bytes


def test_every_kind_of_metadata_segment_goes():
    body = CANVAS_JPEG[2:]
    photo = (
        b"\xff\xd8"
        + b"".join(
            segment(marker, payload)
            for marker, payload in [
                (0xE1, exif_block(3, (120.5, -30.25))),
                (0xE1, XMP),
                (0xED, b"Photoshop 3.0\0 8BIM IPTC Zhang San"),  # IPTC
                (0xE2, b"MPF\0 multi-picture index Zhang San"),
                (0xEC, b"Ducky Zhang San"),
                (0xFE, b"Zhang San"),
            ]
        )
        + body
    )
    clean = strip_metadata(photo)
    assert b"Zhang San" not in clean and b"GPS" not in clean
    assert exif_orientation(clean[clean.index(b"Exif\0\0") + 6 :]) == 3


def test_stray_bytes_and_broken_exif_do_not_stop_it():
    broken = segment(0xE1, b"Exif\0\0MM\0\x2a\xff\xff\xff\xff")  # IFD offset past the end
    photo = b"\xff\xd8" + broken + b"\0\0junk" + segment(0xFE, b"Zhang San") + CANVAS_JPEG[2:]
    clean = strip_metadata(photo)
    assert b"Zhang San" not in clean and b"junk" not in clean
    assert clean == CANVAS_JPEG
    # bytes that only start like a JPEG come out without their metadata, never an error
    assert strip_metadata(b"\xff\xd8\xff\xe0\x00\x10JFIF\0" + b"\0" * 500).startswith(b"\xff\xd8")


def test_png_text_chunks_go():
    png = png_bytes(4, 3)

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    at = png.index(b"IDAT") - 4
    tagged = (
        png[:at]
        + chunk(b"tEXt", b"Author\0Zhang San")
        + chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0Zhang San")
        + chunk(b"eXIf", exif_block(1, (117.0, 31.0))[6:])
        + chunk(b"tIME", b"\x07\xea\x0c\x07\x09\x1e\x00")
        + png[at:]
    )
    assert strip_metadata(tagged) == png
    assert strip_metadata(png) == png


def test_other_bytes_pass_unchanged():
    assert strip_metadata(b"GIF89a....") == b"GIF89a...."
