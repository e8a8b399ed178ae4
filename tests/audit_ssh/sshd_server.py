"""A throw-away OpenSSH server on a loopback port, for the SSH target's tests and its benchmark.

Debian's `/usr/sbin/sshd` (package `openssh-server`) runs in the foreground with its own
configuration, host key, authorized keys file and pid file, all in a work directory; a user key
and a known_hosts file naming the host key are written next to them. Nothing on the machine is
changed except `/run/sshd` (sshd's privilege separation directory), created when missing.

Imported by `tests/audit_ssh/conftest.py` and by `bench/audit_ssh.py`, so both start the server
the same way.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

SSHD = os.environ.get("ASSAY_TEST_SSHD", "/usr/sbin/sshd")
START_TIMEOUT = 10.0


class SshdUnavailable(Exception):
    """The server could not be started; the message says why."""


@dataclass
class LoopbackSshd:
    """A running server and what a client needs to reach it."""

    address: str
    port: int
    user: str
    client_key: Path  # private key of `user`, in authorized_keys
    known_hosts: Path  # names the server's host key for [address]:port
    workdir: Path
    process: subprocess.Popen[bytes]
    users: tuple[str, ...]  # every user allowed to log in with client_key

    @property
    def log(self) -> str:
        return (self.workdir / "sshd.log").read_text(errors="replace")

    def session_pids(self) -> list[int]:
        """The server's per-connection processes (every descendant of the listener)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        found: list[int] = []
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def stop(self) -> None:
        """Stop the server and every session it still serves; remove the work directory."""
        for pid in self.session_pids():  # a session can outlive its listener (a stuck read)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def sshd_version() -> tuple[int, int]:
    """OpenSSH's version as (major, minor), from `sshd -V`; raises SshdUnavailable."""
    if not os.access(SSHD, os.X_OK):
        raise SshdUnavailable(f"{SSHD} not found (Debian package openssh-server)")
    done = subprocess.run([SSHD, "-V"], capture_output=True, text=True, timeout=10)
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", done.stderr + done.stdout)
    if not match:
        raise SshdUnavailable(f"cannot read the version of {SSHD}: {done.stderr.strip()}")
    return int(match[1]), int(match[2])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_key(path: Path) -> asyncssh.SSHKey:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    path.chmod(0o600)
    return key


def _config(workdir: Path, port: int, users: tuple[str, ...], version: tuple[int, int]) -> str:
    lines = [
        "ListenAddress 127.0.0.1",
        f"Port {port}",
        f"HostKey {workdir / 'host_ed25519'}",
        f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
        f"PidFile {workdir / 'sshd.pid'}",
        f"AllowUsers {' '.join(users)}",
        "UsePAM no",
        "StrictModes no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "Subsystem sftp internal-sftp",
        # many clients at once (the benchmark): no random drops of unauthenticated connections
        "MaxStartups 1000",
        "LogLevel ERROR",
    ]
    if version >= (9, 8):
        # else a failed login (the wrong-key test) locks 127.0.0.1 out for a while
        lines.append("PerSourcePenalties no")
    return "\n".join(lines) + "\n"


def start_sshd(*, extra_users: tuple[str, ...] = ()) -> LoopbackSshd:
    """Start sshd on a free loopback port for the current user (and `extra_users`, same key).

    Its work directory is a new one in the system's temporary directory, readable by all so
    that an unprivileged extra user can read the authorized keys (`stop` removes it). Raises
    SshdUnavailable with sshd's own words when the server does not start."""
    version = sshd_version()
    user = getpass.getuser()
    workdir = Path(tempfile.mkdtemp(prefix="assay-sshd-"))
    workdir.chmod(0o755)
    host_key = _write_key(workdir / "host_ed25519")
    user_key = _write_key(workdir / "user_ed25519")
    authorized = workdir / "authorized_keys"
    authorized.write_bytes(user_key.export_public_key())
    authorized.chmod(0o644)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    users = (user, *extra_users)
    problem = "not started"
    for _ in range(5):  # the free port may be taken by someone else before sshd binds it
        port = _free_port()
        config = workdir / "sshd_config"
        config.write_text(_config(workdir, port, users, version))
        log = workdir / "sshd.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        known_hosts = workdir / "known_hosts"
        public = host_key.export_public_key().decode().strip()
        known_hosts.write_text(f"[127.0.0.1]:{port} {public}\n")
        server = LoopbackSshd(
            "127.0.0.1", port, user, workdir / "user_ed25519", known_hosts, workdir, process, users
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return server
            time.sleep(0.05)
        problem = log.read_text(errors="replace").strip() or f"exit status {process.returncode}"
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        if "Address already in use" not in problem:
            break
    shutil.rmtree(workdir, ignore_errors=True)
    raise SshdUnavailable(f"{SSHD} did not start: {problem}")
