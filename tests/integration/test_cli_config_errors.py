"""Configuration problems reach the operator as one line on stderr, never as a traceback.

Each case runs the console script as a process (what an operator sees) and through Typer's
runner (the path inside a command's `errors_reported`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.config import settings

EXE = os.path.join(os.path.dirname(sys.executable), "assay")

# (environment changes, the variable the error must name, the value it must show)
CASES = [
    ({"ASSAY_DATA_DIR": "/proc/nope", "ASSAY_DATABASE_URL": ""}, "ASSAY_DATA_DIR", "/proc/nope"),
    ({"ASSAY_LOGIN_MAX_FAILURES": "abc"}, "ASSAY_LOGIN_MAX_FAILURES", "'abc'"),
    ({"ASSAY_SESSION_HOURS": "-1"}, "ASSAY_SESSION_HOURS", "'-1'"),
    ({"ASSAY_MAX_JSON_BODY": "1MB"}, "ASSAY_MAX_JSON_BODY", "'1MB'"),
    ({"ASSAY_CLAIMED_CREDIT": "lots"}, "ASSAY_CLAIMED_CREDIT", "'lots'"),
    ({"ASSAY_DATABASE_URL": "mysql://x/y"}, "ASSAY_DATABASE_URL", "mysql://"),
    ({"ASSAY_DATABASE_URL": "postgresql://u@h/db"}, "ASSAY_DATABASE_URL", "postgresql://"),
    ({"ASSAY_DATABASE_URL": "sqlite+nodriver:///x.db"}, "ASSAY_DATABASE_URL", "sqlite+nodriver"),
    ({"ASSAY_DATABASE_URL": "postgresql+psycopg://u@h:port/db"}, "ASSAY_DATABASE_URL", "port"),
]
COMMANDS = [
    ("org", "list"),
    ("user", "list", "--json"),
    ("audit-log", "verify"),
    ("db", "upgrade"),
    ("db", "current"),
]
IDS = [case[1] + "=" + next(iter(case[0].values())) for case in CASES]


def assert_one_line_error(code: int, out: str, err: str, variable: str, value: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err and "Traceback" not in out
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert variable in err and value in err, err
    assert out == ""


@pytest.mark.parametrize(
    ("changes", "variable", "value", "command"),
    # every case once, the commands taking turns (each process costs a second or two)
    [(*case, COMMANDS[i % len(COMMANDS)]) for i, case in enumerate(CASES)],
    ids=[f"{name} ({' '.join(COMMANDS[i % len(COMMANDS)])})" for i, name in enumerate(IDS)],
)
def test_console_script_reports_bad_configuration_in_one_line(
    changes: dict[str, str], variable: str, value: str, command: tuple[str, ...]
) -> None:
    env = {**os.environ, **changes}
    done = subprocess.run(
        [EXE, *command], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert_one_line_error(done.returncode, done.stdout, done.stderr, variable, value)


@pytest.mark.parametrize(("changes", "variable", "value"), CASES, ids=IDS)
def test_commands_report_bad_configuration_in_one_line(
    changes: dict[str, str], variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in changes.items():
        monkeypatch.setenv(name, text)
    settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["org", "list"])
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert_one_line_error(result.exit_code, result.stdout, result.stderr, variable, value)


def test_serve_reports_bad_configuration_before_starting() -> None:
    env = {**os.environ, "ASSAY_LOGIN_WINDOW_MINUTES": "soon"}
    done = subprocess.run(
        [EXE, "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert_one_line_error(
        done.returncode, done.stdout, done.stderr, "ASSAY_LOGIN_WINDOW_MINUTES", "'soon'"
    )


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    """An OSError escaping a command (here: the secret key file is a directory) is one line."""
    data_dir = tmp_path / "data"
    (data_dir / "secret_key").mkdir(parents=True)
    env = {**os.environ, "ASSAY_DATA_DIR": str(data_dir)}
    env.pop("ASSAY_SECRET_KEY", None)
    done = subprocess.run(
        [EXE, "org", "list"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert_one_line_error(done.returncode, done.stdout, done.stderr, "ASSAY_DATA_DIR", "secret_key")


def test_a_database_url_with_a_missing_driver_is_one_line() -> None:
    """The engine turns an unknown dialect or driver into a ConfigurationError (a URL that
    passed the scheme check but names a plugin SQLAlchemy cannot load)."""
    from assay.db.engine import make_engine
    from assay.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"^ASSAY_DATABASE_URL cannot be used: "):
        make_engine("postgresql+nosuchdriver://u@h/db")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PermissionError(13, "Permission denied", "/srv/x"), "error: /srv/x: Permission denied"),
        (ConnectionRefusedError(111, "Connection refused"), "error: Connection refused"),
    ],
)
def test_run_reports_errors_escaping_a_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
    expected: str,
) -> None:
    from assay.cli import main

    def escaping(_args: list[str]) -> None:
        raise error

    monkeypatch.setattr(main, "_dispatch", escaping)
    with pytest.raises(SystemExit) as done:
        main.run()
    assert done.value.code == 1
    assert capsys.readouterr().err == expected + "\n"


def test_run_keeps_the_traceback_of_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.cli import main

    def buggy(_args: list[str]) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(main, "_dispatch", buggy)
    with pytest.raises(ZeroDivisionError):
        main.run()
