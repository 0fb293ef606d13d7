"""The errors of the use cases: :class:`ServiceError` (a use case cannot go ahead, HTTP 400)
and :class:`NothingPublished` (no boundary generation is published yet, HTTP 409).  Each
carries its HTTP status; :mod:`geoapp.web.errors` maps them, the CLI prints their message.
"""

from __future__ import annotations

from geoapp.core.messages import Explained


class ServiceError(Explained):
    """A use case cannot go ahead; the message (a template, see messages.py) says why, for a
    person to read."""

    status = 400


class NothingPublished(ServiceError):
    status = 409
