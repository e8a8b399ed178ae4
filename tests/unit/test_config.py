"""Where data lives by default and how the database is chosen."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from assay.config import default_data_dir, load_settings
from assay.errors import AssayError, ConfigurationError


def test_data_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ASSAY_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "assay"


def test_data_dir_defaults_to_local_share(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ASSAY_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / ".local" / "share" / "assay"


def test_default_database_is_sqlite_in_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("ASSAY_DATABASE_URL", raising=False)
    monkeypatch.delenv("ASSAY_SECRET_KEY", raising=False)
    config = load_settings()
    assert config.database_url == f"sqlite:///{tmp_path / 'd' / 'assay.db'}"
    key_file = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings().secret_key == config.secret_key  # the key is kept, not regenerated


def test_database_url_switches_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSAY_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert not load_settings().is_sqlite


def test_max_json_body_defaults_to_one_mebibyte(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ASSAY_MAX_JSON_BODY", raising=False)
    assert load_settings().max_json_body == 1048576
    monkeypatch.setenv("ASSAY_MAX_JSON_BODY", "2048")
    assert load_settings().max_json_body == 2048


@pytest.mark.parametrize(
    "variable",
    [
        "ASSAY_LOGIN_MAX_FAILURES",
        "ASSAY_LOGIN_WINDOW_MINUTES",
        "ASSAY_SESSION_HOURS",
        "ASSAY_MAX_FORM_FIELD_CHARS",
        "ASSAY_MAX_EVIDENCE_MB",
        "ASSAY_MAX_JSON_BODY",
    ],
)
@pytest.mark.parametrize("value", ["abc", "1.5", "0", "-3"])
def test_bad_numbers_name_the_variable_and_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str
) -> None:
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.message == f"{variable} must be a whole number of at least 1, not {value!r}"


def test_unusable_data_directories_are_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ASSAY_DATABASE_URL", raising=False)
    monkeypatch.delenv("ASSAY_SECRET_KEY", raising=False)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for path, reason in [
        ("/proc/nope", "No such file or directory"),
        (str(a_file), "not a directory"),
        (str(a_file / "below"), "Not a directory"),
    ]:
        monkeypatch.setenv("ASSAY_DATA_DIR", path)
        with pytest.raises(ConfigurationError) as caught:
            load_settings()
        assert caught.value.message == (
            f"ASSAY_DATA_DIR: cannot use '{path}' as the data directory: {reason}"
        )


def test_data_dir_from_xdg_names_that_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ASSAY_DATA_DIR", raising=False)
    monkeypatch.delenv("ASSAY_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "/proc/nope")
    with pytest.raises(ConfigurationError, match=r"^XDG_DATA_HOME: cannot use '/proc/nope/assay'"):
        load_settings()


@pytest.mark.parametrize(
    "url",
    ["mysql://x/y", "postgresql://u@h/db", "postgresql+psycopg2://u@h/db", "assay.db", ""],
)
def test_unsupported_database_urls_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
) -> None:
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSAY_DATABASE_URL", url)
    if not url:  # empty: the default SQLite file
        assert load_settings().is_sqlite
        return
    with pytest.raises(ConfigurationError, match=r"^ASSAY_DATABASE_URL must start with sqlite://"):
        load_settings()


def test_refused_database_url_never_shows_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSAY_DATABASE_URL", "mysql://user:hunter2-secret@db/assay")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "hunter2" not in caught.value.message
    assert "'mysql://...'" in caught.value.message


def test_supported_database_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path))
    for url in ("sqlite:///x.db", "sqlite+pysqlite:///x.db", "postgresql+psycopg://u@h/db"):
        monkeypatch.setenv("ASSAY_DATABASE_URL", url)
        assert load_settings().database_url == url


def test_configuration_errors_are_assay_errors() -> None:
    assert issubclass(ConfigurationError, AssayError)
    assert issubclass(ConfigurationError, ValueError)
