"""Synthetic demo county (X县城) for geoapp.

``python -m geoapp.demo [--out DIR]`` regenerates the files in ``data/geojson`` byte for byte;
see :mod:`geoapp.demo.generate` and ``data/geojson/README.md``.  Standalone: it may import
``geoapp.core`` only, and writes plain files the loader reads.
"""
