"""What goes wrong reading a file: :class:`InputError` (a file that cannot be read) and
:class:`BadRow` (one bad row or feature: where it is and what is wrong, in a form a page can
show in the reader's language). Every reader in :mod:`geoapp.io` raises these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geoapp.core.messages import Explained, fill, plain


@dataclass(frozen=True)
class BadRow:
    """One bad input row: where it is and what is wrong.

    ``reason`` is English; ``messages`` holds the (template, values) pairs it was made from,
    so that a page can show it in the reader's language (``BadRow.of``)."""

    where: str
    reason: str
    messages: tuple[tuple[str, dict], ...] = field(default=(), compare=False, hash=False)

    @classmethod
    def of(cls, where: str, *messages: tuple[str, dict]) -> BadRow:
        """A bad row from N_-marked templates with %(name)s fields and their values (kept
        as JSON values: anything but a string or a number is written as text)."""
        kept = tuple((t, {k: plain(v) for k, v in values.items()}) for t, values in messages)
        return cls(where, "; ".join(fill(t, v) for t, v in kept), kept)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class InputError(Explained, ValueError):
    """A file that cannot be read, with the bad rows when there are any."""

    def __init__(self, message: str, /, bad: list[BadRow] | None = None, **values):
        self.bad = list(bad or [])
        super().__init__(message, **values)

    def describe(self, limit: int = 20) -> str:
        lines = [str(self)]
        lines += [f"  {b}" for b in self.bad[:limit]]
        if len(self.bad) > limit:
            lines.append(f"  ... and {len(self.bad) - limit} more")
        return "\n".join(lines)
