"""Turn caller values (Python, numpy or pandas scalars) into the plain types the tables take.

Each converter returns the converted value or raises ``ValueError`` with a short reason; the
caller adds which row and field it was.  Missing values (None, NaN, ``pd.NA``, ``pd.NaT``)
become None.
"""

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..domain import DB_INT_MAX
from ..textcheck import describe, text_fault
from .errors import InvalidValue
from .schema import UTCDateTime

Converter = Callable[[Any], Any]


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def to_text(value: Any) -> str | None:
    if isinstance(value, str):
        fault = text_fault(value)
        if fault:
            raise ValueError(describe(fault))
        return str(value)
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"expected text, got {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    raise ValueError(f"expected text, got {type(value).__name__} {value!r}")


def to_float(value: Any) -> float | None:
    if type(value) is float:
        return None if math.isnan(value) else value
    if is_missing(value):
        return None
    if isinstance(value, str):
        try:
            return to_float(float(value))
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    return float(value)


def to_int(value: Any) -> int | None:
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and float(value).is_integer()
    ):
        out = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        out = int(value.strip())
    else:
        raise ValueError(f"expected an integer, got {type(value).__name__} {value!r}")
    if not -DB_INT_MAX <= out <= DB_INT_MAX:
        raise ValueError(f"{out} is out of range for a stored integer")
    return out


def to_datetime(value: Any) -> datetime | None:
    if is_missing(value):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
    elif isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif isinstance(value, np.datetime64):
        raise ValueError(f"{value!r} has no UTC offset (numpy datetimes are naive)")
    if not isinstance(value, datetime):
        if isinstance(value, date):
            raise ValueError(f"expected a date-time with a UTC offset, got the date {value!r}")
        raise ValueError(f"expected a date-time, got {type(value).__name__} {value!r}")
    if value.utcoffset() is None:
        raise ValueError(
            f"{value.isoformat()!r} has no UTC offset; give one (e.g. +08:00) or a UTC time"
        )
    return value.astimezone(UTC)


def to_bytes(value: Any) -> bytes | None:
    if is_missing(value):
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise ValueError(f"expected bytes, got {type(value).__name__}")


def to_bool(value: Any) -> bool | None:
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {value!r}")


def converter_for(column: sa.Column[Any]) -> Converter:
    type_ = column.type
    if isinstance(type_, UTCDateTime):
        return to_datetime
    if isinstance(type_, sa.Integer):
        return to_int
    if isinstance(type_, sa.Float):
        return to_float
    if isinstance(type_, sa.LargeBinary):
        return to_bytes
    if isinstance(type_, sa.String):
        return to_text
    if isinstance(type_, sa.Boolean):
        return to_bool
    raise TypeError(f"no converter for {type_!r}")  # pragma: no cover


def converters(table: sa.Table) -> dict[str, Converter]:
    return {c.name: converter_for(c) for c in table.columns}


def convert(value: Any, conv: Converter, where: str, field: str) -> Any:
    try:
        return conv(value)
    except ValueError as exc:
        raise InvalidValue(f"{where}: {field}: {exc}") from None


def coerce_row(
    row: Mapping[str, Any],
    convs: Mapping[str, Converter],
    *,
    where: str,
    allowed: Iterable[str] | None = None,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Check field names, convert values and check required fields of one input row.

    ``convs`` maps each accepted field to its converter; ``allowed`` narrows it further.
    """
    if not isinstance(row, Mapping):
        raise InvalidValue(f"{where}: expected a mapping of field names to values, got {row!r}")
    if allowed is not None:
        convs = {k: convs[k] for k in allowed}
    out: dict[str, Any] = {}
    for key, value in row.items():
        conv = convs.get(key)
        if conv is None:
            known = ", ".join(sorted(convs))
            raise InvalidValue(f"{where}: unknown field {key!r} (known fields: {known})")
        kind = type(value)
        if kind is str and conv is to_text and text_fault(value) is None:
            out[key] = value  # the common case, without a call
            continue
        if (kind is int and conv is to_int) or value is None:
            out[key] = value  # the common cases, without a call
            continue
        try:
            out[key] = conv(value)
        except ValueError as exc:
            raise InvalidValue(f"{where}: {key}: {exc}") from None
    for key in required:
        if out.get(key) is None:
            raise InvalidValue(f"{where}: {key} is required")
    return out
