"""Alembic migrations for the geoapp store (run by ``geoapp.store.Store.upgrade``)."""
