"""Catching the statements the store runs on problems, to ask the database for their plans."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event


def problem_selects(engine, run: Callable[[], object]) -> list[tuple[str, object]]:
    """(statement, parameters) of every SELECT (or WITH ... SELECT) on problems that ``run()`` executes."""
    seen: list[tuple[str, object]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().upper()
        if verb.startswith(("SELECT", "WITH")) and "FROM problems" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert seen, "no query on problems"
    return seen
