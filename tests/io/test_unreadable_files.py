"""A path that cannot be read (missing, a folder) is one clear InputError naming it, from every
reader and from the content check, never an OSError traceback."""

from pathlib import Path

import pytest

from geoapp.io.boundaries import read_areas
from geoapp.io.errors import InputError
from geoapp.io.files import check_content
from geoapp.io.points import read_points
from geoapp.io.tables import read_table

READERS = {
    "read_areas": lambda p: read_areas(p),
    "read_points": lambda p: read_points(p),
    "read_table": lambda p: read_table(p),
    "check_content": lambda p: check_content(p, p.suffix.lstrip(".")),
}


#: each reader with the suffixes it accepts (another suffix is refused earlier, by its name)
CASES = [
    ("read_areas", ".geojson"),
    ("read_areas", ".gpkg"),
    ("read_areas", ".zip"),
    *(
        (reader, suffix)
        for reader in ("read_points", "check_content")
        for suffix in (".geojson", ".csv", ".xlsx")
    ),
    ("read_table", ".csv"),
    ("read_table", ".xlsx"),
]


@pytest.mark.parametrize(("reader", "suffix"), CASES)
def test_a_missing_file_or_a_folder_is_named_in_one_clear_error(tmp_path, reader, suffix):
    missing = tmp_path / f"nothing{suffix}"
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    for path, words in ((missing, "no such file"), (folder, "is a folder")):
        with pytest.raises(InputError) as caught:
            READERS[reader](Path(path))
        assert str(path) in str(caught.value) and words in str(caught.value), (reader, path)
