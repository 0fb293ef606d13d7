"""Assign a file of points without a database (``geoapp assign``): build the assignment
index straight from a folder of zone files, cached on disk by their hash
(:func:`zoning_from_folder`), and write the points back with the assignment columns added
(:func:`assign_file`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

from geoapp.core import grid
from geoapp.core.assignment import Zoning
from geoapp.core.messages import N_
from geoapp.core.model import PROBLEM_COLUMNS
from geoapp.io.boundaries import read_areas
from geoapp.io.errors import InputError
from geoapp.io.points import read_points
from geoapp.io.tables import find_column
from geoapp.io.writers import write_points
from geoapp.services.county import read_csv_rows
from geoapp.version import __version__

DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / "instance" / "cache"


ZONE_FILES = ("areas.geojson", "districts.csv", "rules.csv")


def zoning_from_folder(folder: Path, cache_dir: Path | None = None) -> Zoning:
    """A :class:`Zoning` straight from files (areas.geojson, districts.csv, rules.csv).

    The built index is kept in ``cache_dir`` (default ``$GEOAPP_CACHE_DIR`` or
    ``instance/cache``), named by a hash of the three files and of the engine's version, so
    the next run with the same files loads it instead of building it again.
    """
    folder = Path(folder)
    if not (folder / "areas.geojson").is_file():
        raise InputError(N_("%(folder)s: no areas.geojson in this folder"), folder=folder)
    cache_dir = Path(cache_dir or os.environ.get("GEOAPP_CACHE_DIR") or DEFAULT_CACHE_DIR)
    digest = hashlib.sha256(f"{__version__} {grid.STEP} {grid.MARGIN}".encode())
    for name in ZONE_FILES:
        path = folder / name
        digest.update(name.encode() + (path.read_bytes() if path.is_file() else b"-"))
    cached = cache_dir / f"zoning-{digest.hexdigest()[:32]}.pickle"
    try:
        with open(cached, "rb") as fh:
            zoning = pickle.load(fh)  # our own file, written below
        if isinstance(zoning, Zoning):
            return zoning
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    areas = read_areas(folder / "areas.geojson")
    districts = (
        read_csv_rows(folder / "districts.csv") if (folder / "districts.csv").exists() else []
    )
    rules = read_csv_rows(folder / "rules.csv") if (folder / "rules.csv").exists() else []
    zoning = Zoning.build(areas, districts, rules)
    _ = zoning.grid
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(zoning, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only place: no cache, same answer
    return zoning


# --- stateless file assignment --------------------------------------------------------------
def assign_file(
    input_path,
    output_path,
    zoning: Zoning,
    crs: str | None = None,
    category_column: str | None = None,
) -> dict:
    """Read points, assign them, write the same rows with the assignment columns added."""
    table = read_points(input_path, crs)
    if table.bad:
        raise InputError(
            N_("%(name)s: %(count)s row(s) have no usable position; nothing was written"),
            table.bad,
            name=Path(input_path).name,
            count=len(table.bad),
        )
    names = table.column_names()
    cat_col = category_column or find_column(names, PROBLEM_COLUMNS["category"])
    if category_column and category_column not in names:
        raise InputError(
            N_("%(name)s: no column %(category_column)r"),
            name=Path(input_path).name,
            category_column=category_column,
        )
    categories = table.categorical(cat_col) if cat_col else None
    result = zoning.assign_codes(table.lon, table.lat, categories).to_frame(categorical=True)
    write_points(table, result, Path(output_path))
    assigned = int((result["area_id"].cat.codes >= 0).sum())
    return {
        "rows": len(table),
        "assigned": assigned,
        "unassigned": len(table) - assigned,
        "crs": table.crs.code,
        "output": str(output_path),
    }
