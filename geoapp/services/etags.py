"""Conditional GET: the strong ETag of a read-side answer.

An answer depends on the code that made it (:data:`_CODE_TOKEN`, a hash of the whole
``geoapp`` package), the endpoint and its normalised query
(:func:`~geoapp.services.query_params.normalised_query`), the generation read, the store's
data version, the locale and, for answers carrying ``overdue`` flags, how many deadlines
have passed (:func:`deadlines_passed`).  :func:`etag` hashes them all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import numpy as np

from geoapp.core.deadlines import deadline
from geoapp.services.problem_reads import OVERDUE_STATUSES
from geoapp.services.query_params import Args, normalised_query
from geoapp.services.reading import _generation, _Read, _reading


def _code_token() -> str:
    """A hash of this package's code and translations: the same in every process and on
    every server running the same release (so any of them answers an ETag another one
    gave), different after an upgrade (so a client never keeps an answer older code made).
    """
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".mo") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


_CODE_TOKEN = _code_token()


def deadlines_passed(read: _Read, now: datetime) -> int:
    """How many deadlines of problems that can be overdue lie before ``now``.

    Every ``overdue`` flag in every answer is a function of the data and of this number
    alone (a flag turns on exactly when its deadline passes), so a cache key holding the
    data version and this number changes exactly when a flag may have changed.  The sorted
    deadlines are cached per data version (after a write only the changed problems are read
    again); a lookup is a binary search.
    """

    hours = {c: cat.get("deadline_hours") for c, cat in read.ref.categories.items()}

    def dues_of(rows) -> tuple[np.ndarray, np.ndarray]:
        pairs = [
            (pk, due.timestamp())
            for pk, reported_at, category in rows
            if (due := deadline(reported_at, hours.get(category))) is not None
        ]
        ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        at = np.fromiter((p[1] for p in pairs), dtype=np.float64, count=len(pairs))
        return ids, at

    def ordered(ids: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(at, kind="stable")
        return ids[order], at[order]

    def make() -> tuple[np.ndarray, np.ndarray]:
        return ordered(*dues_of(read.tx.problem_reports(OVERDUE_STATUSES)))

    def update(old_version, old) -> tuple[np.ndarray, np.ndarray] | None:
        """After a write, re-read only the problems changed since (as _points does)."""
        if old_version[1] != read.version["reference"]:
            return None  # a category's deadline changed: every due time may have
        changed = read.tx.problem_changes(old_version[0])
        if changed is None:
            return None
        keep = ~np.isin(old[0], np.asarray(changed, dtype=np.int64))
        fresh = dues_of(read.tx.problem_reports(OVERDUE_STATUSES, ids=changed))
        return ordered(
            np.concatenate([old[0][keep], fresh[0]]), np.concatenate([old[1][keep], fresh[1]])
        )

    version = (read.version["problems"], read.version["reference"])
    _, dues = read.cache.get("deadlines", "open", version, make, update)
    return int(np.searchsorted(dues, now.timestamp(), side="left"))


def etag(
    store,
    endpoint: str,
    args: Args,
    locale: str = "zh",
    view_args: Mapping | None = None,
    now: datetime | None = None,
) -> str:
    """A strong ETag for a GET: a hash of the endpoint, its normalised query, the generation
    it reads, the store's data version, the locale and (given ``now``) the number of
    deadlines passed by then (:func:`deadlines_passed`: the clock's part of every answer
    carrying ``overdue`` flags).  ``view_args`` carries the rest of what decides the
    answer (the reader's scope, the URL's parts).  Raises BadParameter for a bad or unknown
    ``generation``."""
    with _reading(store) as read:
        gen = _generation(read, args)
        version = read.version
        passed = None if now is None else deadlines_passed(read, now)
    payload = [
        _CODE_TOKEN,
        endpoint,
        sorted((k, str(v)) for k, v in (view_args or {}).items()),
        normalised_query(args),
        gen["id"] if gen else None,
        version,
        str(locale),
        passed,
    ]
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
