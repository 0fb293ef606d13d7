"""Store operations of the field (phone) pages: a report by the id its phone gave it, a
photo of a problem by its content, the stage of a photo.

A mixin of :class:`geoapp.store.Transaction` (so every method here is also on the
:class:`~geoapp.store.Store`, each call in its own transaction).  Imports only the plumbing,
schema and value converters of this package, and SQLAlchemy.
"""

from typing import Any

import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import NotFound, StoreError
from geoapp.store.plumbing import TransactionBase

#: The stages a photo may be marked with (NULL: a photo of the problem as reported).
PHOTO_STAGES = frozenset({"after"})


class FieldOperations(TransactionBase):
    """Reads and writes of reports sent from phones (mixed into ``Transaction``)."""

    def problem_by_client_id(self, client_id: str) -> dict[str, Any] | None:
        """The problem reported with this client id, or None."""
        key = V.convert(client_id, V.to_text, "problem", "client_id")
        rows = self._dicts(sa.select(S.problems).where(S.problems.c.client_id == key))
        return rows[0] if rows else None

    def photo_by_content(self, problem_pk: int, sha256: str) -> dict[str, Any] | None:
        """The photo of ``problem_pk`` whose stored bytes have this SHA-256, or None (the
        first one, should the same bytes have been stored twice before)."""
        ph = S.problem_photos
        pk = V.convert(problem_pk, V.to_int, "photo", "problem_pk")
        rows = self._dicts(
            sa.select(ph)
            .where(ph.c.problem_pk == pk, ph.c.sha256 == str(sha256))
            .order_by(ph.c.id)
            .limit(1)
        )
        return rows[0] if rows else None

    def set_photo_stage(self, photo_id: int, stage: str | None) -> None:
        """Mark a photo as taken at a stage of the problem (``"after"``: rectified)."""
        if stage is not None and stage not in PHOTO_STAGES:
            raise StoreError(N_("unknown photo stage %(stage)r"), stage=stage)
        pid = V.convert(photo_id, V.to_int, "photo", "id")
        done = self._x(
            sa.update(S.problem_photos).where(S.problem_photos.c.id == pid).values(stage=stage)
        )
        if done.rowcount != 1:
            raise NotFound(N_("unknown photo id %(photo_id)r"), photo_id=photo_id)
