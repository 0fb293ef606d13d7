"""Checks on the shape of the code and its documentation."""

import ast
import functools
import sys
from pathlib import Path

from geoapp import config

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "geoapp"

#: Third-party packages the pure core may use: arrays, tables and geometry, nothing that
#: touches a file format, a database, the web or the terminal.
CORE_THIRD_PARTY = {"numpy", "pandas", "geopandas", "shapely", "pyproj"}
#: Frameworks only the web layer (flask*, folium, branca), the CLI (click) and the store
#: (sqlalchemy, alembic, psycopg) may import.
WEB_ONLY = {"flask", "flask_babel", "flask_login", "folium", "branca"}
STORE_ONLY = {"sqlalchemy", "alembic", "psycopg"}
CLI_ONLY = {"click"}
#: No module longer than this: past it, a module is doing more than one job.
MAX_MODULE_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of the imports under ``if TYPE_CHECKING:`` (never run)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        lines.add(sub.lineno)
    return lines


@functools.cache
def _parse(text: str) -> ast.Module:
    """A module's syntax tree, parsed once per text in this process (several checks below
    walk every module of the package; none of them changes a tree)."""
    return ast.parse(text)


def parse_file(path: Path) -> ast.Module:
    return _parse(path.read_text(encoding="utf-8"))


@functools.cache
def _import_statements(text: str) -> tuple[tuple, ...]:
    """Every import statement of a module's text that runs (not under ``if TYPE_CHECKING:``)
    as ``(lineno, level, module, names)``; ``module`` is None for ``import a, b``.  Walked
    once per text: three checks below read every module's imports."""
    tree = _parse(text)
    skip = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.append((node.lineno, 0, None, tuple(a.name for a in node.names)))
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.level, node.module, tuple(a.name for a in node.names)))
    return tuple(found)


def imports_of(path: Path, here: str | None = None, known=frozenset()) -> list[tuple[str, int]]:
    """Every module ``path`` imports, anywhere in it (functions too), resolved to an absolute
    name: ``from geoapp.services import ledger`` imports ``geoapp.services.ledger``."""
    here = here or module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for lineno, level, module, names in _import_statements(path.read_text(encoding="utf-8")):
        if module is None and not level:  # import a, b
            found += [(name, lineno) for name in names]
            continue
        if level:
            base = package.split(".")
            base = base[: len(base) - (level - 1)]
            module = ".".join(base + ([module] if module else []))
        for name in names:
            sub = f"{module}.{name}"
            is_sub = module.startswith("geoapp") and (sub in known or _is_module(sub))
            found.append((sub if is_sub else module, lineno))
    return found


def geoapp_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def layer_faults(modules: dict[str, Path]) -> list[str]:
    """Every import that breaks a layer rule, as "module:line imports target (rule)"."""
    stdlib = sys.stdlib_module_names
    faults = []

    def within(name: str, *prefixes: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in prefixes)

    for here, path in modules.items():
        for target, line in imports_of(path, here, set(modules)):
            top = target.split(".")[0]
            ours = top == "geoapp"
            why = None
            if within(here, "geoapp.core"):
                if ours and not within(target, "geoapp.core"):
                    why = "core imports nothing of geoapp outside core"
                elif (
                    not ours
                    and top not in stdlib
                    and top not in CORE_THIRD_PARTY
                    and top != "__future__"
                ):
                    why = f"core imports only the standard library and {sorted(CORE_THIRD_PARTY)}"
            elif within(here, "geoapp.io"):
                if ours and not within(target, "geoapp.core", "geoapp.io"):
                    why = "io imports core only"
                elif top in WEB_ONLY | STORE_ONLY | CLI_ONLY:
                    why = "io uses no web, database or CLI framework"
            elif within(here, "geoapp.store"):
                if ours and not within(target, "geoapp.core", "geoapp.store"):
                    why = "the store imports core only"
                elif top in WEB_ONLY | CLI_ONLY:
                    why = "the store uses no web or CLI framework"
            elif within(here, "geoapp.services"):
                if ours and within(target, "geoapp.web", "geoapp.cli", "geoapp.demo"):
                    why = "services never import web, cli or demo"
                elif top in WEB_ONLY | STORE_ONLY | CLI_ONLY:
                    why = "services use the store's interface, not a web, database or CLI framework"
            elif (
                within(here, "geoapp.demo")
                and ours
                and not within(target, "geoapp.core", "geoapp.demo")
            ):
                why = "the demo generator imports core only"
            outside_store = within(here, "geoapp.services", "geoapp.web", "geoapp.cli")
            if outside_store and within(target, "geoapp.store") and target != "geoapp.store":
                why = "services, web and cli use the store's interface (geoapp.store), not its modules"
            if within(here, "geoapp.web") and within(target, "geoapp.cli"):
                why = "web never imports the CLI"
            if (
                within(here, "geoapp.cli")
                and within(target, "geoapp.web")
                and target != "geoapp.web"
            ):
                why = "the CLI starts the web app through geoapp.create_app only"
            if why:
                faults.append(f"{here}:{line} imports {target} ({why})")
    return faults


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected groups of more than one module in the import graph (Tarjan)."""
    graph = {
        m: sorted({t for t, _ in imports_of(p, m, set(modules)) if t in modules and t != m})
        for m, p in modules.items()
    }
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_layers_import_only_what_their_rules_allow():
    """core ← io ← store ← services ← web/cli: each package's docstring states its rule."""
    modules = geoapp_modules()
    assert {"geoapp.core.model", "geoapp.io.boundaries", "geoapp.services.ledger"} <= set(modules)
    faults = layer_faults(modules)
    assert not faults, "\n".join(faults)


