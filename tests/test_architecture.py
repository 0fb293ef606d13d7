"""Checks on the shape of the code and its documentation."""

import ast
from pathlib import Path

from geoapp import config

ROOT = Path(__file__).resolve().parent.parent
PURE = [
    "spatial.py",
    "grid.py",
    "routing.py",
    "zoning.py",
    "crs.py",
    "domain.py",
    "deadlines.py",
    "workflow.py",
    "intake.py",
    "editing.py",
    "ledger.py",
    "charts.py",
    "textcheck.py",
    "sheets.py",
]
FORBIDDEN = {"flask", "flask_babel", "sqlalchemy", "psycopg", "alembic", "werkzeug"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_pure_core_imports_neither_flask_nor_a_database():
    for name in PURE:
        bad = imported_modules(ROOT / "geoapp" / name) & FORBIDDEN
        assert not bad, f"geoapp/{name} imports {bad}"


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in config.SETTINGS if f"GEOAPP_{name}" not in readme]
    assert not missing, f"settings missing from the README's Configuration table: {missing}"


def test_pages_load_nothing_from_the_internet():
    for path in list((ROOT / "geoapp" / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, path


def test_every_ui_string_has_a_chinese_translation():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    with open(ROOT / "geoapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    method_map = [("geoapp/**.py", "python"), ("geoapp/templates/**.html", "jinja2")]
    used = {
        msg[2]
        for msg in extract_from_dir(str(ROOT), method_map, keywords={"_": None, "gettext": None})
    }
    missing = sorted(m for m in used if isinstance(m, str) and m not in translated)
    assert not missing, f"untranslated (run pybabel extract/update, then fill the .po): {missing}"
