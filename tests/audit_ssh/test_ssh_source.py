"""SshSource against a real OpenSSH server: what it reads equals what is on disk."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.audit.source import FileStat, Missing, Unreadable
from assay.audit.ssh import FailureKind, HostUnavailable, LoopThread, SshSource, SshTarget
from tests.audit_ssh.conftest import UNPRIVILEGED
from tests.audit_ssh.sshd_server import LoopbackSshd


@pytest.fixture
def source(target: SshTarget, loop: LoopThread) -> Iterator[SshSource]:
    with SshSource.connect(target, loop) as opened:
        yield opened


def local_stat(path: str, *, follow: bool = True) -> FileStat:
    s = os.stat(path) if follow else os.lstat(path)
    return FileStat(path, s.st_mode, s.st_uid, s.st_gid, s.st_size, float(int(s.st_mtime)))


def whole_seconds(found: FileStat) -> FileStat:
    return dataclasses.replace(found, mtime=float(int(found.mtime)))


def test_description_names_user_host_and_port(source: SshSource, sshd: LoopbackSshd) -> None:
    assert source.description == f"ssh:{sshd.user}@127.0.0.1:{sshd.port}"


def test_reads_the_same_bytes_as_a_local_read(source: SshSource, tmp_path: Path) -> None:
    binary = tmp_path / "blob"
    binary.write_bytes(os.urandom(700_000))  # several SFTP reads
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    for path in (str(binary), str(empty), "/etc/passwd"):
        assert source.read_bytes(path) == Path(path).read_bytes()


def test_reads_through_a_symlink(source: SshSource, tmp_path: Path) -> None:
    (tmp_path / "real").write_text("PermitRootLogin no\n")
    (tmp_path / "link").symlink_to("real")
    assert source.read_bytes(str(tmp_path / "link")) == b"PermitRootLogin no\n"
    assert source.read_link(str(tmp_path / "link")) == "real"


def test_reads_proc_files_whose_size_is_zero(source: SshSource) -> None:
    mounts = source.read_bytes("/proc/mounts")
    assert source.stat("/proc/mounts").size == 0
    assert b" / " in mounts  # the root filesystem's line


def test_stat_and_lstat_match_the_local_values(source: SshSource, tmp_path: Path) -> None:
    file = tmp_path / "sshd_config"
    file.write_text("x" * 1234)
    file.chmod(0o4750)
    os.utime(file, (1_600_000_000, 1_700_000_123))
    link = tmp_path / "link"
    link.symlink_to(file)
    assert whole_seconds(source.stat(str(file))) == local_stat(str(file))
    assert source.stat(str(file)).permissions == 0o4750
    assert source.stat(str(file)).mtime == 1_700_000_123
    assert whole_seconds(source.stat(str(link))) == local_stat(str(link))
    lstat = source.stat(str(link), follow_symlinks=False)
    assert lstat.is_symlink
    assert whole_seconds(lstat) == local_stat(str(link), follow=False)
    assert whole_seconds(source.stat("/etc/shadow")) == local_stat("/etc/shadow")
    assert source.stat(str(tmp_path)).is_dir


def test_missing_paths(source: SshSource, tmp_path: Path) -> None:
    absent = str(tmp_path / "absent")
    (tmp_path / "dangling").symlink_to("nowhere")
    for call in (source.read_bytes, source.stat, source.list_dir, source.read_link):
        with pytest.raises(Missing):
            call(absent)
    with pytest.raises(Missing):
        source.read_bytes(str(tmp_path / "dangling"))
    with pytest.raises(Missing):
        source.stat("/etc/passwd/below-a-file")
    assert source.exists(absent) is False
    assert source.exists(str(tmp_path / "dangling")) is False
    assert source.exists("/etc/passwd") is True
    assert source.stat(str(tmp_path / "dangling"), follow_symlinks=False).is_symlink


def test_list_dir_is_sorted_without_dot_entries(source: SshSource, tmp_path: Path) -> None:
    for name in ("b", "a", "c.conf", ".hidden"):
        (tmp_path / name).write_text(name)
    assert source.list_dir(str(tmp_path)) == sorted(os.listdir(tmp_path))
    with pytest.raises(Unreadable, match="not a directory"):
        source.list_dir(str(tmp_path / "a"))
    with pytest.raises(Unreadable, match="not a symbolic link"):
        source.read_link(str(tmp_path / "a"))


def test_non_regular_files_are_refused_without_being_opened(
    source: SshSource, tmp_path: Path
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(Unreadable, match="FIFO"):
        source.read_bytes(str(fifo))  # opening it would block the server until the timeout
    assert time.monotonic() - started < 2
    with pytest.raises(Unreadable, match="character device"):
        source.read_bytes("/dev/null")
    with pytest.raises(Unreadable, match="directory"):
        source.read_bytes(str(tmp_path))
    assert source.failure is None
    assert source.read_bytes("/etc/hostname") == Path("/etc/hostname").read_bytes()


def test_size_limit(source: SshSource, tmp_path: Path) -> None:
    file = tmp_path / "big"
    file.write_bytes(b"a" * 1000)
    assert source.read_bytes(str(file), limit=1000) == b"a" * 1000
    with pytest.raises(Unreadable, match="larger than 999 bytes"):
        source.read_bytes(str(file), limit=999)
    # a /proc file says 0 bytes: the limit holds while reading
    with pytest.raises(Unreadable, match="larger than 10 bytes"):
        source.read_bytes("/proc/self/status", limit=10)


def test_permission_denied_is_unreadable(
    sshd: LoopbackSshd, target: SshTarget, loop: LoopThread, shared_dir: Path
) -> None:
    secret = shared_dir / "secret"
    secret.write_text("hash")
    if os.geteuid() == 0:
        if UNPRIVILEGED not in sshd.users:
            reason = f"as root, needs the user {UNPRIVILEGED} to read without privileges"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
        secret.chmod(0o600)  # root's
        target = dataclasses.replace(target, user=UNPRIVILEGED)
    else:
        secret.chmod(0o000)
    with SshSource.connect(target, loop) as source:
        with pytest.raises(Unreadable, match="permission denied") as caught:
            source.read_bytes(str(secret))
        assert not isinstance(caught.value, HostUnavailable)
        assert source.stat(str(secret)).permissions == secret.stat().st_mode & 0o7777
        assert source.failure is None


def tree(root: Path) -> None:
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "ssh" / "sshd_config").write_text("Port 22\n")
    (root / "etc" / "empty.d").mkdir()
    (root / "etc" / "shadow").write_text("root:*:1::::::\n")
    (root / "etc" / "shadow").chmod(0o640)
    (root / "var" / "lib").mkdir(parents=True)
    (root / "var" / "lib" / "link-to-etc").symlink_to(root / "etc")  # not followed
    (root / "var" / "lib" / "broken").symlink_to("missing")
    os.mkfifo(root / "var" / "fifo")
    (root / "many").mkdir()
    for n in range(1300):  # more than one SFTP read and one batch
        (root / "many" / f"f{n:04}").write_bytes(b"x" * (n % 7))
    (root / "pruned" / "deep").mkdir(parents=True)
    (root / "pruned" / "deep" / "file").write_text("skip me")
    (root / "n\u00e4me with spaces").write_text("")


def local_walk(top: Path, prune: frozenset[str] = frozenset()) -> set[FileStat]:
    found = set()
    for directory, dirs, files in os.walk(top):
        for name in list(dirs):
            if os.path.join(directory, name) in prune:
                dirs.remove(name)
        for name in dirs + files:
            path = os.path.join(directory, name)
            if path not in prune:
                found.add(local_stat(path, follow=False))
    return found


def test_walk_gives_the_entries_and_lstats_of_a_local_walk(
    source: SshSource, tmp_path: Path
) -> None:
    tree(tmp_path)
    prune = frozenset({str(tmp_path / "pruned")})
    walked = [whole_seconds(entry.stat) for entry in source.walk(str(tmp_path), prune=prune)]
    assert len(walked) == len(set(walked))  # every object once
    assert set(walked) == local_walk(tmp_path, prune)
    assert str(tmp_path / "pruned" / "deep") not in {s.path for s in walked}
    paths = {s.path: s for s in walked}
    assert paths[str(tmp_path / "var" / "lib" / "link-to-etc")].is_symlink
    assert stat.S_ISFIFO(paths[str(tmp_path / "var" / "fifo")].mode)
    assert str(tmp_path / "var" / "lib" / "link-to-etc" / "shadow") not in paths


def test_walk_of_a_file_is_refused_and_an_early_stop_leaves_the_source_usable(
    source: SshSource, loop: LoopThread, tmp_path: Path
) -> None:
    tree(tmp_path)
    with pytest.raises(Unreadable, match="not a directory"):
        list(source.walk(str(tmp_path / "etc" / "shadow")))

    async def tasks(wanted: int | None = None) -> int:
        """The loop's other tasks, once there are `wanted` of them (or after 2 s)."""
        for _ in range(200):
            found = len(asyncio.all_tasks()) - 1
            if wanted is None or found == wanted:
                break
            await asyncio.sleep(0.01)
        return found

    before = loop.run(tasks(), 5)
    first = []
    for entry in source.walk(str(tmp_path)):  # the generator is closed when the loop breaks
        first.append(entry)
        if len(first) == 3:
            break
    # the listings in flight end (each closes its directory handle first)
    assert loop.run(tasks(before), 5) == before
    assert source.read_bytes(str(tmp_path / "etc" / "ssh" / "sshd_config")) == b"Port 22\n"