def test_every_import_of_geoapp_names_a_module_that_exists():
    """Imports inside functions run only when the function does: one naming a module that
    was moved or split would pass every other check and fail in front of a user."""
    missing = [
        f"{here}:{line} imports {target}"
        for here, path in geoapp_modules().items()
        for target, line in imports_of(path, here)
        if target.startswith("geoapp") and not _is_module(target)
    ]
    assert not missing, "\n".join(missing)


def test_no_import_cycles():
    cycles = import_cycles(geoapp_modules())
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_layer_rules_catch_a_broken_import(tmp_path):
    """The checks above can fail: a core module importing the store or flask, a view importing
    the store's implementation, io importing a service, and two modules importing each other
    are all caught."""
    fake = {
        "geoapp.core.bad": "from geoapp.store import open_store\nimport flask\n",
        "geoapp.web.bad": "from geoapp.store.base import Store\n",
        "geoapp.io.bad": "from geoapp.services import ledger\n",
        "geoapp.services.one": "def f():\n    from geoapp.services import two\n",
        "geoapp.services.two": "from geoapp.services.one import f\n",
    }
    modules = {}
    for name, text in fake.items():
        copy = tmp_path / f"{name}.py"
        copy.write_text(text, encoding="utf-8")
        modules[name] = copy
    faults = layer_faults(modules)
    for line in ("core.bad:1", "core.bad:2", "web.bad:1", "io.bad:1"):
        assert any(f.startswith(f"geoapp.{line} ") for f in faults), (line, faults)
    assert len(faults) == 4
    assert import_cycles(modules) == [["geoapp.services.one", "geoapp.services.two"]]


def test_every_package_says_what_lives_there_and_what_it_may_import():
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if "migrations" in init.parts:
            continue
        doc = ast.get_docstring(parse_file(init)) or ""
        assert len(doc) > 80 and "import" in doc, f"{init.relative_to(ROOT)} needs a docstring"


def test_no_module_is_too_long():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by job): {long}"


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


@functools.cache
def extracted_msgids() -> frozenset:
    """Every msgid babel extracts from geoapp's code and templates (as ``pybabel extract``
    does), extracted once per process: two checks below read it and neither changes it."""
    from babel.messages.extract import extract_from_dir

    method_map = [("geoapp/**.py", "python"), ("geoapp/templates/**.html", "jinja2")]
    return frozenset(msg[2] for msg in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS))


@functools.cache
def zh_catalog():
    """The Chinese catalogue (messages.po), read once per process; the checks only read it."""
    from babel.messages.pofile import read_po

    with open(ROOT / "geoapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        return read_po(fh)


def test_every_ui_string_has_a_chinese_translation():
    catalog = zh_catalog()
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    used = extracted_msgids()
    used = {m for msgid in used for m in (msgid if isinstance(msgid, tuple) else (msgid,))}
    missing = sorted(m for m in used if m not in translated)
    assert not missing, f"untranslated (run pybabel extract/update, then fill the .po): {missing}"


def _domain_errors() -> dict[str, type]:
    """Every domain error class (a subclass of messages.Explained) by name."""
    import importlib
    import pkgutil

    import geoapp
    from geoapp.core.messages import Explained

    for info in pkgutil.walk_packages(geoapp.__path__, "geoapp."):
        skip = ("geoapp.demo", "geoapp.wsgi", "geoapp.store.migrations")
        if not info.name.startswith(skip) and not info.name.endswith(".__main__"):
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
        for node in ast.walk(parse_file(path)):
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

    named = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdrfgixXeE]")
    positional = re.compile(r"%(?!\(\w+\)|%)[-#0 +]*\d*(?:\.\d+)?[sdrfgixXeE]|\{\d*\}")
    extracted = extracted_msgids()
    catalog = zh_catalog()
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
