"""The rows of an inspection sheet checked a batch at a time, column by column (numpy and
pandas, no Python loop over the good rows): :func:`check_batch` turns a
:class:`~geoapp.io.points.PointTable` into a frame of clean problem rows and the bad rows,
each named by its line with every reason, in the order and words the row-by-row check used
(round, category, deduction, reported time, status, rectified time, then text that cannot be
stored, column by column).

Times: :func:`parse_times` gives :func:`parse_time`'s answer for every cell; the common
shapes (``2024-04-01 08:30[:15]``, ``2024/04/01``, ...) are read by one regular expression,
anything else (Chinese dates, ISO times with an offset, a year before 1992, when Beijing
time still had summer time) by :func:`parse_time` itself, so both ways agree by construction.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from geoapp.core.messages import N_
from geoapp.core.model import PROBLEM_COLUMNS, status_code
from geoapp.core.textcheck import text_fault
from geoapp.io.errors import BadRow, InputError
from geoapp.io.points import PointTable
from geoapp.io.tables import find_column
from geoapp.services.times import LOCAL_TZ

#: The years a time may fall in (as the date filters' range).
FIRST_YEAR, LAST_YEAR = 1900, 9998
#: From this year on Beijing time is UTC+8 all year (no summer time since 1991).
_FIXED_OFFSET_FROM = 1992
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)


def parse_time(value) -> str | None:
    """An ISO 8601 string with an offset; naive times are Beijing time. None if unreadable
    or outside the years FIRST_YEAR to LAST_YEAR."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    for fmt in _FORMATS:
        try:
            dt = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    else:
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    if not FIRST_YEAR <= dt.year <= LAST_YEAR:
        return None  # year 1 or 9999 with an offset leaves datetime's range in UTC
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=LOCAL_TZ)
    return dt.isoformat(timespec="seconds")


