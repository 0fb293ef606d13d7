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

from geoapp.core.messages import N_, Explained
from geoapp.core.model import DB_INT_MAX
from geoapp.core.textcheck import NUL, text_fault
from geoapp.store.errors import InvalidValue
from geoapp.store.schema import UTCDateTime

Converter = Callable[[Any], Any]


class BadValue(Explained, ValueError):
    """A value that does not fit its field (a ValueError; the store reports it as
    :class:`InvalidValue` naming the row and the field)."""


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def to_text(value: Any) -> str | None:
    if isinstance(value, str):
        fault = text_fault(value)
        if fault == NUL:
            raise BadValue(N_("contains a NUL character (U+0000), which cannot be stored"))
        if fault:
            raise BadValue(N_("contains a lone surrogate, which is not valid Unicode"))
        return str(value)
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        raise BadValue(N_("expected text, got %(value)r"), value=value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    raise BadValue(
        N_("expected text, got %(name)s %(value)r"), name=type(value).__name__, value=value
    )


def to_float(value: Any) -> float | None:
    if type(value) is float:
        return None if math.isnan(value) else value
    if is_missing(value):
        return None
    if isinstance(value, str):
        try:
            return to_float(float(value))
        except ValueError:
            raise BadValue(N_("expected a number, got %(value)r"), value=value) from None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise BadValue(
            N_("expected a number, got %(name)s %(value)r"), name=type(value).__name__, value=value
        )
    return float(value)


def to_int(value: Any) -> int | None:
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        raise BadValue(N_("expected an integer, got %(value)r"), value=value)
    if isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and float(value).is_integer()
    ):
        out = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        out = int(value.strip())
    else:
        raise BadValue(
            N_("expected an integer, got %(name)s %(value)r"),
            name=type(value).__name__,
            value=value,
        )
    if not -DB_INT_MAX <= out <= DB_INT_MAX:
        raise BadValue(N_("%(out)s is out of range for a stored integer"), out=out)
    return out


def to_datetime(value: Any) -> datetime | None:
    if is_missing(value):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise BadValue(N_("not an ISO 8601 date-time: %(value)r"), value=value) from None
    elif isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif isinstance(value, np.datetime64):
        raise BadValue(N_("%(value)r has no UTC offset (numpy datetimes are naive)"), value=value)
    if not isinstance(value, datetime):
        if isinstance(value, date):
            raise BadValue(
                N_("expected a date-time with a UTC offset, got the date %(value)r"), value=value
            )
        raise BadValue(
            N_("expected a date-time, got %(name)s %(value)r"),
            name=type(value).__name__,
            value=value,
        )
    if value.utcoffset() is None:
        raise BadValue(
            N_("%(isoformat)r has no UTC offset; give one (e.g. +08:00) or a UTC time"),
            isoformat=value.isoformat(),
        )
    return value.astimezone(UTC)


def to_bytes(value: Any) -> bytes | None:
    if is_missing(value):
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise BadValue(N_("expected bytes, got %(name)s"), name=type(value).__name__)


def to_bool(value: Any) -> bool | None:
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    raise BadValue(N_("expected true or false, got %(value)r"), value=value)


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
        raise InvalidValue(
            N_("%(where)s: %(field)s: %(exc)s"), where=where, field=field, exc=exc
        ) from None


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
        raise InvalidValue(
            N_("%(where)s: expected a mapping of field names to values, got %(row)r"),
            where=where,
            row=row,
        )
    if allowed is not None:
        convs = {k: convs[k] for k in allowed}
    out: dict[str, Any] = {}
    for key, value in row.items():
        conv = convs.get(key)
        if conv is None:
            known = ", ".join(sorted(convs))
            raise InvalidValue(
                N_("%(where)s: unknown field %(key)r (known fields: %(known)s)"),
                where=where,
                key=key,
                known=known,
            )
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
            raise InvalidValue(
                N_("%(where)s: %(key)s: %(exc)s"), where=where, key=key, exc=exc
            ) from None
    for key in required:
        if out.get(key) is None:
            raise InvalidValue(N_("%(where)s: %(key)s is required"), where=where, key=key)
    return out
