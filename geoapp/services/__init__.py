"""Use cases, one module per capability: mapping and lookups (``mapping``, ``queries``), the
OGC API read side (``ogc``), problem intake and workflow (``intake``, ``problem_workflow``,
``photos``, ``deadlines``, ``sheet_import``), the ledger and its files (``ledger``,
``ledger_files``), boundary editing and publishing (``editor``, ``editor_edits``,
``editor_review``, ``editor_areas``), accounts (``accounts``), batch assignment with dask
(``batch``) and the audit entry every write makes (``audit``).

Services take a store (through its interface, ``geoapp.store``) and plain values, and
return plain data; the CLI and the web views call them and nothing below them.
May import: ``geoapp.core``, ``geoapp.io``, ``geoapp.store``.  Never ``geoapp.web`` or
``geoapp.cli``.
"""
