"""The bytes people bring, before any parsing: the suffix that says which reader to use, the
client's file name reduced to a display name, uploaded bytes written to a temporary file the
server names (:func:`local_file`), text decoding (UTF-8 or GBK), and the safety checks: a
file's content must match its suffix (:func:`check_content`) and a ZIP archive's entries and
unpacked size are bounded before anything is unpacked (:func:`safe_zip`, :func:`check_unzipped`).
"""

from __future__ import annotations

import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from geoapp.core.messages import N_
from geoapp.io.errors import InputError

MAX_ZIP_UNCOMPRESSED = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200


def _kind(path: Path, table: dict[str, str], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in table:
        raise InputError(
            N_("%(name)s: cannot read %(what)s from a '%(value)s' file; use one of %(names)s"),
            name=path.name,
            what=what,
            value=suffix or "no suffix",
            names=", ".join(sorted(table)),
        )
    return table[suffix]


def display_name(name: str | None, default: str = "upload") -> Path:
    """The last part of a client-given file name, for its suffix and for messages only:
    never a path to open (``C:\\x\\a.gpkg``, ``../../etc/a.zip`` -> ``a.gpkg``, ``a.zip``)."""
    last = PurePosixPath(str(name or "").replace("\\", "/")).name.strip()
    return Path(last if last not in ("", ".", "..") else default)


@contextmanager
def local_file(path: Path, data: bytes | None):
    """The file to hand to GDAL or Arrow.

    Without ``data`` it is ``path`` itself (a file the operator named on the command line).
    With ``data`` (an upload) ``path`` is only the name the client gave: the bytes are
    written to a temporary folder the server names (``geoapp-upload-*`` under the system
    temporary directory) and removed when the block ends, whatever happens in it."""
    if data is None:
        if not path.exists():
            raise InputError(N_("%(path)s: no such file"), path=path)
        if path.is_dir():
            raise InputError(N_("%(path)s: is a folder, not a file"), path=path)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="geoapp-upload-") as tmp:
        local = Path(tmp) / f"upload{path.suffix.lower()}"
        with open(local, "xb") as fh:
            fh.write(data)
        yield local


# --- text ---------------------------------------------------------------------
def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or, failing that, GBK/GB18030 (Excel in China)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise InputError(
            N_("%(name)s: line %(line)s is neither UTF-8 nor GBK text; save the file as UTF-8"),
            name=name,
            line=line,
        ) from None


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Reading ``path`` inside this block: a missing file, a folder or any other OS error
    becomes one InputError naming the path."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(N_("%(path)s: no such file"), path=path) from None
    except IsADirectoryError:
        raise InputError(N_("%(path)s: is a folder, not a file"), path=path) from None
    except OSError as exc:
        raise InputError(
            N_("%(path)s: cannot be read (%(strerror)s)"), path=path, strerror=exc.strerror
        ) from None


def _read_bytes(path: Path) -> bytes:
    with _readable(path):
        return Path(path).read_bytes()


# --- zip archives -------------------------------------------------------------------
#: Most entries a zipped Shapefile may hold (.shp .shx .dbf .prj .cpg and a few extras).
MAX_ZIP_ENTRIES = 64


def _mib_setting(variable: str, default: float) -> int:
    try:
        mib = float(os.environ.get(variable, "") or default)
    except ValueError:
        mib = default
    return int(min(max(mib, 0) * 1024 * 1024, MAX_ZIP_UNCOMPRESSED))


def max_unzipped_bytes() -> int:
    """The largest total a zipped Shapefile may unpack to (``GEOAPP_MAX_UNZIPPED_MB``, MiB)."""
    return _mib_setting("GEOAPP_MAX_UNZIPPED_MB", 200)


def max_xlsx_unzipped_bytes() -> int:
    """The largest total an XLSX workbook may unpack to (``GEOAPP_MAX_XLSX_UNZIPPED_MB``,
    MiB): parsing its XML takes about a second per MiB, so the bound is tighter."""
    return _mib_setting("GEOAPP_MAX_XLSX_UNZIPPED_MB", 50)


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB"


