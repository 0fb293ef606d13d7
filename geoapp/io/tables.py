"""Tables of rows: CSV (UTF-8 or GBK; comma, semicolon or tab) and XLSX read into a DataFrame
of text cells, with the header checked and each row's location kept for messages; :func:`find_column` finds a column by any of its usual names.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from geoapp.core.messages import N_
from geoapp.io.errors import BadRow, InputError
from geoapp.io.files import _read_bytes, _readable, check_unzipped, max_xlsx_unzipped_bytes

# --- tables (CSV / XLSX) -----------------------------------------------------------
#: rows per batch when a table is read in batches (:func:`iter_table`)
BATCH_ROWS = 50_000


def read_table(path: Path, data: bytes | None = None) -> tuple[pd.DataFrame, list[str]]:
    """A CSV or XLSX file as a DataFrame of strings plus each row's location."""
    frames, where = [], []
    for frame, lines in iter_table(path, data, batch_rows=1 << 62):
        frames.append(frame)
        where += lines
    return frames[0], where


def iter_table(
    path: Path, data: bytes | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[tuple[pd.DataFrame, list[str]]]:
    """A CSV or XLSX file in batches of at most ``batch_rows`` rows: each a DataFrame of
    stripped text cells (the header's columns) and each row's location ("line N" of a CSV,
    "row N" of a sheet).  Blank rows are left out; a CSV row with the wrong number of
    fields stops the reading with an InputError naming its line.  The file is streamed (a
    file on disk is never read whole), so memory stays flat in the file's size; the first
    batch always comes, empty when the file has a header only."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        if data is None:
            data = _read_bytes(path)
        header, rows = _xlsx_rows(path.name, data)
    else:
        header, rows = _csv_rows(path, data)
    records: list[list[str]] = []
    where: list[str] = []
    sent = False
    for location, cells in rows:
        records.append(cells)
        where.append(location)
        if len(records) >= batch_rows:
            yield pd.DataFrame(records, columns=header, dtype=object), where
            records, where, sent = [], [], True
    if records or not sent:
        yield pd.DataFrame(records, columns=header, dtype=object), where


def _csv_rows(path: Path, data: bytes | None) -> tuple[list[str], Iterator[tuple[str, list]]]:
    """The header of a CSV file and an iterator over its other rows ("line N", cells)."""
    stream = io.BytesIO(data) if data is not None else None
    if stream is None:
        with _readable(path):
            stream = open(path, "rb")  # noqa: SIM115 - closed by the row iterator
    try:
        encoding = _text_encoding(stream, path.name)
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        sample = text.read(4096)
        text.seek(0)
    except BaseException:
        stream.close()
        raise
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(text, delimiter=delimiter)

    def records() -> Iterator[list[str]]:
        try:
            yield from reader
        except csv.Error as exc:
            raise InputError(
                N_("%(name)s: line %(line_num)s: %(exc)s"),
                name=path.name,
                line_num=reader.line_num,
                exc=exc,
            ) from None

    rows = records()
    try:
        first = next(rows, None)
        if first is None:
            raise InputError(N_("%(name)s: the file is empty"), name=path.name)
        header = [h.strip() for h in first]
        _check_header(path.name, header)
    except BaseException:
        text.close()
        raise

    def body() -> Iterator[tuple[str, list]]:
        with text:
            # a row's line is where it starts in the file: a quoted cell may hold line breaks
            end = reader.line_num  # the header's last line
            for row in rows:
                number, end = end + 1, reader.line_num
                if not "".join(row).strip():  # every cell blank
                    continue
                if len(row) != len(header):
                    raise InputError(
                        N_(
                            "%(name)s: line %(number)s has %(count)s fields, the header has %(count2)s"
                        ),
                        [BadRow.of(f"line {number}", (N_("wrong number of fields"), {}))],
                        name=path.name,
                        number=number,
                        count=len(row),
                        count2=len(header),
                    )
                yield f"line {number}", list(map(str.strip, row))

    return header, body()


def _text_encoding(stream, name: str) -> str:
    """UTF-8 (with or without BOM) or, failing that, GB18030 (GBK, as Excel in China saves):
    the whole stream is decoded once in blocks to choose (as :func:`decode_text` does with
    bytes in memory), then rewound."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        stream.seek(0)
        done = pending = 0
        try:
            while block := stream.read(1 << 20):
                pending = len(decoder.getstate()[0])  # bytes of a character cut in two
                decoder.decode(block)
                done += len(block)
            pending = len(decoder.getstate()[0])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8-sig":
                stream.seek(0)
                head = stream.read(max(done - pending + exc.start, 0))
                utf8_line = head.count(b"\n") + 1
            continue
        stream.seek(0)
        return encoding
    raise InputError(
        N_("%(name)s: line %(line)s is neither UTF-8 nor GBK text; save the file as UTF-8"),
        name=name,
        line=utf8_line,
    )


def _check_header(name: str, header: list[str]) -> None:
    if not any(header):
        raise InputError(N_("%(name)s: the first row must name the columns"), name=name)
    seen = set()
    for h in header:
        if h in seen:
            raise InputError(
                N_("%(name)s: column %(h)r appears twice in the header"), name=name, h=h
            )
        seen.add(h)


#: rows in an Excel sheet; a row number past this is a crafted file
XLSX_MAX_ROWS = 1_048_576
#: entries in an XLSX archive (a workbook has a few dozen)
XLSX_MAX_ENTRIES = 10_000


def _cell_text(v) -> str:
    return "" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))


