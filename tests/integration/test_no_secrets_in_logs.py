"""Passwords and token secrets never reach a log, the terminal or the database.

Every logger is captured at DEBUG while accounts are made and used: SQLAlchemy then logs each
statement with its parameters (echo stays off; the log level alone turns it on), and the web
sign-ins go through a real uvicorn server at its most verbose level (`trace`: every ASGI
message) with access logs. The one place a secret is shown is to whoever it was generated for,
once: the generated password of `assay user create` and the secret of a new token, on that
command's standard output or on that one page.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from assay.app import create_app
from assay.cli.main import app
from assay.db.registry import Base

STDIN_PASSWORD = "stdin-password-4fd1c9e2"
RESET_PASSWORD = "reset-password-77ab03d5"
WRONG_PASSWORD = "wrong-password-0c8e6a41"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EVERYTHING = 1  # the lowest level: below DEBUG, as uvicorn's TRACE (5) is
CLIENT_LOGGERS = ("httpx", "httpcore")
_TOKEN = re.compile(r"assay_[A-Za-z0-9_-]{40,}")

runner = CliRunner()


def cli(*args: str, stdin: str | None = None) -> tuple[str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout, result.stderr


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG or below (uvicorn's TRACE) into caplog, including SQLAlchemy's,
    which sets itself to WARNING, and uvicorn's, which do not propagate (attached later)."""
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    caplog.set_level(EVERYTHING)  # last: it also sets the level of caplog's handler
    yield caplog
    for name in ("uvicorn", "uvicorn.access"):
        logging.getLogger(name).removeHandler(caplog.handler)


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "page has no CSRF field"
    return found.group(1)


def sign_in(web: httpx.Client, email: str, password: str) -> httpx.Response:
    """Post the sign-in form with the CSRF token of a freshly fetched page."""
    page = web.get("/login")
    return web.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf(page.text)}
    )


@contextmanager
def serving_verbosely(caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    """The app under uvicorn at log level `trace`, its loggers also feeding caplog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(), host="127.0.0.1", log_level="trace", access_log=True, lifespan="off"
    )  # configures uvicorn's loggers (which do not propagate): attach caplog after it
    for name in ("uvicorn", "uvicorn.access"):
        logging.getLogger(name).addHandler(caplog.handler)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def every_row(engine: Engine) -> str:
    with engine.connect() as conn:
        rows = [
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in conn.execute(select(table))
        ]
        conn.rollback()
    return "\n".join(rows)


def log_text(records: list[logging.LogRecord]) -> str:
    parts: list[str] = []
    for record in records:
        parts.append(f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}")
        parts.extend(repr(value) for value in vars(record).values())
    return "\n".join(parts)


def test_secrets_never_reach_logs_or_output(
    all_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], engine: Engine
) -> None:
    outputs: list[str] = []  # everything the commands printed, except the one-time secrets
    shown_once: dict[str, str] = {}  # secret -> the output that showed it to its owner

    def run(*args: str, stdin: str | None = None) -> str:
        out, err = cli(*args, stdin=stdin)
        outputs.append(err)
        return out

    outputs.append(run("org", "create", "northwind", "--name", "Northwind IT", "--kind", "msp"))
    outputs.append(
        run("user", "create", "ada@northwind.test", "--name", "Ada", "--password-stdin",
            stdin=STDIN_PASSWORD + "\n")
    )  # fmt: skip
    out = run("user", "create", "bob@northwind.test", "--name", "Bob")
    generated = out.rsplit("password (shown once): ", 1)[1].strip()
    shown_once[generated] = out
    outputs.append(run("member", "add", "northwind", "ada@northwind.test", "--role", "admin"))
    outputs.append(
        run("member", "add", "northwind", "bob@northwind.test", "--role", "it_operator",
            "--as", "ada@northwind.test")
    )  # fmt: skip
    outputs.append(
        run("user", "set-password", "bob@northwind.test", "--password-stdin",
            stdin=RESET_PASSWORD + "\n")
    )  # fmt: skip
    out = run("token", "create", "--user", "ada@northwind.test", "--org", "northwind")
    cli_token = out.strip().splitlines()[-1]
    shown_once[cli_token] = out

    with (
        serving_verbosely(all_logs) as base,
        httpx.Client(base_url=base, follow_redirects=False, timeout=30) as web,
    ):
        refused = sign_in(web, "ada@northwind.test", WRONG_PASSWORD)
        assert refused.status_code == 401
        outputs.append(refused.text)
        signed_in = sign_in(web, "ada@northwind.test", STDIN_PASSWORD)
        assert signed_in.status_code == 303
        session_cookie = web.cookies.get("assay_session")
        assert session_cookie
        tokens_page = web.get("/account/tokens")
        outputs.append(tokens_page.text)
        created = web.post(
            "/account/tokens",
            data={"org": "northwind", "name": "laptop", "csrf_token": csrf(tokens_page.text)},
        )
        assert created.status_code == 200
        web_token = next(t for t in _TOKEN.findall(created.text) if t != cli_token)
        shown_once[web_token] = created.text
        outputs.append(web.get("/account/tokens").text)

    captured = capfd.readouterr()
    # httpx and httpcore are this test's HTTP client, not Assay: at DEBUG they log the
    # response headers they receive, the session cookie among them
    logs = log_text([r for r in all_logs.records if not r.name.startswith(CLIENT_LOGGERS)])
    elsewhere = {
        "logs": logs,
        "process stdout": captured.out,
        "process stderr": captured.err,
        "command output": "\n".join(outputs),
        "database": every_row(engine),
    }
    secrets = [
        STDIN_PASSWORD,
        RESET_PASSWORD,
        WRONG_PASSWORD,
        generated,
        cli_token,
        web_token,
        session_cookie,
    ]
    for secret in secrets:
        for where, text in elsewhere.items():
            assert secret not in text, f"a secret appears in the {where}"
    for secret, output in shown_once.items():
        assert output.count(secret) == 1  # shown once, to its owner

    # The controls: the capture did see the statements, the requests and the accounts.
    names = {record.name for record in all_logs.records}
    assert "sqlalchemy.engine.Engine" in names
    assert "uvicorn.access" in names and "uvicorn.asgi" in names
    assert "ada@northwind.test" in logs and "POST /login" in logs
