"""The HTML pages, one blueprint per capability: ``map`` (the county map, districts, units,
basemap tiles), ``ledger`` (the ledger page, its print view and exports), ``intake`` (the
report form, the sheet import, a problem's page and photos), ``editor`` (the boundary editor
and the generations), ``admin`` (audit log, accounts), ``auth`` (sign in and out) and ``ogc``
(OGC API - Features for QGIS and GDAL), ``field`` (the phone pages under ``/field/``: the
report page with its offline queue, a unit's work list, the web app's manifest and service
worker).  ``common`` holds what every page uses.  The factory
(:mod:`geoapp.web.app`) registers each module's ``bp``; an endpoint is ``<blueprint>.<view>``,
the key of the permission table (:mod:`geoapp.web.permissions`).

Views are thin: read the request, call ``geoapp.services``, render.  May import:
``geoapp.core``, ``geoapp.services``, the store's interface ``geoapp.store``, the web layer's
shared modules (``geoapp.web.context``, ``actor``, ``permissions``, ``maps``, ``api``),
flask and folium; never ``geoapp.web.app`` or ``geoapp.cli``.
"""
