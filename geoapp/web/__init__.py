"""The Flask side: the app factory, blueprints by capability, error mapping, security,
language selection and the API's request/response schemas.

``build_app`` (in :mod:`geoapp.web.app`, called by ``geoapp.create_app``) is this package's
interface; the factory wires the rest: request-time helpers in :mod:`geoapp.web.context`
(store, clock, language), who is asking in :mod:`geoapp.web.actor`, the permission table in
:mod:`geoapp.web.permissions`, CSRF and headers in :mod:`geoapp.web.security`, the HTML pages
by capability in :mod:`geoapp.web.views`, the JSON API in ``api*.py`` and OGC API - Features
in ``views/ogc.py``.

Views are thin: they parse the request, call a use case of ``geoapp.services`` and shape the
answer.  May import: ``geoapp.core``, ``geoapp.io``, ``geoapp.services``, the store's interface
``geoapp.store`` (never its modules), flask and folium.  Never ``geoapp.cli``.  No module of
the package imports this ``__init__`` (views take ``get_store`` from ``geoapp.web.context``).
"""

from geoapp.web.app import build_app

__all__ = ["build_app"]
