"""A streaming XLSX writer: any number of rows in flat memory, fast.

A workbook is a zip of XML parts; each sheet's XML is built row by row with string joins,
a few hundred rows at a time, into a temporary file (the sheet's XML begins with its
extent, known at the end), then deflated into the zip (level 1: fast, a little larger than
XlsxWriter's output): memory does not grow with the rows.
The rules of the cells:

* text is an inline string cell (``t="inlineStr"``), never a formula, whatever it begins
  with (``=``, ``+``, ``-``, ``@`` ...); a carriage return is written as a line feed and
  characters XML cannot hold as U+FFFD (:func:`geoapp.io.sheets.xlsx_text`); a text that
  spells Excel's own escape (``_x0041_``) is escaped (``_x005F_x0041_``) so that Excel shows
  it as typed; an empty text is an empty cell;
* int and float (numpy ones too) are number cells; NaN and infinities, and None, are
  empty cells; booleans are boolean cells;
* ``datetime`` / ``date`` values are Excel dates (days since 1899-12-30, the wall-clock
  time; a zone is dropped) shown as ``yyyy-mm-dd hh:mm`` / ``yyyy-mm-dd`` unless the
  column has a number format of its own;
* anything else is written as its text.

A sheet has column widths (in characters, as Excel's column width box), a bold shaded
header row that stays frozen at the top, and a number format per column if asked.  No
Flask here.

    with StreamWorkbook(out) as book:
        percent = book.number_format("0.0%")
        with book.sheet("Sheet", widths=[12, 30], formats={1: percent}) as sheet:
            sheet.header(["a", "b"])
            sheet.rows(rows)
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, BinaryIO, NamedTuple, cast

from geoapp.io.sheets import xlsx_text

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
#: rows gathered before they are encoded and deflated
FLUSH_ROWS = 500
#: escaped texts kept for reuse (names, categories, statuses repeat on every page of rows)
ESCAPED_KEPT = 4096
#: bytes copied at a time from a sheet's rows into the workbook
COPY_BYTES = 1 << 20
#: a sheet part this large gets zip64 sizes (not all readers like them on small ones)
ZIP64_FROM = 1 << 31
#: the first style (after the default): the header row's
HEADER_STYLE = 1
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_END = object()
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def column_letter(index: int) -> str:
    """Excel's name of a column (0 → A, 25 → Z, 26 → AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _escape(text: str) -> str:
    """Text as the content of an XML element, by the cell rules in the module's docstring."""
    if not text.isprintable():  # control characters, line breaks, surrogates ...
        text = xlsx_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(lambda m: "_x005F" + m.group(0), text)
    return text


def _attribute(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


def _excel_days(value: date) -> float:
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - _EXCEL_EPOCH
        return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return float((value - _EXCEL_EPOCH.date()).days)


class StreamWorkbook:
    """A workbook written as it goes into ``out`` (a path or a binary file, which is left
    at the end of the workbook); one sheet at a time (:meth:`sheet`)."""

    def __init__(self, out: BinaryIO | str, level: int = 1) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level)
        self._titles: list[str] = []
        self._formats: list[str] = []  # number formats of the styles after the header's
        self._open = False

    def __enter__(self) -> StreamWorkbook:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.close()
        else:  # the zip is finished, the workbook is not: the caller throws it away
            self._zip.close()

    def number_format(self, code: str) -> int:
        """The style of cells shown with Excel's number format ``code`` (e.g. ``0.0%``)."""
        if code not in self._formats:
            self._formats.append(code)
        return HEADER_STYLE + 1 + self._formats.index(code)

    def sheet(
        self,
        title: str,
        widths: Sequence[float] = (),
        formats: dict[int, int] | None = None,
        freeze_header: bool = True,
    ) -> SheetWriter:
        """A new sheet (after the ones before), written by the returned writer, which must
        be closed (a ``with`` block) before the next sheet.  ``widths``: in characters, of
        the first columns; ``formats``: column index → a style of :meth:`number_format`."""
        if self._open:
            raise RuntimeError("the previous sheet is still being written")
        taken = {t.casefold() for t in self._titles}
        if (
            not title
            or len(title) > 31
            or _BAD_TITLE.search(title)
            or title.startswith("'")
            or title.endswith("'")
            or title.casefold() in taken
        ):
            raise ValueError(f"not a usable sheet title: {title!r}")
        self._titles.append(title)
        self._open = True
        first = len(self._titles) == 1
        return SheetWriter(self, first, widths, formats, freeze_header)

    def _add_sheet(self, head: bytes, body: BinaryIO, tail: bytes) -> None:
        """The sheet's part: ``head``, the rows kept in the file ``body``, ``tail``."""
        part = f"xl/worksheets/sheet{len(self._titles)}.xml"
        size = len(head) + body.seek(0, 2) + len(tail)
        with self._zip.open(part, "w", force_zip64=size >= ZIP64_FROM) as stream:
            stream.write(head)
            body.seek(0)
            shutil.copyfileobj(body, stream, COPY_BYTES)
            stream.write(tail)
        self._open = False

    def close(self) -> None:
        """Write the workbook's own parts and finish the zip."""
        if self._zip.fp is None:
            return
        if self._open:  # failed while writing a sheet: the zip is finished, the book is not
            self._zip.close()
            return
        if not self._titles:
            self.sheet("Sheet1").close()
        count = len(self._titles)
        self._part("[Content_Types].xml", self._content_types(count))
        self._part(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        sheets = "".join(
            f'<sheet name="{_attribute(t)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, t in enumerate(self._titles, 1)
        )
        self._part(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews>'
            f'<workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>',
        )
        links = "".join(
            f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        self._part(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PACKAGE_REL_NS}">{links}<Relationship '
            f'Id="rId{count + 1}" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>',
        )
        self._part("xl/styles.xml", self._styles())
        self._zip.close()

    def _part(self, name: str, xml: str) -> None:
        self._zip.writestr(name, XML_HEAD + xml)

    def _content_types(self, count: int) -> str:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            f'ContentType="{OFFICE_TYPE}.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        return (
            f'<Types xmlns="{CONTENT_NS}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{OFFICE_TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{OFFICE_TYPE}.styles+xml"/>'
            f"{sheets}</Types>"
        )

    def _styles(self) -> str:
        formats = "".join(
            f'<numFmt numFmtId="{164 + i}" formatCode="{_attribute(code)}"/>'
            for i, code in enumerate(self._formats)
        )
        numbered = "".join(
            f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>'
            for i in range(len(self._formats))
        )
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        return (
            f'<styleSheet xmlns="{MAIN_NS}">'
            f'<numFmts count="{len(self._formats)}">{formats}</numFmts>'
            f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
            '<fills count="3"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill>'
            '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/>'
            '<bgColor indexed="64"/></patternFill></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            f'<cellXfs count="{2 + len(self._formats)}">'
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
            'applyFill="1" applyAlignment="1"><alignment horizontal="center" '
            'vertical="center" wrapText="1"/></xf>'
            f"{numbered}</cellXfs>"
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )


