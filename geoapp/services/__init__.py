"""Use cases, one module per capability.

Who answers for a place: the assignment index and the lookup of a point (``mapping``);
importing problems (``problem_import``, its column-wise row checks in ``problem_checks``)
and boundary sets (``boundary_import``); loading a
county folder such as the demo (``county``); assigning a file of points without a database
(``assign_files``); the errors use cases raise (``errors``).

The read side behind the map and the JSON API: its query parameters (``query_params``), the
reference data and labels (``reference``), one consistent cached read (``reading``), the
map's layers and search (``map_features``), problem lists, details, clusters and totals
(``problem_reads``), the ETags of conditional GETs (``etags``), with the GeoJSON pieces
(``geojson``) and Beijing times (``times``) they share; the OGC API read side (``ogc``).

Problem intake and workflow (``intake``, ``problem_workflow``, ``photos``, ``deadlines``,
``sheet_import``), the ledger and its files (``ledger``, ``ledger_files``), boundary editing
and publishing (``editor``, ``editor_edits``, ``editor_review``, ``editor_areas``), accounts (``accounts``),
batch assignment with dask (``batch``) and the audit entry every write makes (``audit``).
Phones in the field: a report stored once per the id its phone gave it, a unit's work list
and rectification with an after-photo (``field``).

Services take a store (through its interface, ``geoapp.store``) and plain values, and
return plain data; the CLI and the web views call them and nothing below them.
May import: ``geoapp.core``, ``geoapp.io``, ``geoapp.store``.  Never ``geoapp.web`` or
``geoapp.cli``.
"""
