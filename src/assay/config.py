"""Runtime settings read from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assay.errors import ConfigurationError


def default_data_dir() -> Path:
    """`$ASSAY_DATA_DIR`, else `$XDG_DATA_HOME/assay`, else `~/.local/share/assay`."""
    explicit = os.environ.get("ASSAY_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "assay"


def _data_dir_variable() -> str:
    """The environment variable that chose the data directory, for error messages."""
    if os.environ.get("ASSAY_DATA_DIR"):
        return "ASSAY_DATA_DIR"
    return "XDG_DATA_HOME" if os.environ.get("XDG_DATA_HOME") else "HOME"


# Database URL schemes Assay runs on: SQLite (the standard library's driver) and PostgreSQL
# through psycopg 3. Anything else would fail later with a missing driver or dialect.
SUPPORTED_DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one Assay installation."""

    data_dir: Path
    database_url: str
    secret_key: str
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    max_form_field_chars: int = 4096
    max_evidence_bytes: int = 50 * 1024 * 1024
    max_json_body: int = 1024 * 1024  # bytes of a JSON request body the API accepts
    claimed_credit: float = 0.5  # share of a control's effect credited while only claimed
    risk_matrix_file: Path | None = None  # another 5x5 risk matrix (YAML) than the built-in one

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _load_secret_key(data_dir: Path) -> str:
    """`$ASSAY_SECRET_KEY`, else a key file (mode 0600) in the data directory, made once."""
    from_env = os.environ.get("ASSAY_SECRET_KEY")
    if from_env:
        return from_env
    key_file = data_dir / "secret_key"
    try:
        if key_file.exists():
            return key_file.read_text(encoding="ascii").strip()
        _make_data_dir(data_dir)
        key = secrets.token_urlsafe(48)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
    except OSError as exc:
        raise ConfigurationError(
            f"{_data_dir_variable()}: cannot use the secret key file '{key_file}': "
            f"{exc.strerror or exc}"
        ) from None
    return key


def _make_data_dir(data_dir: Path) -> None:
    """Create the data directory, or explain in one line why it cannot be used."""
    if data_dir.exists() and not data_dir.is_dir():
        raise _unusable_data_dir(data_dir, "not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable_data_dir(data_dir, exc.strerror or str(exc)) from None
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise _unusable_data_dir(data_dir, "not writable")


def _unusable_data_dir(data_dir: Path, reason: str) -> ConfigurationError:
    variable = _data_dir_variable()
    return ConfigurationError(
        f"{variable}: cannot use '{data_dir}' as the data directory: {reason}"
    )


def _database_url(text: str) -> str:
    """`ASSAY_DATABASE_URL`: only the databases Assay supports."""
    scheme, sep, _rest = text.partition("://")
    if not sep or scheme.lower() not in SUPPORTED_DATABASE_SCHEMES:
        # the scheme only: never echo a password
        shown = f"{scheme}://..." if sep else text.partition("@")[2] or text
        supported = "sqlite:// or postgresql+psycopg://"
        raise ConfigurationError(f"ASSAY_DATABASE_URL must start with {supported}, not {shown!r}")
    return text


def _int_setting(name: str, default: int, *, minimum: int = 1) -> int:
    """A whole-number setting from the environment, at least `minimum`."""
    text = os.environ.get(name, "").strip() or str(default)
    problem = f"{name} must be a whole number of at least {minimum}, not {text!r}"
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(problem) from None
    if value < minimum:
        raise ConfigurationError(problem)
    return value


def load_settings() -> Settings:
    """Build settings from the environment (no caching: tests change the environment).

    Raises ConfigurationError, naming the variable and its value, when a setting is unusable."""
    data_dir = default_data_dir()
    from_env = os.environ.get("ASSAY_DATABASE_URL")
    url = _database_url(from_env) if from_env else f"sqlite:///{data_dir / 'assay.db'}"
    if url.startswith("sqlite"):
        _make_data_dir(data_dir)
    return Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key=_load_secret_key(data_dir),
        login_max_failures=_int_setting("ASSAY_LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_int_setting("ASSAY_LOGIN_WINDOW_MINUTES", 15),
        session_hours=_int_setting("ASSAY_SESSION_HOURS", 12),
        max_form_field_chars=_int_setting("ASSAY_MAX_FORM_FIELD_CHARS", 4096),
        max_evidence_bytes=_int_setting("ASSAY_MAX_EVIDENCE_MB", 50) * 1024 * 1024,
        max_json_body=_int_setting("ASSAY_MAX_JSON_BODY", 1024 * 1024),
        claimed_credit=_claimed_credit(os.environ.get("ASSAY_CLAIMED_CREDIT", "0.5")),
        risk_matrix_file=_optional_path(os.environ.get("ASSAY_RISK_MATRIX")),
    )


def _claimed_credit(text: str) -> float:
    """`ASSAY_CLAIMED_CREDIT`: the share (0 to 1) of a control's effect that a claimed,
    unverified answer earns in residual-risk simulations."""
    problem = f"ASSAY_CLAIMED_CREDIT must be a number from 0 to 1, not {text!r}"
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(problem) from None
    if not 0 <= value <= 1:
        raise ConfigurationError(problem)
    return value


def _optional_path(text: str | None) -> Path | None:
    return Path(text).expanduser() if text and text.strip() else None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Process-wide settings; call `settings.cache_clear()` after changing the environment."""
    return load_settings()
