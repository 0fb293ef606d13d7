"""Settings, read from the environment (``GEOAPP_*``) and overridable in ``create_app``.

Every setting is documented in the README's Configuration table; a test checks that.  Each
has a type (:data:`KINDS`: text, a whole number, a number, yes/no, a path, a
comma-separated list) and is parsed once, at start: a value that does not fit stops the
start with :class:`SettingError` naming the variable and the type it needs; a ``GEOAPP_*``
variable that is no setting is reported with the closest known name (:func:`unknown`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
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
        50.0,
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
    "TRUSTED_HOSTS": (
        "",
        "Host names this server answers to, comma-separated (a request naming another host "
        "gets 400, so links never point to a spoofed host); empty accepts any",
    ),
    "CORS_ORIGINS": (
        "",
        "Origins (scheme://host:port, comma-separated) whose pages may read the JSON API and "
        "the OGC API with an API token (CORS); empty: none",
    ),
    "SECURE_COOKIES": (0, "1: send the session cookie over HTTPS only (set it behind HTTPS)"),
    "MAX_UNZIPPED_MB": (200, "Largest total uncompressed size of a zipped Shapefile, in MiB"),
    "MAX_XLSX_UNZIPPED_MB": (
        50,
        "Largest total uncompressed size of an XLSX workbook, in MiB (parsing takes about a "
        "second per MiB)",
    ),
    "CACHE_DIR": ("", "Where `geoapp assign` keeps built zone indexes; default instance/cache"),
    "LOG_LEVEL": ("INFO", "Level of the application log: DEBUG, INFO, WARNING, ERROR"),
    "LOG_JSON": (False, "1: write the log as one JSON object per line (for a log collector)"),
    "OGC_PROJECTED_CRS": (
        "EPSG:4549",
        "The county's projected CGCS2000 zone the OGC API offers besides CRS84, EPSG:4326 "
        "and EPSG:4490 (crs, bbox-crs, filter-crs)",
    ),
    "COVERAGE_MIN_PERCENT": (
        80,
        "Ranking for the circulated report: a unit is commended only when at least this "
        "percentage of its inspection points was inspected in the round",
    ),
    "CHECKIN_DISTANCE_M": (
        50,
        "Patrol check-ins are accepted inside the unit's area or within this many metres of it",
    ),
}


#: the type of each setting whose default does not say it (None and "" defaults)
_KIND_OVERRIDES = {
    "DATABASE_URL": "text",
    "SECRET_KEY": "text",
    "TILES_DIR": "path",
    "UPLOAD_DIR": "path",
    "CACHE_DIR": "path",
    "SECURE_COOKIES": "bool",
    "LOG_JSON": "bool",
}


def _kind_of(name: str, default: object) -> str:
    if name in _KIND_OVERRIDES:
        return _KIND_OVERRIDES[name]
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, (list, tuple)):
        return "list"
    return "text"


#: name → its type: text, int, float, bool, path or list
KINDS: dict[str, str] = {name: _kind_of(name, d) for name, (d, _) in SETTINGS.items()}
#: how a message names each type
KIND_WORDS = {
    "text": "text",
    "int": "a whole number (int)",
    "float": "a number (float)",
    "bool": "yes/no (bool: 1, 0, true, false, yes, no, on, off)",
    "path": "a folder path",
    "list": "a comma-separated list",
}
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")
#: ``GEOAPP_*`` variables read by the tests, benchmarks and tools, not by the app
TOOL_PREFIXES = ("GEOAPP_TEST_", "GEOAPP_BENCH_", "GEOAPP_LOAD_")
TOOL_VARIABLES = frozenset({"GEOAPP_CHROMIUM", "GEOAPP_SCREENSHOT_DIR", "GEOAPP_FUZZ_EXAMPLES"})


#: settings that take one of a few words (compared without case)
CHOICES = {
    "DEFAULT_LOCALE": ("zh", "en"),
    "TILES_CRS": ("wgs84", "gcj02"),
    "LOG_LEVEL": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
}


class SettingError(ValueError):
    """A setting's value does not fit its type; the message names the variable."""


def parse(name: str, raw: str) -> object:
    """The value of setting ``name`` from its text ``raw`` (as an environment variable)."""
    kind = KINDS[name]
    text = raw.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(text)
            return value
        if kind == "bool":
            if text.lower() in TRUE:
                return True
            if text.lower() in FALSE:
                return False
            raise ValueError(text)
    except ValueError:
        raise SettingError(f"GEOAPP_{name} must be {KIND_WORDS[kind]}, got {raw!r}") from None
    if name in CHOICES:
        choice = next((c for c in CHOICES[name] if c.lower() == text.lower()), None)
        if choice is None:
            raise SettingError(
                f"GEOAPP_{name} must be one of {', '.join(CHOICES[name])}, got {raw!r}"
            )
        return choice
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind == "path":
        return text
    return raw


def upload_root(settings: dict) -> Path:
    """The folder of photos and uploads awaiting confirmation (``UPLOAD_DIR``, else
    ``instance/uploads``)."""
    return Path(settings.get("UPLOAD_DIR") or REPO_ROOT / "instance" / "uploads")


def from_env(environ: Mapping[str, str] = os.environ) -> dict:
    """Settings from ``GEOAPP_<NAME>`` environment variables, else their defaults; raises
    :class:`SettingError` for a value that does not fit its setting's type."""
    values, errors = read_all(environ)
    if errors:
        raise SettingError(errors[0])
    return values


def read_all(environ: Mapping[str, str] = os.environ) -> tuple[dict, list[str]]:
    """Every setting (its default where the variable's value does not fit) and one message
    per variable that does not fit (``geoapp check`` lists them all)."""
    values, errors = {}, []
    for name, (default, _) in SETTINGS.items():
        raw = environ.get(f"GEOAPP_{name}")
        try:
            values[name] = default if raw is None else parse(name, raw)
        except SettingError as exc:
            values[name] = default
            errors.append(str(exc))
    return values, errors


def sources(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Where each setting's value comes from: ``env`` (a ``GEOAPP_*`` variable, which a
    systemd ``EnvironmentFile`` also sets) or ``default``."""
    return {n: "env" if f"GEOAPP_{n}" in environ else "default" for n in SETTINGS}


def unknown(environ: Mapping[str, str] = os.environ) -> list[str]:
    """One message per ``GEOAPP_*`` variable that is no setting (a typo is otherwise
    silently ignored), with the closest known name when there is one."""
    known = [f"GEOAPP_{n}" for n in SETTINGS]
    out = []
    for variable in sorted(environ):
        if not variable.startswith("GEOAPP_") or variable in known:
            continue
        if variable in TOOL_VARIABLES or variable.startswith(TOOL_PREFIXES):
            continue
        close = difflib.get_close_matches(variable, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        out.append(f"unknown setting {variable}{hint}; it is ignored")
    return out
