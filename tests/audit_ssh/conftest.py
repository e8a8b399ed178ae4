"""The SSH target's fixtures: a real OpenSSH server on a loopback port, one per test process.

Under pytest-xdist every worker starts its own server on its own free port. Without
`/usr/sbin/sshd` (Debian package openssh-server) the tests are skipped, except in CI
(`CI=true`), where that is a failure.
"""

from __future__ import annotations

import os
import pwd
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.audit.ssh import LoopThread, SshTarget
from tests.audit_ssh.sshd_server import LoopbackSshd, SshdUnavailable, start_sshd

UNPRIVILEGED = "nobody"


# These tests use no database: the suite's database fixtures (autouse) are replaced by no-ops.
@pytest.fixture(scope="session", autouse=True)
def _environment() -> None:
    return None


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    return None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def sshd() -> Iterator[LoopbackSshd]:
    """The server; as root, `nobody` may log in too (for permission-denied reads)."""
    extra = (UNPRIVILEGED,) if os.geteuid() == 0 and _has_user(UNPRIVILEGED) else ()
    try:
        server = start_sshd(extra_users=extra)
    except SshdUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the SSH target tests need OpenSSH's server in CI: {exc}")
        pytest.skip(f"no OpenSSH server to test against ({exc}); apt-get install openssh-server")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def loop() -> Iterator[LoopThread]:
    with LoopThread("assay-ssh-tests") as running:
        yield running


@pytest.fixture
def target(sshd: LoopbackSshd) -> SshTarget:
    return SshTarget(
        address=sshd.address,
        user=sshd.user,
        port=sshd.port,
        keys=(str(sshd.client_key),),
        known_hosts=str(sshd.known_hosts),
        connect_timeout=5.0,
        timeout=5.0,
    )


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A port that accepts TCP connections and then never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(5)
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def shared_dir(sshd: LoopbackSshd) -> Path:
    """A directory every local user can reach (the server's work directory), for files read
    as the unprivileged user."""
    path = sshd.workdir / "shared"
    path.mkdir(exist_ok=True)
    return path