def parse_times(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parse_time` of every cell (stripped text or None): the ISO strings (None
    where unreadable) and the same instants as seconds since 1970 UTC (int64; meaningless
    where the string is None)."""
    n = len(texts)
    iso = np.full(n, None, dtype=object)
    epoch = np.zeros(n, dtype=np.int64)
    given = np.flatnonzero(pd.notna(texts))
    if not len(given):
        return iso, epoch
    fast, local, seconds = _plain_times(texts[given])
    rows = given[fast]
    iso[rows] = local + "+08:00"
    epoch[rows] = seconds - 8 * 3600
    for i in given[~fast]:
        text = parse_time(texts[i])
        iso[i] = text
        if text is not None:
            epoch[i] = int((datetime.fromisoformat(text) - _EPOCH).total_seconds())
    return iso, epoch


def _plain_times(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which cells are ``YYYY-MM-DD[ HH:MM[:SS]]`` (or with ``/``) of a real date from 1992
    on, read from their characters as numbers: (mask, their local ISO text without offset,
    their local time as seconds since 1970)."""
    full = texts.astype(str)
    lengths = np.char.str_len(full)
    chars = full.astype("U19")
    code = chars.view(np.uint32).reshape(len(chars), 19).astype(np.int64)
    digit = (code >= 48) & (code <= 57)
    value = code - 48

    def number(*positions):
        out = np.zeros(len(chars), dtype=np.int64)
        for p in positions:
            out = out * 10 + value[:, p]
        return out

    date_ok = digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1)
    date_ok &= np.isin(code[:, 4], (45, 47)) & (code[:, 7] == code[:, 4])
    clock = lengths >= 16
    date_ok &= np.isin(lengths, (10, 16, 19))
    date_ok &= ~clock | ((code[:, 10] == 32) & (code[:, 13] == 58))
    date_ok &= ~clock | digit[:, [11, 12, 14, 15]].all(axis=1)
    with_seconds = lengths == 19
    date_ok &= ~with_seconds | ((code[:, 16] == 58) & digit[:, [17, 18]].all(axis=1))
    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    hour = np.where(clock, number(11, 12), 0)
    minute = np.where(clock, number(14, 15), 0)
    second = np.where(with_seconds, number(17, 18), 0)
    fast = date_ok & (year >= _FIXED_OFFSET_FROM) & (year <= LAST_YEAR)
    fast &= (month >= 1) & (month <= 12) & (day >= 1) & (hour <= 23) & (minute <= 59)
    fast &= second <= 59
    months = np.where(fast, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first_day = months.astype("datetime64[D]")
    month_days = ((months + 1).astype("datetime64[D]") - first_day).astype(np.int64)
    fast &= day <= month_days
    days = first_day.astype(np.int64) + day - 1
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    keep = np.flatnonzero(fast)
    stamps = np.datetime_as_string(seconds[keep].astype("datetime64[s]"), unit="s")
    return fast, stamps.astype(object), seconds[keep]


def _texts(frame: pd.DataFrame, column: str | None, plain: bool) -> np.ndarray:
    """A column as stripped text, None where empty; ``plain`` when every cell is already
    stripped text (a CSV or XLSX sheet)."""
    if column is None:
        return np.full(len(frame), None, dtype=object)
    values = frame[column].to_numpy(dtype=object)
    if plain:
        out = values.copy()
        out[values == ""] = None
        return out
    out = np.full(len(values), None, dtype=object)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        s = str(v).strip()
        out[i] = s or None
    return out


def _lookup(values: np.ndarray, fn: Callable) -> np.ndarray:
    """``fn`` of every cell, called once per distinct value (None included)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    answers = np.empty(len(uniques) + 1, dtype=object)
    for k, u in enumerate(uniques):
        answers[k] = fn(u)
    answers[-1] = fn(None)
    return answers[codes]


def _numbers(texts: np.ndarray) -> np.ndarray:
    """float() of every cell (NaN where empty or not a number)."""
    out = np.full(len(texts), np.nan)
    given = np.flatnonzero(pd.notna(texts))
    try:
        out[given] = texts[given].astype(float)
    except (ValueError, TypeError):
        for i in given:
            with contextlib.suppress(ValueError):
                out[i] = float(texts[i])
    return out


def _bad_text(texts: np.ndarray) -> np.ndarray:
    """Where a cell holds text no database can store (NUL, lone surrogate)."""
    hit = np.zeros(len(texts), dtype=bool)
    given = [t for t in texts if t is not None]
    if given and _BAD_TEXT.search("\x01".join(given)):
        hit[:] = [t is not None and text_fault(t) is not None for t in texts]
    return hit


def _faults(frame: pd.DataFrame, cols: dict, text: dict, plain: bool) -> dict[str, np.ndarray]:
    """:func:`_bad_text` of every field; a sheet's cells (``plain``: text already) are
    first searched all at once, and a sheet without a NUL or a lone surrogate anywhere (the
    usual one) needs no search per field."""
    if plain:
        cells = [frame[c].to_numpy(dtype=object).tolist() for c in cols.values() if c]
        if not any(_BAD_TEXT.search("\x01".join(column)) for column in cells):
            return {f: np.zeros(len(frame), dtype=bool) for f in text}
    return {f: _bad_text(t) for f, t in text.items()}


def problem_columns(frame: pd.DataFrame) -> dict[str, str | None]:
    """The sheet's column for each problem field; refuses a sheet without round or category."""
    cols = {f: find_column(frame.columns, names) for f, names in PROBLEM_COLUMNS.items()}
    for required in ("round", "category"):
        if cols[required] is None:
            raise InputError(
                N_("the file has no %(required)s column (named %(names)s)"),
                required=required,
                names="/".join(PROBLEM_COLUMNS[required]),
            )
    return cols


def category_codes(categories: list[dict]) -> dict[str, str]:
    """A category by its code or its Chinese name."""
    by_code = {c["category"]: c["category"] for c in categories}
    by_code.update({c["name_zh"]: c["category"] for c in categories if c.get("name_zh")})
    return by_code


def check_batch(table: PointTable, by_code: dict[str, str]) -> tuple[pd.DataFrame, list[BadRow]]:
    """Validate a batch of rows: the clean ones as a frame (problem_id, round, category,
    description, deduction, reported_at (ISO text), reported_s (seconds since 1970 UTC),
    status, reporter, rectified_at (ISO text or None), rectified_s, lon, lat, source_crs,
    source_x, source_y, _where) and the bad ones (coordinate faults from the reader first
    named, then these checks), sorted by line."""
    frame = table.frame
    cols = problem_columns(frame)
    plain = table.fmt in ("csv", "xlsx")
    text = {f: _texts(frame, c, plain) for f, c in cols.items()}
    n = len(frame)
    where = np.asarray(list(table.where), dtype=object)
    skip = np.zeros(n, dtype=bool)
    if table.bad:
        bad_where = {b.where for b in table.bad}
        skip[:] = [w in bad_where for w in where]
    no_round = pd.isna(text["round"])
    category = _lookup(text["category"], lambda t: by_code.get(t) if t else None)
    no_category = pd.isna(category)
    deduction = _numbers(text["deduction"])
    has_deduction = pd.notna(text["deduction"])
    deduction[~has_deduction] = 0.0
    with np.errstate(invalid="ignore"):
        bad_deduction = ~np.isfinite(deduction) | (deduction < 0) | (deduction > 100)
    reported, reported_s = parse_times(text["reported_at"])
    no_time = pd.isna(reported)
    status = _lookup(text["status"], status_code)
    no_status = pd.isna(status)
    rectified, rectified_s = parse_times(text["rectified_at"])
    has_rectified = pd.notna(text["rectified_at"])
    closed = np.isin(status, ["rectified", "verified"])
    bad_rectified = has_rectified & (
        pd.isna(rectified) | ~closed | (~no_time & (rectified_s < reported_s))
    )
    faults = _faults(frame, cols, text, plain)
    failed = (no_round | no_category | bad_deduction | no_time | no_status | bad_rectified) & ~skip
    for hit in faults.values():
        failed |= hit & ~skip
    found = {
        "no_round": no_round,
        "no_category": no_category,
        "bad_deduction": bad_deduction,
        "no_time": no_time,
        "reported": reported,
        "no_status": no_status,
        "status": status,
        "bad_rectified": bad_rectified,
        "rectified": rectified,
        "closed": closed,
        "faults": faults,
    }
    bad = list(table.bad)
    for i in np.flatnonzero(failed):
        bad.append(BadRow.of(str(where[i]), *_reasons(i, text, found)))
    bad.sort(key=lambda b: int(b.where.rsplit(" ", 1)[1]) if b.where[-1].isdigit() else 0)
    keep = np.flatnonzero(~(failed | skip))
    source_crs = (
        np.asarray(table.row_crs, dtype=object)[keep]
        if table.row_crs
        else np.full(len(keep), table.crs.code, dtype=object)
    )
    description = text["description"][keep]
    description[pd.isna(description)] = ""
    reporter = text["reporter"][keep]
    reporter[pd.isna(reporter)] = ""
    rect = np.where(has_rectified[keep], rectified[keep], None)
    clean = pd.DataFrame(
        {
            "problem_id": pd.Series(text["problem_id"][keep], dtype=object),
            "round": pd.Series(text["round"][keep], dtype=object),
            "category": pd.Series(category[keep], dtype=object),
            "description": pd.Series(description, dtype=object),
            "deduction": deduction[keep],
            "reported_at": pd.Series(reported[keep], dtype=object),
            "reported_s": reported_s[keep],
            "status": pd.Series(status[keep], dtype=object),
            "reporter": pd.Series(reporter, dtype=object),
            "rectified_at": pd.Series(rect, dtype=object),
            "rectified_s": np.where(has_rectified[keep], rectified_s[keep], -1),
            "lon": np.asarray(table.lon, dtype=float)[keep],
            "lat": np.asarray(table.lat, dtype=float)[keep],
            "source_crs": pd.Series(source_crs, dtype=object),
            "source_x": np.asarray(table.src_x, dtype=float)[keep],
            "source_y": np.asarray(table.src_y, dtype=float)[keep],
            "_where": pd.Series(where[keep], dtype=object),
        }
    )
    return clean, bad


def _reasons(i: int, text: dict, found: dict) -> list[tuple[str, dict]]:
    """The reasons row ``i`` is bad, in the order the row-by-row check gave them."""
    reasons: list[tuple[str, dict]] = []
    if found["no_round"][i]:
        reasons.append((N_("the inspection round is empty"), {}))
    if found["no_category"][i]:
        cat_text = text["category"][i]
        reasons.append(
            (N_("unknown category %(value)r"), {"value": cat_text})
            if cat_text
            else (N_("the category is empty"), {})
        )
    if found["bad_deduction"][i]:
        reasons.append(
            (
                N_("deduction %(value)r is not a number between 0 and 100"),
                {"value": text["deduction"][i]},
            )
        )
    if found["no_time"][i]:
        when_text = text["reported_at"][i]
        reasons.append(
            (N_("reported time %(value)r is not a date and time"), {"value": when_text})
            if when_text
            else (N_("the reported time is empty"), {})
        )
    if found["no_status"][i]:
        reasons.append((N_("unknown status %(value)r"), {"value": text["status"][i]}))
    if found["bad_rectified"][i]:
        value = text["rectified_at"][i]
        if found["rectified"][i] is None:
            reasons.append(
                (N_("rectified time %(value)r is not a date and time"), {"value": value})
            )
        elif not found["closed"][i]:
            reasons.append(
                (
                    N_("a rectified time is given but the status is %(status)s (not rectified)"),
                    {"status": found["status"][i]},
                )
            )
        else:
            reasons.append(
                (
                    N_("rectified time %(value)r is before the reported time %(reported)r"),
                    {"value": value, "reported": found["reported"][i]},
                )
            )
    for column, hit in found["faults"].items():
        if hit[i]:
            reasons.append(
                (
                    N_(
                        "the %(field)s holds a NUL character or a lone surrogate, "
                        "which cannot be stored"
                    ),
                    {"field": column},
                )
            )
    return reasons