def _xlsx_rows(name: str, data: bytes) -> tuple[list[str], Iterator[tuple[str, list]]]:
    """The header of a workbook's first sheet and an iterator over its other rows
    ("row N", cells), streamed (openpyxl read-only) after its unpacked size was counted
    (:func:`check_unzipped`, :func:`max_xlsx_unzipped_bytes`)."""
    import openpyxl

    book = None

    def refuse(exc: Exception) -> InputError:
        # whatever a crafted file makes openpyxl raise (broken XML is an xml.etree
        # ParseError, a SyntaxError), opening it or reading it
        return InputError(
            N_("%(name)s: not a readable XLSX workbook (%(error)s)"),
            name=name,
            error=exc.__class__.__name__,
        )

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if len(zf.infolist()) > XLSX_MAX_ENTRIES:
                raise InputError(
                    N_("%(name)s: holds %(count)s entries, not a workbook"),
                    name=name,
                    count=len(zf.infolist()),
                )
            check_unzipped(zf, name, max_xlsx_unzipped_bytes(), "an XLSX workbook")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if not book.worksheets:
            raise InputError(N_("%(name)s: the workbook has no sheet"), name=name)
        sheet = book.worksheets[0]
        # the declared dimensions are not trusted: a sheet claiming column XFD would pad
        # every row to 16384 cells
        sheet.reset_dimensions()
        first = next(sheet.iter_rows(max_row=1, values_only=True), None)
        if first is None:
            raise InputError(N_("%(name)s: the first sheet is empty"), name=name)
        header = [_cell_text(h).strip() for h in first]
        while header and not header[-1]:
            header.pop()
        _check_header(name, header)
    except InputError:
        if book is not None:
            book.close()
        raise
    except Exception as exc:  # noqa: BLE001 - see refuse()
        if book is not None:
            book.close()
        raise refuse(exc) from None
    width = len(header)

    def body() -> Iterator[tuple[str, list]]:
        blank = None  # the rows openpyxl makes up for the row numbers a sheet skips
        try:
            for number, row in enumerate(
                sheet.iter_rows(min_row=2, max_col=width, values_only=True), start=2
            ):
                if number > XLSX_MAX_ROWS:
                    raise InputError(
                        N_("%(name)s: more than %(limit)s rows, not an Excel sheet"),
                        name=name,
                        limit=XLSX_MAX_ROWS,
                    )
                # a row far down (r="1048576") is preceded by a million made-up empty
                # rows: passed over at once (openpyxl gives the same tuple for each)
                if row is blank or row.count(None) == len(row):
                    blank = row
                    continue
                cells = [_cell_text(v).strip() for v in row]
                cells = (cells + [""] * width)[:width]
                if any(cells):
                    yield f"row {number}", cells
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - see refuse()
            raise refuse(exc) from None
        finally:
            book.close()

    return header, body()


def find_column(columns, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None