def _inflated_size(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> int:
    """The real unpacked size of one entry, counted while inflating its raw bytes (the
    sizes in the headers are not used); stops counting once it passes ``budget``."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 / lzma: zipfile stops at the declared size and checks the CRC
        total = 0
        with zf.open(info) as fh:
            while (chunk := fh.read(1 << 20)) and total <= budget:
                total += len(chunk)
        return total
    fp = zf.fp
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header of {info.filename}")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    if info.compress_type == zipfile.ZIP_STORED:
        return len(fp.read(min(info.compress_size, budget + 1)))
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    pending = fp.read(1 << 16)
    while pending and not inflate.eof and total <= budget:
        total += len(inflate.decompress(pending, 1 << 20))
        pending = inflate.unconsumed_tail or fp.read(1 << 16)
    return total


def check_unzipped(zf: zipfile.ZipFile, name: str, limit: int, what: str) -> None:
    """Refuse an archive whose entries unpack to more than ``limit`` bytes in all, as
    declared or as *actually* inflated (every entry is inflated once, counting)."""
    infos = zf.infolist()
    unpacked = sum(i.file_size for i in infos)  # as declared; then as actually inflated
    if unpacked <= limit:
        unpacked = 0
        try:
            for info in infos:
                unpacked += _inflated_size(zf, info, limit - unpacked)
                if unpacked > limit:
                    break
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            raise InputError(
                N_("%(name)s: the archive is damaged (%(exc)s)"), name=name, exc=exc
            ) from None
    if unpacked > limit:
        raise InputError(
            N_(
                "%(name)s: unpacks to more than %(limit)s (the limit for %(what)s); it is refused unread"
            ),
            name=name,
            limit=_mib(limit),
            what=what,
        )


def safe_zip(path: Path, name: str | None = None) -> str:
    """Check a zipped Shapefile before GDAL opens it; return the path of the .shp inside.

    ``name`` is what messages call the file (default: ``path``'s name).  Refused: more
    than :data:`MAX_ZIP_ENTRIES` entries, absolute or ``..`` paths, symbolic links,
    encrypted entries, a compression ratio over :data:`MAX_ZIP_RATIO`, a declared or
    *actual* unpacked total over :func:`max_unzipped_bytes` (:func:`check_unzipped`).
    """
    name = name or path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InputError(N_("%(name)s: not a ZIP archive"), name=name) from None
    limit = max_unzipped_bytes()
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise InputError(
                N_("%(name)s: holds %(count)s entries; a zipped Shapefile has a handful"),
                name=name,
                count=len(infos),
            )
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > limit or total / packed > MAX_ZIP_RATIO:
            raise InputError(
                N_(
                    "%(name)s: unpacks to %(total)s bytes, too large to be a Shapefile (at most %(limit)s)"
                ),
                name=name,
                total=total,
                limit=_mib(limit),
            )
        shps = []
        for i in infos:
            entry = i.filename
            if entry.startswith("/") or ".." in Path(entry).parts or "\\" in entry or ":" in entry:
                raise InputError(
                    N_("%(name)s: unsafe path %(entry)r inside the archive"), name=name, entry=entry
                )
            if (i.external_attr >> 16) & 0o170000 == 0o120000:
                raise InputError(
                    N_("%(name)s: %(entry)r is a symbolic link"), name=name, entry=entry
                )
            if i.flag_bits & 0x1:
                raise InputError(N_("%(name)s: %(entry)r is encrypted"), name=name, entry=entry)
            if entry.lower().endswith(".shp"):
                shps.append(entry)
        if len(shps) != 1:
            raise InputError(
                N_("%(name)s: must hold exactly one .shp file, holds %(count)s"),
                name=name,
                count=len(shps),
            )
        base = shps[0][:-4]
        names = {i.filename.lower() for i in infos}
        for ext in (".shx", ".dbf"):
            if (base + ext).lower() not in names:
                raise InputError(
                    N_("%(name)s: %(base)s%(ext)s is missing from the archive"),
                    name=name,
                    base=base,
                    ext=ext,
                )
        if (base + ".prj").lower() not in names:
            raise InputError(
                N_("%(name)s: %(base)s.prj is missing: the Shapefile's CRS is unknown"),
                name=name,
                base=base,
            )
        check_unzipped(zf, name, limit, "a zipped Shapefile")
    return f"/vsizip/{path.resolve()}/{shps[0]}"


#: format → the content kinds (geoapp.io.uploads.sniff) a file of that format may hold
CONTENT_KINDS = {
    "geojson": {"json"},
    "csv": {"text"},
    "xlsx": {"zip"},
    "parquet": {"parquet"},
    "gpkg": {"sqlite"},
    "shpzip": {"zip"},
}


def check_content(path: Path, fmt: str, data: bytes | None = None) -> None:
    """Refuse a file whose content is not what its suffix says (e.g. a ZIP named .geojson)."""
    from geoapp.io.uploads import sniff

    allowed = CONTENT_KINDS.get(fmt)
    if not allowed:
        return
    if data is None:
        with _readable(path), open(path, "rb") as fh:
            data = fh.read(8192)
    if not data:
        raise InputError(N_("%(name)s: the file is empty"), name=path.name)
    kind = sniff(data)
    if kind not in allowed:
        raise InputError(
            N_(
                "%(name)s: the content is %(kind)s, not %(fmt)s; the file name does not match what the file holds"
            ),
            name=path.name,
            kind=kind,
            fmt=fmt,
        )
