"""``python -m geoapp.cli``: the same as the ``geoapp`` command."""

from geoapp.cli import main

main(prog_name="geoapp")
