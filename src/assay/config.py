"""Runtime settings read from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def default_data_dir() -> Path:
    """`$ASSAY_DATA_DIR`, else `$XDG_DATA_HOME/assay`, else `~/.local/share/assay`."""
    explicit = os.environ.get("ASSAY_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "assay"


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
    if key_file.exists():
        return key_file.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def load_settings() -> Settings:
    """Build settings from the environment (no caching: tests change the environment)."""
    data_dir = default_data_dir()
    url = os.environ.get("ASSAY_DATABASE_URL") or f"sqlite:///{data_dir / 'assay.db'}"
    if url.startswith("sqlite"):
        data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key=_load_secret_key(data_dir),
        login_max_failures=int(os.environ.get("ASSAY_LOGIN_MAX_FAILURES", "5")),
        login_window_minutes=int(os.environ.get("ASSAY_LOGIN_WINDOW_MINUTES", "15")),
        session_hours=int(os.environ.get("ASSAY_SESSION_HOURS", "12")),
        max_form_field_chars=int(os.environ.get("ASSAY_MAX_FORM_FIELD_CHARS", "4096")),
        max_evidence_bytes=int(os.environ.get("ASSAY_MAX_EVIDENCE_MB", "50")) * 1024 * 1024,
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
        raise ValueError(problem) from None
    if not 0 <= value <= 1:
        raise ValueError(problem)
    return value


def _optional_path(text: str | None) -> Path | None:
    return Path(text).expanduser() if text and text.strip() else None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Process-wide settings; call `settings.cache_clear()` after changing the environment."""
    return load_settings()
