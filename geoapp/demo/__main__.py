"""``python -m geoapp.demo [--out DIR]``: regenerate the synthetic demo county."""

from __future__ import annotations

import argparse
from pathlib import Path

from geoapp.demo.generate import DEFAULT_OUT, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m geoapp.demo",
        description="Regenerate the synthetic demo county (byte-for-byte reproducible).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output directory (default: {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)
    counts = generate(args.out)
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    print(f"wrote {args.out}: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
