"""Offline root filesystems and the local machine, as `FileSource`s.

`RootSource(path)` reads a mounted disk image or an unpacked container image without ever
leaving it: every path is resolved one component at a time inside the root, as the kernel
would resolve it after `chroot` (absolute symlinks restart at the root, `..` stops at the root,
more than 40 symlinks is a loop), and the final file is opened with `O_NOFOLLOW`. Only regular
files are opened: a FIFO or a device is refused before it is touched. Nothing is executed.

`LocalSource()` is the live machine: a `RootSource` at `/` whose walk also skips pseudo and
network filesystems found in the mount table.
"""

from __future__ import annotations

import os
import stat as st
from collections.abc import Iterator

from assay.audit.source import (
    DEFAULT_READ_LIMIT,
    FileStat,
    Missing,
    SourceError,
    Unreadable,
    WalkEntry,
)

MAX_SYMLINKS = 40
# Never entered by a walk, on any target: kernel interfaces and runtime state, not files.
ALWAYS_PRUNED = frozenset({"/proc", "/sys", "/dev", "/run"})

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_KINDS = {
    st.S_IFDIR: "a directory",
    st.S_IFCHR: "a character device",
    st.S_IFBLK: "a block device",
    st.S_IFIFO: "a FIFO",
    st.S_IFSOCK: "a socket",
    st.S_IFLNK: "a symbolic link",
}


def kind_of(mode: int) -> str:
    """`a regular file`, `a directory`, `a FIFO`... for messages."""
    return _KINDS.get(st.S_IFMT(mode), "a regular file" if st.S_ISREG(mode) else "special")


def _file_stat(path: str, s: os.stat_result) -> FileStat:
    return FileStat(path, s.st_mode, s.st_uid, s.st_gid, s.st_size, s.st_mtime)


def _os_error(path: str, exc: OSError) -> SourceError:
    if isinstance(exc, FileNotFoundError):
        return Missing(path)
    if isinstance(exc, NotADirectoryError):
        return Missing(path, "a component of the path is not a directory")
    if isinstance(exc, PermissionError):
        return Unreadable(path, "permission denied")
    return Unreadable(path, exc.strerror or str(exc))


