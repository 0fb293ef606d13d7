"""The release of geoapp (one place: the package, the caches and the API document use it)."""

__version__ = "0.1.0"
