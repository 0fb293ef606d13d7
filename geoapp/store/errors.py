"""Errors raised by the storage layer.

Every error the store raises on purpose is a :class:`StoreError` (or a subclass), with a
message meant for people: it names the bad value and never carries a raw traceback, SQL text
or a database password.  The original driver error, when there is one, stays available as
``__cause__``.
"""

from geoapp.core.messages import Explained


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