class SheetWriter:
    """Rows of one sheet, in order (see :meth:`StreamWorkbook.sheet`)."""

    def __init__(self, book, first, widths, formats, freeze_header) -> None:
        self._book = book
        # the rows wait in a temporary file: the sheet's XML begins with its extent
        # (<dimension>), which readers use to square the rows
        self._body = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._formats = dict(formats or {})
        self._letters: list[str] = []
        self._styles: list[str] = []  # ' s="N"' or '' per column
        self._row = 0
        self._pending: list[str] = []
        self._escaped: dict[str, str] = {}  # text → as written, for texts that repeat
        selected = ' tabSelected="1"' if first else ""
        view = f'<sheetView{selected} workbookViewId="0">'
        if freeze_header:
            view += (
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            )
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{_stored_width(w)}" customWidth="1"/>'
            for i, w in enumerate(widths, 1)
        )
        self._head = (
            f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><dimension ref="{{}}"/>'
            f'<sheetViews>{view}</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
        )

    def __enter__(self) -> SheetWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.close()
        else:
            self._body.close()

    def header(self, values: Iterable[Any]) -> None:
        """A row in the header style (bold, shaded, centred)."""
        self._write(values, header=True)

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self._write(values)

    def row(self, values: Iterable[Any]) -> None:
        self._write(values)

    def _columns(self, count: int) -> None:
        for i in range(len(self._letters), count):
            self._letters.append(column_letter(i))
            style = self._formats.get(i)
            self._styles.append(f' s="{style}"' if style else "")

    def _write(self, values: Iterable[Any], header: bool = False) -> None:
        values = values if isinstance(values, (list, tuple)) else list(values)
        if len(values) > len(self._letters):
            self._columns(len(values))
        self._row += 1
        n = str(self._row)
        styles = [f' s="{HEADER_STYLE}"'] * len(values) if header else self._styles
        cells = [f'<row r="{n}">']
        add = cells.append
        escaped = self._escaped
        for letter, style, value in zip(self._letters, styles, values, strict=False):
            kind = type(value)
            if kind is str:
                text = escaped.get(value)
                if text is None:
                    if len(escaped) >= ESCAPED_KEPT:
                        escaped.clear()
                    text = escaped[value] = _escape(value)
                add(
                    f'<c r="{letter}{n}"{style} t="inlineStr"><is><t xml:space="preserve">'
                    f"{text}</t></is></c>"
                )
            elif kind is int:
                add(f'<c r="{letter}{n}"{style}><v>{value}</v></c>')
            elif kind is float:
                if math.isfinite(value):
                    add(f'<c r="{letter}{n}"{style}><v>{value!r}</v></c>')
                elif style:
                    add(f'<c r="{letter}{n}"{style}/>')
            elif value is None:
                if style:
                    add(f'<c r="{letter}{n}"{style}/>')
            else:
                add(self._other(letter + n, style, value))
        add("</row>")
        self._pending.append("".join(cells))
        if len(self._pending) >= FLUSH_ROWS:
            self._flush()

    def _other(self, ref: str, style: str, value: Any) -> str:
        """The cell of a value that is not a str, int, float or None."""
        if hasattr(value, "item") and not isinstance(value, (datetime, date)):
            value = value.item()  # a numpy scalar
        if isinstance(value, bool):
            return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (int, float)):
            value = float(value) if isinstance(value, float) else int(value)
            if isinstance(value, float) and not math.isfinite(value):
                return f'<c r="{ref}"{style}/>' if style else ""
            return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
        if value is None or value != value:  # NaT
            return f'<c r="{ref}"{style}/>' if style else ""
        if isinstance(value, (datetime, date)):
            if not style:
                code = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
                style = f' s="{self._book.number_format(code)}"'
            return f'<c r="{ref}"{style}><v>{_excel_days(value)!r}</v></c>'
        return (
            f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">'
            f"{_escape(str(value))}</t></is></c>"
        )

    def _flush(self) -> None:
        if self._pending:
            self._body.write("".join(self._pending).encode())
            self._pending.clear()

    def close(self) -> None:
        if self._body.closed:
            return
        self._flush()
        extent = f"A1:{self._letters[-1]}{self._row}" if self._row and self._letters else "A1"
        tail = (
            b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
            b'header="0.3" footer="0.3"/></worksheet>'
        )
        try:
            self._book._add_sheet(self._head.format(extent).encode(), self._body, tail)
        finally:
            self._body.close()


