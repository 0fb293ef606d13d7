"""The code token in every ETag covers the whole ``geoapp`` package, wherever the module that
computes it lives inside the package (it moved from ``services/queries.py`` to
``services/etags.py``; a wrong parent count would hash only part of the code, or more)."""

import shutil
from pathlib import Path

import geoapp
from geoapp.services import etags

PACKAGE = Path(geoapp.__file__).resolve().parent


def _copy_package(dest: Path) -> Path:
    """A copy of the package's .py and .mo files under ``dest/geoapp``."""
    root = dest / "geoapp"
    for path in PACKAGE.rglob("*"):
        if path.suffix in (".py", ".mo") and "__pycache__" not in path.parts:
            target = root / path.relative_to(PACKAGE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return root


def _token_of(monkeypatch, root: Path) -> str:
    """The token the module computes when it sits at ``root/services/etags.py``."""
    monkeypatch.setattr(etags, "__file__", str(root / "services" / "etags.py"))
    return etags._code_token()


def test_code_token_is_the_running_package(monkeypatch, tmp_path):
    root = _copy_package(tmp_path)
    # the same files give the same token, wherever the package is installed
    assert _token_of(monkeypatch, root) == etags._CODE_TOKEN


def test_code_token_changes_with_any_module_of_the_package(monkeypatch, tmp_path):
    root = _copy_package(tmp_path)
    before = _token_of(monkeypatch, root)
    seen = {before}
    # a change in any layer (not only services/) makes a new token: every layer decides answers
    for rel in (
        "core/model.py",
        "web/answers.py",
        "store/engine.py",
        "services/etags.py",
        "config.py",
    ):
        path = root / rel
        path.write_bytes(path.read_bytes() + b"\n# changed\n")
        token = _token_of(monkeypatch, root)
        assert token not in seen, rel
        seen.add(token)
    # a new translation catalogue counts too
    (root / "translations" / "xx.mo").write_bytes(b"catalogue")
    assert _token_of(monkeypatch, root) not in seen


def test_code_token_ignores_files_outside_the_package(monkeypatch, tmp_path):
    root = _copy_package(tmp_path)
    before = _token_of(monkeypatch, root)
    (tmp_path / "setup.py").write_text("print('not the package')\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("x = 1\n")
    (root / "notes.txt").write_text("neither code nor a catalogue\n")
    assert _token_of(monkeypatch, root) == before