def test_walk_from_the_root_stays_out_of_pseudo_filesystems(source: SshSource) -> None:
    kept = {"/etc", "/proc", "/sys", "/dev", "/run"}
    prune = frozenset(f"/{name}" for name in os.listdir("/")) - kept  # a quick walk
    paths = [entry.path for entry in source.walk("/", prune=prune)]
    assert "/etc/passwd" in paths
    assert not [p for p in paths if p.startswith(("/proc", "/sys", "/dev", "/run"))]
    assert not [p for p in paths if p in prune]


def test_walk_stays_out_of_network_mounts_in_the_hosts_mount_table(
    source: SshSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree(tmp_path)
    share = tmp_path / "etc" / "ssh"
    table = (
        f"server:/export {share} nfs4 rw 0 0\n"
        f"tmpfs {tmp_path / 'many'} tmpfs rw 0 0\n"  # tmpfs is walked: /tmp often is one
    ).encode()
    read = source.read_bytes
    monkeypatch.setattr(
        source, "read_bytes", lambda path, limit=0: table if path == "/proc/mounts" else read(path)
    )
    paths = {entry.path for entry in source.walk(str(tmp_path))}
    assert str(share) not in paths
    assert str(share / "sshd_config") not in paths
    assert str(tmp_path / "many" / "f0001") in paths
    assert str(tmp_path / "etc" / "shadow") in paths


def test_a_host_that_stops_answering_fails_after_the_timeout(
    sshd: LoopbackSshd, target: SshTarget, loop: LoopThread
) -> None:
    source = SshSource.connect(dataclasses.replace(target, timeout=1.0), loop)
    stopped = sshd.session_pids()
    assert stopped
    try:
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(HostUnavailable, match="did not answer within 1s"):
            source.read_bytes("/etc/passwd")
        assert 0.9 < time.monotonic() - started < 3
        assert source.failure is not None and source.failure.kind is FailureKind.TIMEOUT
        started = time.monotonic()
        with pytest.raises(HostUnavailable):  # at once, not another timeout
            source.stat("/etc/passwd")
        assert time.monotonic() - started < 0.5
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        source.close()
