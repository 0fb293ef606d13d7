"""Tables of rows: CSV (UTF-8 or GBK; comma, semicolon or tab) and XLSX read into a DataFrame
of text cells, with the header checked and each row's location kept for messages; :func:`find_column` finds a column by any of its usual names.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd

from geoapp.core.messages import N_
from geoapp.io.errors import BadRow, InputError
from geoapp.io.files import _read_bytes, check_unzipped, decode_text, max_xlsx_unzipped_bytes


# --- tables (CSV / XLSX) -----------------------------------------------------------
def read_table(path: Path, data: bytes | None = None) -> tuple[pd.DataFrame, list[str]]:
    """A CSV or XLSX file as a DataFrame of strings plus each row's location."""
    path = Path(path)
    if data is None:
        data = _read_bytes(path)
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path.name, data)
    text = decode_text(data, path.name)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(
            N_("%(name)s: line %(line_num)s: %(exc)s"),
            name=path.name,
            line_num=reader.line_num,
            exc=exc,
        ) from None
    if not rows:
        raise InputError(N_("%(name)s: the file is empty"), name=path.name)
    header = [h.strip() for h in rows[0]]
    _check_header(path.name, header)
    records, where = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                N_("%(name)s: line %(number)s has %(count)s fields, the header has %(count2)s"),
                [BadRow.of(f"line {number}", (N_("wrong number of fields"), {}))],
                name=path.name,
                number=number,
                count=len(row),
                count2=len(header),
            )
        records.append([cell.strip() for cell in row])
        where.append(f"line {number}")
    return pd.DataFrame(records, columns=header, dtype=object), where


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


def _read_xlsx(name: str, data: bytes) -> tuple[pd.DataFrame, list[str]]:
    """The first sheet of a workbook, streamed row by row (openpyxl read-only) after its
    unpacked size was counted (:func:`check_unzipped`, :func:`max_xlsx_unzipped_bytes`)."""
    import openpyxl

    book = None
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
        records, where = [], []
        width = len(header)
        blank = None  # the rows openpyxl makes up for the row numbers a sheet skips
        for number, row in enumerate(
            sheet.iter_rows(min_row=2, max_col=width, values_only=True), start=2
        ):
            if number > XLSX_MAX_ROWS:
                raise InputError(
                    N_("%(name)s: more than %(limit)s rows, not an Excel sheet"),
                    name=name,
                    limit=XLSX_MAX_ROWS,
                )
            # a row far down (r="1048576") is preceded by a million made-up empty rows:
            # passed over at once (openpyxl gives the same tuple for each), not cell by cell
            if row is blank or row.count(None) == len(row):
                blank = row
                continue
            cells = [_cell_text(v).strip() for v in row]
            cells = (cells + [""] * width)[:width]
            if any(cells):
                records.append(cells)
                where.append(f"row {number}")
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a crafted file makes openpyxl raise
        # (broken XML is an xml.etree ParseError, a SyntaxError), opening it or reading it
        raise InputError(
            N_("%(name)s: not a readable XLSX workbook (%(error)s)"),
            name=name,
            error=exc.__class__.__name__,
        ) from None
    finally:
        if book is not None:
            book.close()
    return pd.DataFrame(records, columns=header, dtype=object), where


def find_column(columns, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None
