"""The JSON API under ``/api/``: one blueprint (``api``, so every endpoint is ``api.<name>`` in
the permission table and the document), its routes in one module per capability:

* ``map``: lookups, districts, areas, units, problems, clusters, search, summary (read)
* ``ledger``: the deduction ledger
* ``intake``: reporting, workflow, photos, deadlines, sheet imports (write)
* ``editor``: drafts, edits, preview, publish, rollback, compare, export (write)
* ``docs``: the OpenAPI document, generated from :mod:`geoapp.web.schemas`

The app factory imports the route modules; this ``__init__`` holds only the blueprint, so
that they can import it without an import cycle.  Conditional GETs, the answer cache and the
argument helpers the routes share are in :mod:`geoapp.web.answers`.  May import what the web
layer may (see :mod:`geoapp.web`).
"""

from flask import Blueprint

bp = Blueprint("api", __name__)
