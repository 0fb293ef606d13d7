"""The MBTiles tile package reader: rows from the south, one colour per tile so each answer
is checked against the tile asked for; files that are not packages refused by name."""

import sqlite3
import struct
import zlib
from contextlib import closing

import pytest
from tilepack import colour_of, make_package

from geoapp.io.errors import InputError
from geoapp.io.mbtiles import BLANK_PNG, TilePackage, solid_png


def pixel(png: bytes) -> tuple[int, ...]:
    """The first pixel (RGBA) of a PNG as solid_png writes it (one IDAT, filter 0)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height, depth, kind = struct.unpack(">IIBB", png[16:26])
    assert (depth, kind) == (8, 6)
    at = png.index(b"IDAT")
    (size,) = struct.unpack(">I", png[at - 4 : at])
    raw = zlib.decompress(png[at + 4 : at + 4 + size])
    assert len(raw) == height * (1 + 4 * width)
    return tuple(raw[1:5])


TILES = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 0, 1), (1, 1, 1), (3, 6, 2), (3, 6, 3)]


def test_each_tile_is_the_one_asked_for(tmp_path):
    package = TilePackage(make_package(tmp_path / "t.mbtiles", TILES))
    assert (package.format, package.media_type) == ("png", "image/png")
    assert (package.minzoom, package.maxzoom, package.attribution) == (0, 3, "测试底图")
    for z, x, y in TILES:
        assert pixel(package.tile(z, x, y)) == colour_of(z, x, y), (z, x, y)
    # XYZ rows count from the north: 3/6/2 and 3/6/3 are different tiles, not swapped
    assert package.tile(3, 6, 2) != package.tile(3, 6, 3)
    assert package.tile(3, 6, 4) is None  # no such tile in the package
    assert package.tile(2, 0, 0) is None  # nor that zoom


def test_format_from_the_metadata(tmp_path):
    package = TilePackage(make_package(tmp_path / "j.mbtiles", [(0, 0, 0)], fmt="jpeg"))
    assert (package.format, package.media_type) == ("jpg", "image/jpeg")


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "no such file"),
        (lambda p: p.write_bytes(b"not a database at all" * 100), "not an MBTiles file"),
        (lambda p: closing(sqlite3.connect(p)).__enter__().execute("CREATE TABLE x (a)"),
         "not an MBTiles file"),
        (lambda p: make_package(p, [(0, 0, 0)], fmt="pbf"), "pbf tiles"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_package_is_refused_by_name(tmp_path, make, says):
    path = tmp_path / "bad.mbtiles"
    make(path)
    with pytest.raises(InputError) as caught:
        TilePackage(path)
    assert says in str(caught.value) and str(path) in str(caught.value)


def test_pngs_are_what_they_say():
    assert pixel(solid_png(3, 2, (1, 2, 3, 4))) == (1, 2, 3, 4)
    assert pixel(BLANK_PNG) == (0, 0, 0, 0)
