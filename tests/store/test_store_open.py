"""Opening stores: URLs, the default SQLite file, and errors that stay readable."""

import socket
from pathlib import Path

import pytest

from geoapp.store import (
    DEFAULT_SQLITE_PATH,
    URL_ENV_VAR,
    PostgisStore,
    Store,
    StoreError,
    default_url,
    open_store,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_default_is_sqlite_under_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV_VAR, raising=False)
    assert Path(__file__).resolve().parents[2] / "instance" / "geoapp.sqlite" == DEFAULT_SQLITE_PATH
    assert default_url() == f"sqlite:///{DEFAULT_SQLITE_PATH}"


def test_default_path_argument_creates_the_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(URL_ENV_VAR, raising=False)
    path = tmp_path / "deep" / "er" / "geoapp.sqlite"
    with open_store(None, default_path=path, upgrade=True) as store:
        assert type(store) is Store and store.backend == "sqlite"
        assert store.is_empty()
    assert path.is_file()


def test_env_var_wins_over_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "from-env" / "db.sqlite"
    monkeypatch.setenv(URL_ENV_VAR, f"sqlite:///{path}")
    with open_store(default_path=tmp_path / "ignored.sqlite", upgrade=True) as store:
        assert store.url.database == str(path)
    assert path.is_file() and not (tmp_path / "ignored.sqlite").exists()


def test_explicit_url_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.sqlite"
    with open_store(f"sqlite:///{path}", upgrade=True):
        pass
    assert path.is_file()


def test_in_memory_sqlite() -> None:
    with open_store("sqlite://", upgrade=True) as store:
        store.upsert_units([{"unit_id": "U", "name": "u"}])
        assert [u["unit_id"] for u in store.list_units()] == ["U"]


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgres_urls_select_postgis(url: str) -> None:
    store = open_store(url)  # nothing connects yet
    try:
        assert isinstance(store, PostgisStore) and store.backend == "postgis"
        assert store.url.drivername == "postgresql+psycopg"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u@h/db", "use the psycopg driver"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_unreachable_postgres_names_host_and_port_but_not_the_password() -> None:
    port = free_port()
    url = f"postgresql+psycopg://geo:s3cret-pw@127.0.0.1:{port}/geoapp?connect_timeout=3"
    store = open_store(url)
    try:
        with pytest.raises(StoreError) as info:
            store.list_units()
        message = str(info.value)
        assert message.startswith(
            "cannot connect to the database at postgresql+psycopg://geo:***@127.0.0.1"
        )
        assert f"127.0.0.1:{port}" in message
        assert "s3cret-pw" not in message and "Traceback" not in message
        assert "\n" not in message
        with pytest.raises(StoreError, match="cannot connect") as info:
            store.upgrade()
        assert "s3cret-pw" not in str(info.value)
        with pytest.raises(StoreError, match="cannot connect"), store.transaction():
            pass
    finally:
        store.close()


def test_unopenable_sqlite_file(tmp_path: Path) -> None:
    folder = tmp_path / "is-a-folder.sqlite"
    folder.mkdir()
    with (
        open_store(f"sqlite:///{folder}") as store,
        pytest.raises(StoreError, match="cannot connect"),
    ):
        store.is_empty()


def test_store_repr_hides_password() -> None:
    store = open_store("postgresql+psycopg://geo:s3cret@db.example:5433/geoapp")
    try:
        assert repr(store) == "<PostgisStore postgresql+psycopg://geo:***@db.example:5433/geoapp>"
    finally:
        store.close()


def test_store_has_no_flask() -> None:
    import subprocess
    import sys

    code = (
        "import sys, geoapp.store, geoapp.store.backends, geoapp.store.factory;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
