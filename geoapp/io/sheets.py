"""Cells for spreadsheets people open in Excel or WPS: text stays text.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
as a formula by a spreadsheet opening a CSV file (OWASP "CSV injection"), and openpyxl
writes a string beginning with ``=`` as a live formula in XLSX.  Descriptions, ids and
names come from the people who report problems, so:

* CSV: such a text is written with a leading single quote (``'=1+1``), OWASP's advice;
  a text that is just a number (``-5``, ``+3.5``) is left alone: it cannot be a formula.
* XLSX: every text is a string cell (``data_type 's'``), never a formula, whatever it
  begins with; characters XML cannot hold (control characters other than tab, line feed
  and carriage return, lone surrogates, U+FFFE and U+FFFF) become U+FFFD instead of
  failing the whole export.  The workbooks the application writes are streamed by
  :mod:`geoapp.io.xlsx_stream`; :func:`xlsx_cells` serves openpyxl.

Numbers, booleans and None pass through unchanged in both.  No Flask here.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def csv_text(value: Any) -> Any:
    """A CSV cell's value: a text a spreadsheet would run as a formula gets a leading ``'``."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def csv_row(values) -> list[Any]:
    """A CSV row: None as an empty cell, texts made safe by :func:`csv_text`."""
    return ["" if v is None else csv_text(v) for v in values]


def xlsx_cells(ws, values) -> list[Any]:
    """A row for openpyxl's ``ws.append`` (write-only sheets too): each text as a string
    cell that can never be a formula; other values (and ready-made cells) unchanged."""
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(ws, value=xlsx_text(value))
            cell.data_type = "s"
            value = cell
        out.append(value)
    return out


def xlsx_text(value: str) -> str:
    """A text as an XLSX string cell can hold it (control characters as U+FFFD)."""
    return _NOT_IN_XML.sub("\ufffd", value)


def csv_safe_frame(frame):
    """A copy of ``frame`` whose text cells are made safe by :func:`csv_text`."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or str(safe[column].dtype).startswith("str"):
            safe[column] = safe[column].map(csv_text)
    safe.columns = [csv_text(str(c)) for c in safe.columns]
    return safe
