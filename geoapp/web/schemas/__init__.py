"""Request and response schemas of the ``/api/`` JSON routes, as pydantic models, one module
per capability: :mod:`.map` (reads of the map and problems), :mod:`.ledger`, :mod:`.intake`
(the writes about problems, photos, deadlines, imports) and :mod:`.editor` (boundary
drafts).  The same models validate request bodies in the views (:func:`base.body`) and make
the OpenAPI document (:mod:`geoapp.web.openapi`), so the two cannot disagree.

May import pydantic, flask and geoapp's domain constants; nothing imports the views.
"""

from __future__ import annotations

from geoapp.web.schemas import coverage, editor, intake, ledger, map
from geoapp.web.schemas.base import Route, body

#: every documented operation, in the document's order
ROUTES: list[Route] = [
    *map.ROUTES,
    *ledger.ROUTES,
    *intake.ROUTES,
    *editor.ROUTES,
    *coverage.ROUTES,
]

__all__ = ["ROUTES", "Route", "body"]
