"""The store's layout: what differs between SQLite and PostGIS is said in one module."""

import ast
from pathlib import Path

import geoapp.store
from geoapp.store.backends import PostgisBackend, SqliteBackend
from geoapp.store.engine import OPERATIONS, PostgisTransaction, Transaction

STORE = Path(geoapp.store.__file__).resolve().parent
#: The modules allowed to look at which database they run on: the backends (and how each one's
#: engine is opened), and the column type that stores timestamps as text on SQLite (the
#: migrations are frozen history).
DIALECT_AWARE = {"backends.py", "opening.py", "schema.py"}


def _dialect_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "dialect":
            found.append(f"{path.name}:{node.lineno} .dialect")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.startswith(("psycopg", "sqlalchemy.dialects")):
                    found.append(f"{path.name}:{node.lineno} import {name}")
    return found


def test_only_the_backends_module_looks_at_the_database_kind() -> None:
    bad = []
    for path in sorted(STORE.glob("*.py")):
        if path.name not in DIALECT_AWARE:
            bad += _dialect_uses(path)
    assert not bad, "put backend differences in geoapp/store/backends.py: " + ", ".join(bad)


def test_the_check_sees_a_dialect_test(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from sqlalchemy.dialects.sqlite import insert\n"
        "def f(conn):\n    return conn.dialect.name == 'postgresql'\n"
    )
    assert len(_dialect_uses(sneaky)) == 2


def test_each_backend_fills_in_the_same_hooks() -> None:
    def hooks(cls: type) -> set[str]:
        return {name for name, value in vars(cls).items() if callable(value)}

    assert hooks(SqliteBackend) == hooks(PostgisBackend)
    assert {"_bulk_insert", "_rows_with_keys", "areas_covering"} <= hooks(SqliteBackend)
    for name in hooks(PostgisBackend):
        assert getattr(PostgisTransaction, name) is getattr(PostgisBackend, name)
        assert getattr(Transaction, name) is getattr(SqliteBackend, name)


def test_every_store_module_is_short_and_says_what_lives_there() -> None:
    for path in sorted(STORE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), path.name
        assert text.count("\n") <= 500, f"{path.name}: {text.count(chr(10))} lines"


def test_operations_come_from_every_aggregate() -> None:
    owners = {getattr(Transaction, name).__module__ for name in OPERATIONS}
    assert owners == {
        "geoapp.store.accounts",
        "geoapp.store.areas",
        "geoapp.store.audit",
        "geoapp.store.backends",
        "geoapp.store.engine",
        "geoapp.store.coverage",
        "geoapp.store.field",
        "geoapp.store.generations",
        "geoapp.store.inspection_points",
        "geoapp.store.ledger_queries",
        "geoapp.store.ogc_queries",
        "geoapp.store.problem_bulk",
        "geoapp.store.problem_queries",
        "geoapp.store.problems",
        "geoapp.store.reference",
    }
