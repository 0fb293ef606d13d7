"""geoapp: responsibility zones, problem points and the deduction ledger for a
sanitary-county campaign.

``create_app(config=None)`` builds the Flask app (application-factory pattern).
"""

from __future__ import annotations

__version__ = "0.1.0"


def create_app(config: dict | None = None):
    """Build the Flask app; ``config`` overrides settings (see :mod:`geoapp.config`)."""
    from .web import build_app

    return build_app(config)
