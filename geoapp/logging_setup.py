"""The application's logs: the standard :mod:`logging`, configured once per process.

One handler on the root logger writes every record to standard error (systemd's journal,
or gunicorn's error log) as a line of text or, with ``GEOAPP_LOG_JSON=1``, one JSON object
per line for a log collector.  gunicorn's own loggers use the same handler and format
(:func:`gunicorn_logconfig`).  A record written while a request is served carries that
request's id (``request_id``), so a traceback and the request's line share it.

Nothing here logs request bodies, headers or query strings: a password, a token, a session
cookie or a photo's bytes never reach a log line.  SQLAlchemy's SQL echo (which would show
bound parameters) stays off whatever the level.
"""

from __future__ import annotations

import json
import logging
import sys
import time

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(request_id)s %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: fields a record may carry (``extra=``) that the JSON format writes as its own keys
REQUEST_FIELDS = ("request_id", "method", "rule", "status", "duration_ms", "user", "role")
#: loggers kept quiet below WARNING: their INFO lines would repeat ours (werkzeug's request
#: lines, with query strings) or show SQL parameters (SQLAlchemy)
QUIET = ("werkzeug", "sqlalchemy", "alembic.runtime.migration")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id()
        return True


def _current_request_id() -> str:
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover - flask is a dependency
        return "-"
    if has_request_context():
        return str(g.get("request_id") or "-")
    return "-"


class TextFormatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the request's fields
    when the record has them, and the traceback as text."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        for key in REQUEST_FIELDS:
            value = getattr(record, key, None)
            if value is not None and value != "-":
                out[key] = value
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["traceback"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when the record is emitted (a test runner or a
    daemon may replace it after the handler was made)."""

    geoapp = True  # the one handler :func:`configure` looks for

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _formatter(json_format: bool) -> logging.Formatter:
    return JsonFormatter() if json_format else TextFormatter()


def check_level(level: str) -> str:
    name = str(level).strip().upper()
    if name not in LEVELS:
        raise ValueError(f"GEOAPP_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
    return name


def configure(level: str = "INFO", json_format: bool = False) -> logging.Handler:
    """Send the process's logs to standard error in the chosen format and level.

    Called by every app factory and CLI start; the handler is made once per process and
    only its level and format change on later calls."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "geoapp", False)), None)
    if handler is None:
        handler = StderrHandler()
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(_formatter(json_format))
    root.setLevel(check_level(level))
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def gunicorn_logconfig(level: str = "INFO", json_format: bool = False) -> dict:
    """gunicorn's ``logconfig_dict``: its error log in our handler and format (its access
    log is off: the app writes one line per request itself)."""
    formatter = (
        "geoapp.logging_setup.JsonFormatter"
        if json_format
        else ("geoapp.logging_setup.TextFormatter")
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "geoapp.logging_setup.RequestIdFilter"}},
        "formatters": {"geoapp": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "geoapp.logging_setup.StderrHandler",
                "formatter": "geoapp",
                "filters": ["request_id"],
            }
        },
        "root": {"level": check_level(level), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {
                "level": check_level(level),
                "handlers": ["stderr"],
                "propagate": False,
            },
            "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        },
    }
