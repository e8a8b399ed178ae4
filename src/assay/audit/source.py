"""Where an audit reads a host's files from: the interface every target implements.

Probes never touch `os` or `open` directly: they ask a `FileSource`, so the same checks run
on the local machine, on an offline root filesystem (confined to that root, symlinks resolved
inside it) and on a remote host over SSH. Paths are always absolute POSIX paths *as seen on the
audited host* (`/etc/ssh/sshd_config`), whatever the target.

A source reports problems with the exceptions below, never with `OSError`, so that a probe can
turn them into a per-check result (not applicable, or error) instead of a crash. A source that
cannot be audited at all (a root that does not exist, a host that cannot be reached) may say so
in an optional `problem` attribute (a one-line reason, else None): the runner then reports
every check as an error with that reason instead of running it.
"""

from __future__ import annotations

import stat as stat_module
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

# Files probes read are configuration files; anything bigger is refused, not read.
DEFAULT_READ_LIMIT = 4 * 1024 * 1024


class SourceError(Exception):
    """A file could not be read from the audited host; the message says which and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Missing(SourceError):
    """The path does not exist on the audited host (or leads outside an offline root)."""

    def __init__(self, path: str, reason: str = "does not exist") -> None:
        super().__init__(path, reason)


class Unreadable(SourceError):
    """The path exists but cannot be read: permissions, a loop of symlinks, too big, I/O."""


@dataclass(frozen=True, slots=True)
class FileStat:
    """What `lstat`/`stat` says about a path on the audited host."""

    path: str
    mode: int  # st_mode: file type and permission bits
    uid: int
    gid: int
    size: int
    mtime: float

    @property
    def permissions(self) -> int:
        """The permission bits, e.g. 0o644 (with setuid/setgid/sticky: 0o4755)."""
        return stat_module.S_IMODE(self.mode)

    @property
    def is_file(self) -> bool:
        return stat_module.S_ISREG(self.mode)

    @property
    def is_dir(self) -> bool:
        return stat_module.S_ISDIR(self.mode)

    @property
    def is_symlink(self) -> bool:
        return stat_module.S_ISLNK(self.mode)


@dataclass(frozen=True, slots=True)
class WalkEntry:
    """One filesystem object met by a walk: its path on the host and its lstat."""

    stat: FileStat

    @property
    def path(self) -> str:
        return self.stat.path


class FileSource(Protocol):
    """Read-only access to an audited host's filesystem."""

    @property
    def description(self) -> str:
        """How the target is named in results: `local`, `root:/mnt/image`, `ssh:web1`."""

    def read_bytes(self, path: str, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """The content of a regular file (following symlinks, confined for offline roots).

        Raises `Missing` when it does not exist, `Unreadable` when it cannot be read or is
        larger than `limit` bytes."""

    def stat(self, path: str, *, follow_symlinks: bool = True) -> FileStat:
        """The path's status; `Missing` when it does not exist."""

    def list_dir(self, path: str) -> list[str]:
        """Names in a directory, sorted; `Missing` when it does not exist."""

    def exists(self, path: str) -> bool:
        """Whether the path exists (following symlinks)."""

    def read_link(self, path: str) -> str:
        """The target of a symbolic link, as stored in the link (not resolved): how a masked
        systemd unit (`-> /dev/null`) is told from an enabled one. `Missing` when the path does
        not exist, `Unreadable` when it is not a symbolic link."""

    def walk(self, top: str = "/", *, prune: frozenset[str] = frozenset()) -> Iterator[WalkEntry]:
        """Every object under `top` with its lstat, not following symlinks, staying on the
        filesystems a security walk should cover (pseudo filesystems such as /proc, /sys and
        /dev are never entered; `prune` adds absolute paths to skip). Unreadable directories
        are skipped, not fatal. Checks that need a walk share one walk per run."""
