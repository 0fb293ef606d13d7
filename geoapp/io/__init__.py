"""Files in and out: boundary files (GeoJSON, GPKG, zipped Shapefile, GeoParquet), problem
sheets (CSV in UTF-8 or GBK, XLSX), uploaded bytes checked by their content, and formula-safe
spreadsheet cells.

May import: ``geoapp.core`` and third-party readers (geopandas/pyogrio, openpyxl, pyarrow).
Never the store, the services, the web layer or the CLI.
"""
