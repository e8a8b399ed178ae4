"""RootSource: everything resolved inside the root, nothing outside it ever read or opened."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assay.audit.loader import builtin_checks
from assay.audit.roots import LocalSource, RootSource
from assay.audit.runner import run
from assay.audit.source import Missing, Unreadable
from tests.audit.trees import build_tree


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    build_tree(
        path,
        {
            "files": {
                "/etc/shadow": "INSIDE-SHADOW\n",
                "/etc/hostname": "web1\n",
                "/outside/secret": "INSIDE-OUTSIDE\n",
            },
            "links": {
                "/etc/passwd": "/etc/shadow",
                "/etc/climb": "../../../../../../outside/secret",
                "/etc/a": "b",
                "/etc/b": "a",
                "/etc/self": "/etc/self",
                "/etc/relative": "hostname",
                "/lib": "usr/lib",
            },
            "dirs": {"/usr/lib/sysctl.d": {}},
        },
    )
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real file outside the root, with content that must never show up."""
    marker = f"OUTSIDE-SECRET-{uuid.uuid4().hex}"
    secret = tmp_path / "outside" / "secret"
    secret.parent.mkdir()
    secret.write_text(marker + "\n")
    yield secret, marker


def test_absolute_symlink_is_resolved_inside_the_root(root: Path) -> None:
    source = RootSource(root)
    assert source.read_bytes("/etc/passwd") == b"INSIDE-SHADOW\n"
    assert source.realpath("/etc/passwd") == "/etc/shadow"
    assert source.read_link("/etc/passwd") == "/etc/shadow"
    assert source.stat("/etc/passwd", follow_symlinks=False).is_symlink
    assert source.stat("/etc/passwd").is_file


def test_relative_symlink_cannot_climb_above_the_root(
    root: Path, outside: tuple[Path, str]
) -> None:
    # ../../../.. from /etc stops at the root: /outside/secret inside the root, not the
    # tmp_path/outside/secret sibling of the root.
    assert RootSource(root).read_bytes("/etc/climb") == b"INSIDE-OUTSIDE\n"
    assert RootSource(root).read_bytes("/../../../etc/hostname") == b"web1\n"


def test_symlink_to_a_real_file_outside_the_root_is_never_read(
    root: Path, outside: tuple[Path, str]
) -> None:
    secret, marker = outside
    os.symlink(str(secret), root / "etc" / "motd")
    os.symlink(str(secret.parent), root / "etc" / "outdir")
    source = RootSource(root)
    with pytest.raises(Missing):
        source.read_bytes("/etc/motd")
    with pytest.raises(Missing):
        source.list_dir("/etc/outdir")
    assert not source.exists("/etc/motd")
    for entry in source.walk():
        if entry.stat.is_file:
            assert marker.encode() not in source.read_bytes(entry.path)


