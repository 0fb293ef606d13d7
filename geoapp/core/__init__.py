"""The pure domain: what a district, an area, a unit and a problem are, and every rule
about them that needs no file, no database and no web request.

Here: the model and its vocabularies (``model``), the assignment engine (``grid``,
``assignment``) and the category rules (``routing``), boundary validation and diffs
(``zoning``) and editing operations (``editing``), CRS conversion (``crs``), deadlines and
the problem workflow (``deadlines``, ``workflow``), report checks and duplicate finding
(``intake``), ledger arithmetic (``ledger``), chart geometry (``charts``), clustering,
colours, roles and credentials (``accounts``), and the translatable error base (``messages``).

May import: the standard library, numpy, pandas, shapely, pyproj and werkzeug's password
hashing, and other modules of ``geoapp.core``.  Never flask, folium, sqlalchemy, or any
other geoapp package (tests/test_architecture.py enforces it).
"""