class Table(NamedTuple):
    """One sheet of :func:`write_tables`: its rows, header first (any iterable: it is read
    as it is written); ``widths``: column → width in characters, for the columns whose
    width is not fitted to their text; ``formats``: column → Excel number format."""

    title: str
    rows: Iterable[Sequence[Any]]
    widths: Mapping[int, float] = {}
    formats: Mapping[int, str] = {}


#: the rows of an Excel sheet
EXCEL_MAX_ROWS = 1_048_576
#: rows whose texts decide the columns' widths
WIDTH_ROWS = 500


def write_tables(
    out: BinaryIO | str, tables: Iterable[Table], max_rows: int = EXCEL_MAX_ROWS
) -> None:
    """A workbook of one sheet per table: the first row in the header style and frozen, the
    columns as wide as the longest text in their first :data:`WIDTH_ROWS` rows (8 to 40
    characters) unless given.  A table longer than a sheet holds (``max_rows``, header
    included: Excel's 1,048,576) goes on in sheets titled "title (2)", "title (3)" ...,
    each with the header."""
    with StreamWorkbook(out) as book:
        for table in tables:
            rows = iter(table.rows)
            first = list(itertools.islice(rows, WIDTH_ROWS + 1))
            columns = max((len(r) for r in first), default=0)
            widths = [table.widths.get(i) or fitted_width(first, i) for i in range(columns)]
            formats = {i: book.number_format(code) for i, code in table.formats.items()}
            header = first[:1]
            body = itertools.chain(first[1:], rows)
            for part in itertools.count(1):
                title = table.title if part == 1 else f"{table.title[:24]} ({part})"
                with book.sheet(title, widths, formats) as sheet:
                    for row in header:
                        sheet.header(row)
                    sheet.rows(itertools.islice(body, max_rows - len(header)))
                following = next(body, _END)
                if following is _END:
                    break
                body = itertools.chain([cast(Sequence[Any], following)], body)


def write_frame(frame, out: BinaryIO | str) -> None:
    """A DataFrame as a one-sheet workbook (header row, then one row per record), every text
    a string cell; NaN and None as empty cells; numpy numbers as plain numbers; any other
    value (a timestamp ...) as its text."""
    import pandas as pd

    def rows():
        yield [str(c) for c in frame.columns]
        for record in frame.itertuples(index=False, name=None):
            row = []
            for value in record:
                if hasattr(value, "item") and not isinstance(value, str):
                    value = value.item()  # numpy scalar
                if value is None or (not isinstance(value, str) and pd.isna(value)):
                    value = None
                elif not isinstance(value, (str, int, float, bool)):
                    value = str(value)
                row.append(value)
            yield row

    write_tables(out, [Table("Sheet1", rows())])


def fitted_width(rows: Sequence[Sequence[Any]], index: int) -> float:
    """The width (characters; a CJK character counts two) of column ``index`` that holds the
    longest of its texts in ``rows`` (the first :data:`WIDTH_ROWS`) and 2 more, 8 to 40."""
    longest = max((_text_width(r[index]) for r in rows[:WIDTH_ROWS] if index < len(r)), default=8)
    return float(min(max(longest + 2, 8), 40))


def _text_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _stored_width(width: float) -> float:
    """A column width as stored: Excel adds the cell's padding (5 pixels at 7 pixels a
    character, Calibri 11) to the characters its width box shows."""
    if width <= 0:
        return 0.0
    stored = (int(width * 7 + 0.5) + 5) / 7 if width >= 1 else width
    return math.floor(stored * 256) / 256  # Excel keeps 1/256 of a character