def test_a_full_audit_never_reads_outside_the_root(
    tmp_path: Path, outside: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every probe family pointed at a file outside the root, by absolute and relative links
    and by Include paths: the outside content appears nowhere and nothing outside is touched."""
    secret, marker = outside
    root = tmp_path / "image"
    relative = os.path.relpath(secret, root / "etc")
    build_tree(
        root,
        {
            "files": {
                "/etc/ssh/sshd_config": f"Include {secret}\nInclude {relative}\n",
                "/etc/pam.d/su": f"@include {secret}\nauth include {relative}\n",
                "/etc/group": "root:x:0:\n",
            },
            "links": {
                "/etc/passwd": str(secret),
                "/etc/shadow": relative,
                "/etc/login.defs": str(secret),
                "/etc/fstab": str(secret),
                "/etc/sysctl.conf": str(secret),
                "/etc/sysctl.d/99-x.conf": relative,
                "/etc/modprobe.d/x.conf": str(secret),
                "/etc/pam.d/common-password": str(secret),
                "/etc/pam.d/common-auth": relative,
                "/etc/security/pwquality.conf": str(secret),
                "/var/lib/dpkg/status": str(secret),
                "/etc/ssh/ssh_host_rsa_key": str(secret),
                "/etc/systemd/system/multi-user.target.wants/x.service": str(secret),
                "/srv/escape": str(secret.parent),
                "/proc": str(secret.parent),
            },
        },
    )
    source, checks = RootSource(root), builtin_checks()
    touched: list[str] = []
    for name in ("open", "lstat", "stat", "listdir", "scandir", "readlink"):
        real = getattr(os, name)

        def spy(path: object, *args: object, _real: object = real, **kwargs: object) -> object:
            touched.append(os.fsdecode(path) if isinstance(path, str | bytes) else str(path))
            return _real(path, *args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(os, name, spy)
    audit = run(source, checks)
    monkeypatch.undo()
    dumped = json.dumps(audit.to_dict())
    assert marker not in dumped
    assert touched, "the spies saw nothing: the test would prove nothing"
    assert all(p == str(root) or p.startswith(str(root) + os.sep) for p in touched), [
        p for p in touched if not p.startswith(str(root))
    ][:5]
    assert {r.status for r in audit.results} >= {"pass", "fail"}


def test_symlink_loops_are_unreadable(root: Path) -> None:
    source = RootSource(root)
    for path in ("/etc/a", "/etc/self", "/etc/a/deeper"):
        with pytest.raises(Unreadable, match="symbolic links"):
            source.read_bytes(path)
    assert source.stat("/etc/a", follow_symlinks=False).is_symlink


def _recording(seen: list[str], real: Callable[..., int]) -> Callable[..., int]:
    def spy(path: str, *args: object, **kwargs: object) -> int:
        seen.append(path)
        return real(path, *args, **kwargs)

    return spy


def test_fifo_is_refused_without_being_opened(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.mkfifo(root / "etc" / "pipe")
    os.symlink("pipe", root / "etc" / "to-pipe")
    opened: list[str] = []
    monkeypatch.setattr(os, "open", _recording(opened, os.open))
    source = RootSource(root)
    for path in ("/etc/pipe", "/etc/to-pipe"):
        with pytest.raises(Unreadable, match="FIFO"):
            source.read_bytes(path)
    assert opened == []


def test_device_is_refused_without_being_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(os, "open", _recording(opened, os.open))
    with pytest.raises(Unreadable, match="character device"):
        LocalSource().read_bytes("/dev/null")
    assert opened == []


def test_directories_and_big_files_are_unreadable(root: Path) -> None:
    source = RootSource(root)
    with pytest.raises(Unreadable, match="directory"):
        source.read_bytes("/etc")
    with pytest.raises(Unreadable, match="larger than 4 bytes"):
        source.read_bytes("/etc/shadow", limit=4)
    with pytest.raises(Missing, match="not a directory"):
        source.read_bytes("/etc/hostname/inside")


def test_listing_stat_and_existence(root: Path) -> None:
    source = RootSource(root)
    names = source.list_dir("/etc")
    assert names == sorted(names) and "hostname" in names
    assert source.list_dir("/lib") == ["sysctl.d"]  # through the relative /lib -> usr/lib
    info = source.stat("/etc/hostname")
    assert info.path == "/etc/hostname" and info.is_file and info.size == 5
    assert stat.S_IMODE(os.stat(root / "etc" / "hostname").st_mode) == info.permissions
    assert source.exists("/etc/relative") and not source.exists("/etc/nothing")
    with pytest.raises(Unreadable):
        source.read_link("/etc/hostname")


def test_a_root_that_does_not_exist_makes_every_read_an_error(tmp_path: Path) -> None:
    source = RootSource(tmp_path / "missing")
    assert source.problem and "does not exist" in source.problem
    with pytest.raises(Unreadable, match="does not exist"):
        source.read_bytes("/etc/passwd")
    audit = run(source, builtin_checks())
    assert {r.status for r in audit.results} == {"error"}


def test_walk_does_not_follow_links_or_enter_pseudo_filesystems(
    tmp_path: Path, outside: tuple[Path, str]
) -> None:
    secret, _ = outside
    root = tmp_path / "walked"
    build_tree(
        root,
        {
            "files": {"/srv/a": "a", "/proc/1/status": "x", "/usr/bin/tool": "x"},
            "dirs": {"/tmp": {"mode": "1777"}},
            "links": {"/srv/out": str(secret.parent), "/bin": "usr/bin"},
        },
    )
    paths = {entry.path for entry in RootSource(root).walk()}
    assert {"/srv", "/srv/a", "/srv/out", "/bin", "/usr/bin/tool", "/tmp"} <= paths
    assert not any(p.startswith(("/proc", "/srv/out/", "/bin/")) for p in paths)
    assert "/usr/bin" in {e.path for e in RootSource(root).walk("/usr")}


def test_selective_walk_keeps_what_the_full_walk_would(tmp_path: Path) -> None:
    root = tmp_path / "sel"
    build_tree(
        root,
        {
            "files": {
                "/usr/bin/su": {"content": "x", "mode": "4755"},
                "/srv/open": {"content": "x", "mode": "0666"},
                "/srv/plain": "x",
            },
            "dirs": {"/tmp": {"mode": "1777"}, "/srv/drop": {"mode": "0777"}},
            "links": {"/srv/link": "plain"},
        },
    )
    source = RootSource(root)
    uid, gid = os.getuid(), os.getgid()
    kept, walked = source.walk_selected(
        mode_bits=0o6002, uids=frozenset({uid}), gids=frozenset({gid})
    )
    everything = list(source.walk())
    assert walked == len(everything)
    assert {e.path for e in kept} == {"/usr/bin/su", "/srv/open", "/tmp", "/srv/drop"}
    orphans, _ = source.walk_selected(mode_bits=0, uids=frozenset(), gids=frozenset())
    assert {e.path for e in orphans} == {e.path for e in everything}
