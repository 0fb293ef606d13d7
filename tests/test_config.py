"""Settings are typed and checked once at start: a wrong type names the variable and the type
it needs, an unknown GEOAPP_* variable is reported with the closest known name, floats are
floats."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner
from webclient import make_app

from geoapp import config, create_app
from geoapp.cli import main


@pytest.mark.parametrize(
    "name, raw, value",
    [
        ("SLIVER_M2", "12.5", 12.5),
        ("SLIVER_M2", " 7 ", 7.0),
        ("SLIVER_M2", "1e3", 1000.0),
        ("MAX_PHOTO_MB", "12", 12),
        ("MAX_PHOTO_MB", "-3", -3),
        ("REASSIGN_CLOSED", "yes", True),
        ("REASSIGN_CLOSED", "0", False),
        ("REASSIGN_CLOSED", "OFF", False),
        ("SECURE_COOKIES", "true", True),
        ("LOG_JSON", "1", True),
        ("UPLOAD_DIR", "/srv/geoapp/photos", "/srv/geoapp/photos"),
        ("TILES_CRS", "GCJ02", "gcj02"),
        ("LOG_LEVEL", "debug", "DEBUG"),
        ("DEFAULT_LOCALE", "en", "en"),
    ],
)
def test_each_setting_is_read_as_its_type(name, raw, value):
    got = config.from_env({f"GEOAPP_{name}": raw})[name]
    assert got == value and type(got) is type(value)


def test_every_number_setting_is_typed_by_its_default():
    assert config.KINDS["SLIVER_M2"] == "float"
    assert config.KINDS["MAX_UPLOAD_MB"] == "int"
    assert config.KINDS["REASSIGN_CLOSED"] == "bool"
    assert set(config.KINDS) == set(config.SETTINGS)
    assert config.from_env({}) == {n: d for n, (d, _) in config.SETTINGS.items()}


@pytest.mark.parametrize(
    "name, raw, expected",
    [
        ("SLIVER_M2", "12,5", "a number (float)"),
        ("SLIVER_M2", "nan", "a number (float)"),
        ("SLIVER_M2", "inf", "a number (float)"),
        ("MAX_PHOTO_MB", "10MB", "a whole number (int)"),
        ("MAX_PHOTO_MB", "2.5", "a whole number (int)"),
        ("LOGIN_MAX_ATTEMPTS", "", "a whole number (int)"),
        ("REASSIGN_CLOSED", "maybe", "yes/no (bool"),
        ("SECURE_COOKIES", "2", "yes/no (bool"),
        ("TILES_CRS", "mars", "one of wgs84, gcj02"),
        ("LOG_LEVEL", "LOUD", "one of DEBUG"),
        ("DEFAULT_LOCALE", "fr", "one of zh, en"),
    ],
)
def test_a_wrong_type_names_the_variable_and_the_type(name, raw, expected, monkeypatch):
    with pytest.raises(config.SettingError) as refused:
        config.from_env({f"GEOAPP_{name}": raw})
    message = str(refused.value)
    assert message.startswith(f"GEOAPP_{name} must be ") and expected in message
    assert repr(raw) in message
    # the app refuses to start, and so does every command
    monkeypatch.setenv(f"GEOAPP_{name}", raw)
    with pytest.raises(config.SettingError):
        create_app({"DATABASE_URL": "sqlite://"})
    r = CliRunner().invoke(main, ["db", "current"])
    assert r.exit_code == 1 and f"GEOAPP_{name} must be " in r.output


@pytest.mark.parametrize(
    "variable, hint",
    [
        ("GEOAPP_SLIVERM2", "GEOAPP_SLIVER_M2"),
        ("GEOAPP_DATABSE_URL", "GEOAPP_DATABASE_URL"),
        ("GEOAPP_MAX_UPLOADS_MB", "GEOAPP_MAX_UPLOAD_MB"),
        ("GEOAPP_LOGLEVEL", "GEOAPP_LOG_LEVEL"),
        ("GEOAPP_ZZZ", None),
    ],
)
def test_an_unknown_variable_is_reported_with_the_closest_name(variable, hint):
    [message] = config.unknown({variable: "1", "GEOAPP_SLIVER_M2": "3", "PATH": "/bin"})
    assert variable in message
    if hint:
        assert f"did you mean {hint}?" in message
    else:
        assert "did you mean" not in message


def test_the_tests_and_benchmarks_variables_are_not_settings_typos():
    env = {"GEOAPP_TEST_POSTGIS_URL": "x", "GEOAPP_BENCH_POINTS": "1", "GEOAPP_CHROMIUM": "c"}
    assert config.unknown(env) == []


def test_an_unknown_variable_is_logged_at_start_and_shown_by_commands(
    demo_sqlite_url, monkeypatch, caplog
):
    monkeypatch.setenv("GEOAPP_SLIVERM2", "12.5")
    caplog.set_level(logging.WARNING)
    make_app(demo_sqlite_url).extensions["geoapp.store"].close()
    assert any("did you mean GEOAPP_SLIVER_M2?" in r.getMessage() for r in caplog.records)
    r = CliRunner().invoke(main, ["--database-url", demo_sqlite_url, "db", "current"])
    assert "did you mean GEOAPP_SLIVER_M2?" in r.output and r.exit_code == 0


def test_a_float_setting_reaches_the_editor_as_a_float(demo_sqlite_url, monkeypatch):
    monkeypatch.setenv("GEOAPP_SLIVER_M2", "12.5")
    app = make_app(demo_sqlite_url)
    assert app.config["SLIVER_M2"] == 12.5
    app.extensions["geoapp.store"].close()
