"""Files in and out: boundary files (GeoJSON, GPKG, zipped Shapefile, GeoParquet), problem
sheets (CSV in UTF-8 or GBK, XLSX), uploaded bytes checked by their content, and formula-safe
spreadsheet cells.

What lives where: ``files`` (the uploaded bytes: suffix, temporary file, text decoding,
content and ZIP checks), ``boundaries`` (areas), ``points`` (problem points), ``tables``
(CSV/XLSX rows), ``geojson`` (GeoJSON documents), ``writers`` (points written back out),
``errors`` (``InputError``, ``BadRow``), ``uploads`` (the kind of an upload read from its
content, server-chosen names), ``sheets`` (spreadsheet-safe cells) and ``xlsx_stream`` (the
XLSX writer: workbooks of any size streamed in flat memory).

May import: ``geoapp.core`` and third-party readers (geopandas/pyogrio, openpyxl, pyarrow).
Never the store, the services, the web layer or the CLI.
"""