class RootSource:
    """A filesystem tree read as if it were `/`, confined to that tree."""

    def __init__(self, root: str | os.PathLike[str], *, description: str | None = None) -> None:
        # The root is the operator's own choice: resolve it once on the auditing machine.
        self.root = os.path.realpath(os.fspath(root))
        self._prefix = "" if self.root == "/" else self.root
        self._description = description or f"root:{self.root}"
        self._problem = self._root_problem()

    def _root_problem(self) -> str | None:
        try:
            mode = os.stat(self.root).st_mode
        except FileNotFoundError:
            return f"the root {self.root} does not exist"
        except OSError as exc:
            return f"the root {self.root} cannot be read: {exc.strerror or exc}"
        return None if st.S_ISDIR(mode) else f"the root {self.root} is not a directory"

    @property
    def description(self) -> str:
        return self._description

    @property
    def problem(self) -> str | None:
        """Why this root cannot be audited at all (missing, not a directory), else None."""
        return self._problem

    # -- resolution --------------------------------------------------------------------------

    def _host(self, parts: list[str]) -> str:
        return self._prefix + "/" + "/".join(parts) if parts else self.root

    def _resolve(self, path: str, *, follow: bool) -> tuple[str, list[str], os.stat_result]:
        """The host path, the audited components and the lstat of `path` inside the root."""
        if self._problem:
            raise Unreadable(path, self._problem)
        if not path.startswith("/") or "\0" in path:
            raise Missing(path, "not an absolute path")
        pending = path.split("/")[::-1]  # a stack: the next component is at the end
        parts: list[str] = []
        links = 0
        last: os.stat_result | None = None
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if parts:
                    parts.pop()
                last = None
                continue
            host = self._host([*parts, name])
            try:
                info = os.lstat(host)
            except OSError as exc:
                raise _os_error(path, exc) from None
            more = any(p not in ("", ".") for p in pending)
            if st.S_ISLNK(info.st_mode) and (more or follow):
                links += 1
                if links > MAX_SYMLINKS:
                    raise Unreadable(path, "too many levels of symbolic links (a loop?)")
                try:
                    target = os.readlink(host)
                except OSError as exc:
                    raise _os_error(path, exc) from None
                if target.startswith("/"):
                    parts = []  # an absolute link restarts at the root, never at the host's /
                pending.extend(target.split("/")[::-1])
                last = None
                continue
            if more and not st.S_ISDIR(info.st_mode):
                raise Missing(path, "a component of the path is not a directory")
            parts.append(name)
            last = info
        host = self._host(parts)
        if last is None:
            try:
                last = os.lstat(host)
            except OSError as exc:
                raise _os_error(path, exc) from None
        return host, parts, last

    def realpath(self, path: str, *, follow_symlinks: bool = True) -> str:
        """The path on the audited host once symlinks are resolved inside the root."""
        _, parts, _ = self._resolve(path, follow=follow_symlinks)
        return "/" + "/".join(parts)

    # -- FileSource --------------------------------------------------------------------------

    def read_bytes(self, path: str, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        host, _, info = self._resolve(path, follow=True)
        if not st.S_ISREG(info.st_mode):
            raise Unreadable(path, f"not a regular file ({kind_of(info.st_mode)})")
        if info.st_size > limit:
            raise Unreadable(path, f"larger than {limit} bytes")
        try:
            fd = os.open(host, _OPEN_FLAGS)
        except OSError as exc:
            raise _os_error(path, exc) from None
        try:
            if not st.S_ISREG(os.fstat(fd).st_mode):  # replaced since it was resolved
                raise Unreadable(path, "not a regular file")
            chunks: list[bytes] = []
            size = 0
            while chunk := os.read(fd, 65536):
                size += len(chunk)
                if size > limit:
                    raise Unreadable(path, f"larger than {limit} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError as exc:
            raise _os_error(path, exc) from None
        finally:
            os.close(fd)

    def stat(self, path: str, *, follow_symlinks: bool = True) -> FileStat:
        _, _, info = self._resolve(path, follow=follow_symlinks)
        return _file_stat(path, info)

    def list_dir(self, path: str) -> list[str]:
        host, _, info = self._resolve(path, follow=True)
        if not st.S_ISDIR(info.st_mode):
            raise Unreadable(path, f"not a directory ({kind_of(info.st_mode)})")
        try:
            return sorted(os.listdir(host))
        except OSError as exc:
            raise _os_error(path, exc) from None

    def exists(self, path: str) -> bool:
        try:
            self._resolve(path, follow=True)
        except Missing:
            return False
        return True

    def read_link(self, path: str) -> str:
        host, _, info = self._resolve(path, follow=False)
        if not st.S_ISLNK(info.st_mode):
            raise Unreadable(path, f"not a symbolic link ({kind_of(info.st_mode)})")
        try:
            return os.readlink(host)
        except OSError as exc:
            raise _os_error(path, exc) from None

    # -- walks -------------------------------------------------------------------------------

    def pruned(self) -> frozenset[str]:
        """Absolute paths a walk never enters on this target."""
        return ALWAYS_PRUNED

    def _walk_start(self, top: str) -> tuple[str, str]:
        host, parts, info = self._resolve(top, follow=True)
        if not st.S_ISDIR(info.st_mode):
            raise Unreadable(top, f"not a directory ({kind_of(info.st_mode)})")
        return host, "/" + "/".join(parts) if parts else "/"

    def walk(self, top: str = "/", *, prune: frozenset[str] = frozenset()) -> Iterator[WalkEntry]:
        host_top, top_path = self._walk_start(top)
        skip = self.pruned() | prune
        stack = [(host_top, "" if top_path == "/" else top_path)]
        scandir, is_dir = os.scandir, st.S_ISDIR
        while stack:
            host_dir, base = stack.pop()
            try:
                entries = scandir(host_dir)
            except OSError:
                continue  # unreadable or vanished directory: skipped, not fatal
            with entries:
                for entry in entries:
                    path = base + "/" + entry.name
                    if path in skip:
                        continue
                    try:
                        s = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    yield WalkEntry(
                        FileStat(path, s.st_mode, s.st_uid, s.st_gid, s.st_size, s.st_mtime)
                    )
                    if is_dir(s.st_mode):
                        stack.append((entry.path, path))

    def walk_selected(
        self,
        top: str = "/",
        *,
        prune: frozenset[str] = frozenset(),
        mode_bits: int,
        uids: frozenset[int],
        gids: frozenset[int],
    ) -> tuple[list[WalkEntry], int]:
        """The same walk as `walk`, keeping only entries with any of `mode_bits` set (symlinks
        excepted) or owned by a uid/gid outside `uids`/`gids`; returns them and the number of
        entries walked. Builds no object for the other entries: a full walk of a few hundred
        thousand files is dominated by that cost."""
        host_top, top_path = self._walk_start(top)
        skip = self.pruned() | prune
        stack = [(host_top, "" if top_path == "/" else top_path)]
        scandir, is_dir, is_link = os.scandir, st.S_ISDIR, st.S_ISLNK
        kept: list[WalkEntry] = []
        walked = 0
        while stack:
            host_dir, base = stack.pop()
            try:
                entries = scandir(host_dir)
            except OSError:
                continue
            with entries:
                for entry in entries:
                    try:
                        s = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    mode = s.st_mode
                    if (
                        (mode & mode_bits and not is_link(mode))
                        or s.st_uid not in uids
                        or s.st_gid not in gids
                    ):
                        path = base + "/" + entry.name
                        if path in skip:
                            continue
                        kept.append(WalkEntry(_file_stat(path, s)))
                    if is_dir(mode):
                        path = base + "/" + entry.name
                        if path in skip:
                            continue
                        stack.append((entry.path, path))
                    walked += 1
        return kept, walked


# Filesystem types a walk of the live machine does not enter: kernel interfaces, and network
# or user-space filesystems (another host's files, or slow to list).
PSEUDO_FILESYSTEMS = frozenset(
    {
        "proc",
        "sysfs",
        "devtmpfs",
        "devpts",
        "cgroup",
        "cgroup2",
        "securityfs",
        "debugfs",
        "tracefs",
        "configfs",
        "fusectl",
        "mqueue",
        "hugetlbfs",
        "pstore",
        "bpf",
        "autofs",
        "binfmt_misc",
        "efivarfs",
        "selinuxfs",
        "rpc_pipefs",
        "nsfs",
        "nfsd",
    }
)
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "ceph",
        "glusterfs",
        "9p",
        "davfs",
        "sshfs",
        "lustre",
        "beegfs",
        "gpfs",
    }
)


def skipped_mount(fstype: str) -> bool:
    """Whether a walk of the live machine stays out of a filesystem of this type."""
    return (
        fstype in PSEUDO_FILESYSTEMS
        or fstype in NETWORK_FILESYSTEMS
        or fstype.startswith("fuse.")
        or fstype == "fuse"
    )


class LocalSource(RootSource):
    """The machine Assay runs on."""

    def __init__(self) -> None:
        super().__init__("/", description="local")
        self._pruned: frozenset[str] | None = None

    def pruned(self) -> frozenset[str]:
        if self._pruned is None:
            from assay.audit.probes.mounts import parse_mount_table

            extra: set[str] = set()
            try:
                table = self.read_bytes("/proc/self/mounts")
            except SourceError:
                table = b""
            for mount in parse_mount_table(table.decode("utf-8", "replace"), "/proc/self/mounts"):
                if mount.mount_point != "/" and skipped_mount(mount.fstype):
                    extra.add(mount.mount_point)
            self._pruned = ALWAYS_PRUNED | extra
        return self._pruned
