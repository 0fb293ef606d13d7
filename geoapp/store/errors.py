"""Errors raised by the storage layer.

Every error the store raises on purpose is a :class:`StoreError` (or a subclass), with a
message meant for people: it names the bad value and never carries a raw traceback, SQL text
or a database password.  The original driver error, when there is one, stays available as
``__cause__``: :func:`database_error` turns a driver error into the right one.
"""

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from geoapp.core.messages import N_, Explained


class StoreError(Explained):
    """A storage operation could not be done; the message says why."""


class NotFound(StoreError, LookupError):
    """A row asked for by its key does not exist."""


class StaleVersion(StoreError):
    """A write was based on data that has changed since it was read (optimistic concurrency)."""


class InvalidValue(StoreError, ValueError):
    """A value given to the store does not fit its field (wrong type, out of range, unknown
    field, missing required field): the caller's input is wrong, not the store."""


class StoreUnavailable(StoreError):
    """The database cannot be reached: down, restarting, or the connection was lost.  Worth
    trying again in a moment (HTTP 503); the pool reconnects by itself when it is back."""


class SchemaOutOfDate(StoreError):
    """The database's schema is not the one this code needs (an empty database, one an
    older version left, or one a newer version already upgraded).  App servers refuse to
    start on it: the schema changes only by the deploy step ``geoapp db upgrade``."""


def safe_url(url: sa.URL) -> str:
    """The URL as text with any password masked."""
    return url.render_as_string(hide_password=True)


def _reason(exc: BaseException, url: sa.URL | None = None) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    line = text.splitlines()[0].strip() if text else type(orig).__name__
    if url is not None and url.password:
        line = line.replace(str(url.password), "***")
    return line


def database_error(exc: sa_exc.DBAPIError, url: sa.URL) -> StoreError:
    """A StoreError for a driver error: its first line, no SQL, no parameters, no password."""
    if isinstance(exc, sa_exc.IntegrityError):
        return StoreError(
            N_("the database refused the change: %(reason)s"), reason=_reason(exc, url)
        )
    if isinstance(exc, sa_exc.DataError) and not exc.connection_invalidated:
        # a value the database cannot take (NUL in text, a number out of range): the
        # caller's input, not an outage; retrying cannot help
        return InvalidValue(
            N_("the database refused a value: %(reason)s"), reason=_reason(exc, url)
        )
    if exc.connection_invalidated or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    ):
        return StoreUnavailable(
            N_("database unavailable (%(safe_url)s): %(reason)s"),
            safe_url=safe_url(url),
            reason=_reason(exc, url),
        )
    return StoreError(
        N_("database error (%(safe_url)s): %(reason)s"),
        safe_url=safe_url(url),
        reason=_reason(exc, url),
    )
