"""Settings, read from the environment (``GEOAPP_*``) and overridable in ``create_app``.

Every setting is documented in the README's Configuration table; a test checks that.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# name → (default, description)
SETTINGS: dict[str, tuple[object, str]] = {
    "DATABASE_URL": (None, "SQLAlchemy URL of the store; default a SQLite file under instance/"),
    "TILES_URL": ("", "XYZ tile URL template for a basemap; empty means no basemap"),
    "TILES_ATTRIBUTION": ("", "Attribution shown with the basemap"),
    "TILES_DIR": (
        "",
        "A local folder of XYZ tiles (z/x/y.png) served at /tiles/; sets the basemap",
    ),
    "TILES_PACKAGE": (
        "",
        "An MBTiles file of basemap tiles (QGIS: Generate XYZ tiles (MBTiles)) served at "
        "/tiles/; sets the basemap, no request leaves the server",
    ),
    "TILES_CRS": (
        "wgs84",
        "CRS of the basemap: wgs84 (Tianditu, OSM) or gcj02 (AMap); overlays are shifted to match",
    ),
    "DEFAULT_LOCALE": ("zh", "Language of the UI when the browser does not ask: zh or en"),
    "MAX_UPLOAD_MB": (20, "Largest accepted upload, in MiB"),
    "MAX_PHOTO_MB": (10, "Largest accepted photo of a problem point, in MiB"),
    "UPLOAD_DIR": (
        "",
        "Where photos and inspection sheets awaiting confirmation are kept; default instance/uploads",
    ),
    "SECRET_KEY": (None, "Flask secret key; a random one per start when unset"),
    "SLIVER_M2": (
        50,
        "Boundary editor: an area or part smaller than this many m² is reported as a sliver",
    ),
    "REASSIGN_CLOSED": (
        False,
        "Publishing boundaries also re-assigns closed (rectified, verified) problems; by "
        "default they keep the assignment they were scored under",
    ),
    "LOGIN_MAX_ATTEMPTS": (
        5,
        "Failed sign-ins per name in the window before it is locked (x4 per address); "
        "counted in the store, shared by all workers",
    ),
    "LOGIN_WINDOW_SECONDS": (
        300,
        "The window of LOGIN_MAX_ATTEMPTS and the first lock, in seconds (each lock in a row "
        "lasts twice as long)",
    ),
    "LOGIN_MAX_LOCK_SECONDS": (3600, "The longest lock of a name or address, in seconds"),
    "PROXY_COUNT": (
        0,
        "How many trusted reverse proxies stand in front: their X-Forwarded-For/-Proto/-Host "
        "give the client's address; 0 ignores those headers",
    ),
    "SECURE_COOKIES": (0, "1: send the session cookie over HTTPS only (set it behind HTTPS)"),
    "MAX_UNZIPPED_MB": (200, "Largest total uncompressed size of a zipped Shapefile, in MiB"),
}


def from_env(environ=os.environ) -> dict:
    """Settings from ``GEOAPP_<NAME>`` environment variables, else their defaults."""
    out = {}
    for name, (default, _) in SETTINGS.items():
        raw = environ.get(f"GEOAPP_{name}")
        if raw is None:
            out[name] = default
        elif isinstance(default, bool):
            out[name] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int) and not isinstance(default, bool):
            out[name] = int(raw)
        else:
            out[name] = raw
    return out
