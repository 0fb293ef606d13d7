"""geoapp: responsibility zones, problem points and the deduction ledger for a
sanitary-county campaign.

``create_app(config=None)`` builds the Flask app (application-factory pattern).

Where things are (each package's docstring says what it may import)::

    core/      the pure domain: model, assignment engine, zoning, editing, CRS, deadlines,
               workflow, ledger arithmetic, clustering (numpy/pandas/shapely/pyproj only)
    io/        files in and out: boundary files, problem sheets, uploads (imports core)
    store/     the database behind one interface, ``geoapp.store`` (SQLite and PostGIS)
    services/  use cases by capability (import core, io and the store's interface)
    web/       the Flask app: blueprints by capability, errors, security, schemas
    cli/       the ``geoapp`` command, by capability
    demo/      the demo county generator
"""

from __future__ import annotations

from geoapp.version import __version__

__all__ = ["__version__", "create_app"]


def create_app(config: dict | None = None):
    """Build the Flask app; ``config`` overrides settings (see :mod:`geoapp.config`)."""
    from geoapp.web import build_app

    return build_app(config)
