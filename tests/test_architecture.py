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


#: the translation keywords geoapp uses: N_ marks a template translated later (messages.py)
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2), "lazy_gettext": None}


def test_every_ui_string_has_a_chinese_translation():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    with open(ROOT / "geoapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    method_map = [("geoapp/**.py", "python"), ("geoapp/templates/**.html", "jinja2")]
    used = {msg[2] for msg in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS)}
    used = {m for msgid in used for m in (msgid if isinstance(msgid, tuple) else (msgid,))}
    missing = sorted(m for m in used if m not in translated)
    assert not missing, f"untranslated (run pybabel extract/update, then fill the .po): {missing}"


def _domain_errors() -> dict[str, type]:
    """Every domain error class (a subclass of messages.Explained) by name."""
    import importlib
    import pkgutil

    import geoapp
    from geoapp.messages import Explained

    for info in pkgutil.walk_packages(geoapp.__path__, "geoapp."):
        if not info.name.startswith(("geoapp.demo", "geoapp.wsgi", "geoapp.migrations")):
            importlib.import_module(info.name)
    found, todo = {}, [Explained]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def _template_problem(call: ast.Call, cls: type) -> str | None:
    """Why this construction of a domain error is not the template form, or None."""
    import re

    index = cls.message_arg
    if len(call.args) <= index:
        return "no message"
    message = call.args[index]
    options = [message.body, message.orelse] if isinstance(message, ast.IfExp) else [message]
    for option in options:
        if not (
            isinstance(option, ast.Call)
            and isinstance(option.func, ast.Name)
            and option.func.id == "N_"
            and len(option.args) == 1
            and isinstance(option.args[0], ast.Constant)
            and isinstance(option.args[0].value, str)
        ):
            return "the message is not N_(a literal)"
        template = option.args[0].value
        fields = set(re.findall(r"%\((\w+)\)", template))
        if re.search(r"%(?!\(\w+\)|%)", template) or "{}" in template:
            return "a positional placeholder in the template"
        given = {k.arg for k in call.keywords}
        if fields - given:
            return f"no value for {sorted(fields - given)}"
    return None


def test_every_domain_error_is_raised_with_a_translatable_template():
    """A domain error reaches the user in the reader's language only when its message is an
    N_-marked literal with named fields given as keywords (no f-string, no str(exc), no
    concatenation): walk every construction of one in geoapp/."""
    errors = _domain_errors()
    bad = []
    for path in sorted((ROOT / "geoapp").rglob("*.py")):
        if path.name == "messages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in errors:
                continue
            problem = _template_problem(node, errors[name])
            if problem:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}: {problem}")
    assert len(errors) > 20
    assert not bad, "\n".join(bad)


def test_every_message_has_named_placeholders_and_its_translation_keeps_them():
    """A positional placeholder (%s, %d, {}) lets a translation only keep the English word
    order ("个问题点已重新分配 10"); a translation that drops or renames a field loses a value.
    Every msgid in the catalogue and in the code uses named fields, and every msgstr has the
    same ones."""
    import re

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    named = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdrfgixXeE]")
    positional = re.compile(r"%(?!\(\w+\)|%)[-#0 +]*\d*(?:\.\d+)?[sdrfgixXeE]|\{\d*\}")
    method_map = [("geoapp/**.py", "python"), ("geoapp/templates/**.html", "jinja2")]
    extracted = {msg[2] for msg in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS)}
    with open(ROOT / "geoapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    bad = []
    for msgid in extracted | {m.id for m in catalog if m.id}:
        for text in msgid if isinstance(msgid, tuple) else (msgid,):
            if positional.search(text):
                bad.append(f"positional placeholder in {text!r}")
    for m in catalog:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        fields = set().union(*(named.findall(i) for i in ids))
        for string in strings:
            if set(named.findall(string)) != fields or positional.search(string):
                bad.append(f"{m.id!r} -> {string!r}: fields differ")
    assert not bad, "\n".join(bad)
