"""``python -m geoapp.cli``: the same as the ``geoapp`` command."""

from geoapp.cli import main

if __name__ == "__main__":  # not when a tool imports every module (tests/test_architecture.py)
    main(prog_name="geoapp")
