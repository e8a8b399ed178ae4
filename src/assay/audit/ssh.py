"""The SSH target: a remote host's files read over SFTP (asyncssh), for synchronous probes.

Probes are synchronous; asyncssh is not. One asyncio event loop runs in a background thread
(`LoopThread`, one per inventory run or one shared by the process) and carries every
connection; each `SshSource` method submits a coroutine to it and waits for the answer at most
`SshTarget.timeout` seconds. A host that does not answer in time is marked failed: that call
and every later one raise `HostUnavailable` at once, so a hanging host costs one timeout, never
a hung run.

Authentication is by key only: the key files named by the target (then only those), else the
ssh-agent at SSH_AUTH_SOCK and the default keys in ~/.ssh, as ssh(1) does. Passwords and
~/.ssh/config are never used. The host key is checked against a known_hosts file
(~/.ssh/known_hosts by default); turning the check off is explicit and shows in `description`.

Over SFTP a few things differ from a local read: mtimes are whole seconds; a symlink loop reads
as missing (OpenSSH reports ELOOP as "no such file"); there is no st_dev, so `walk` tells
filesystems apart by the host's /proc/mounts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import os
import posixpath
import re
import socket
import stat as stat_module
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import asyncssh

from assay.audit.source import (
    DEFAULT_READ_LIMIT,
    FileStat,
    Missing,
    SourceError,
    Unreadable,
    WalkEntry,
)

T = TypeVar("T")

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"

# Never entered by a walk, whatever /proc/mounts says.
PSEUDO_PATHS = frozenset({"/proc", "/sys", "/dev", "/run"})
# Mount points of these filesystem types (and fuse.*) are not entered either: kernel pseudo
# filesystems, and network or user-space ones (another host's files, or slow to list).
# The same rule as the local target's (assay.audit.roots).
_FSTYPES = (
    "proc sysfs devtmpfs devpts cgroup cgroup2 securityfs debugfs tracefs configfs fusectl "
    "mqueue hugetlbfs pstore bpf autofs binfmt_misc efivarfs selinuxfs rpc_pipefs nsfs nfsd "
    "nfs nfs4 cifs smb3 smbfs ncpfs afs ceph glusterfs 9p davfs sshfs lustre beegfs gpfs fuse"
)
SKIPPED_FSTYPES = frozenset(_FSTYPES.split())

# Ciphers in order of preference: AES-GCM first, as it costs asyncssh a third less CPU per
# packet than ChaCha20-Poly1305 (the walk and many hosts at once are CPU-bound on the client).
CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)

_CHUNK = 64 * 1024  # read size when the host's size is no guide (/proc files say 0)
_WALK_BATCH = 512  # entries handed to the caller at a time
_FILE_TYPES = {
    asyncssh.FILEXFER_TYPE_REGULAR: stat_module.S_IFREG,
    asyncssh.FILEXFER_TYPE_DIRECTORY: stat_module.S_IFDIR,
    asyncssh.FILEXFER_TYPE_SYMLINK: stat_module.S_IFLNK,
    asyncssh.FILEXFER_TYPE_SOCKET: stat_module.S_IFSOCK,
    asyncssh.FILEXFER_TYPE_CHAR_DEVICE: stat_module.S_IFCHR,
    asyncssh.FILEXFER_TYPE_BLOCK_DEVICE: stat_module.S_IFBLK,
    asyncssh.FILEXFER_TYPE_FIFO: stat_module.S_IFIFO,
}
_KIND_NAMES = {
    stat_module.S_IFDIR: "a directory",
    stat_module.S_IFLNK: "a symbolic link",
    stat_module.S_IFSOCK: "a socket",
    stat_module.S_IFCHR: "a character device",
    stat_module.S_IFBLK: "a block device",
    stat_module.S_IFIFO: "a FIFO",
}


class FailureKind(enum.StrEnum):
    """Why a host could not be audited."""

    CONFIG = "config"  # a key or known_hosts file that cannot be used
    UNREACHABLE = "unreachable"  # name does not resolve, no route, ...
    REFUSED = "refused"  # nothing listens on the port
    TIMEOUT = "timeout"  # no answer in time, while connecting or later
    HOST_KEY = "host-key"  # the host's key is not the one in known_hosts
    AUTH = "auth"  # the server refused every key
    PROTOCOL = "protocol"  # SSH or SFTP failed otherwise (no SFTP subsystem, disconnect)
    LOST = "lost"  # the connection broke during the audit
    AUDIT = "audit"  # the audit function itself raised (a bug, not the host)


class SshError(Exception):
    """A host that cannot be reached, verified, logged into or read; `message` is one line."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class HostUnavailable(Unreadable):
    """A read failed because the host itself is gone (timeout, connection lost)."""

    def __init__(self, path: str, error: SshError) -> None:
        super().__init__(path, error.message)
        self.error = error


@dataclass(frozen=True, slots=True)
class SshTarget:
    """How to reach one host. Key and known_hosts paths may start with `~`."""

    address: str
    user: str
    port: int = 22
    keys: tuple[str, ...] = ()  # private key files; none: the agent and ~/.ssh/id_*
    known_hosts: str = DEFAULT_KNOWN_HOSTS
    check_host_key: bool = True  # False only on an explicit --insecure-no-host-check
    # Whole-filesystem checks (world-writable, SUID/SGID, unowned files) list every directory
    # of the host over SFTP: about a minute per host. Off unless asked for.
    walk: bool = False
    connect_timeout: float = 10.0  # TCP, SSH handshake and authentication
    timeout: float = 30.0  # each operation afterwards

    @property
    def description(self) -> str:
        """`ssh:user@host:port`, marked when the host key is not checked."""
        name = f"ssh:{self.user}@{self.address}:{self.port}"
        return name if self.check_host_key else f"{name} (host key NOT checked)"

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"


class LoopThread:
    """An asyncio event loop in a daemon thread, to which synchronous code submits coroutines."""

    def __init__(self, name: str = "assay-ssh") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """The coroutine's result; TimeoutError (and the coroutine cancelled) after `timeout`s."""
        future = self.submit(coro)
        done, _ = concurrent.futures.wait([future], timeout)
        if not done:
            future.cancel()
            raise TimeoutError
        return future.result()

    def call_soon(self, callback: Any, *args: Any) -> None:
        """Schedule a plain callback on the loop; nothing happens once the loop is closed."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, *args)

    def close(self) -> None:
        """Cancel what still runs, stop the loop and its thread."""
        if self._loop.is_closed():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_all(), 10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_shared: LoopThread | None = None
_shared_lock = threading.Lock()


def shared_loop() -> LoopThread:
    """The process's shared loop thread, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LoopThread("assay-ssh-shared")
        return _shared


def _encode(path: str) -> bytes:
    if not path.startswith("/"):
        raise ValueError(f"paths on the audited host are absolute: {path!r}")
    return path.encode("utf-8", "surrogateescape")


def _decode(name: bytes | str) -> str:
    return name if isinstance(name, str) else name.decode("utf-8", "surrogateescape")


def _file_stat(path: str, attrs: asyncssh.SFTPAttrs) -> FileStat:
    mode = attrs.permissions or 0
    if stat_module.S_IFMT(mode) == 0:  # the server sent permission bits only
        mode |= _FILE_TYPES.get(attrs.type, 0)
    ns = attrs.mtime_ns
    mtime = ns / 1e9 if ns is not None else float(attrs.mtime or 0)
    return FileStat(
        path=path,
        mode=mode,
        uid=attrs.uid if attrs.uid is not None else -1,
        gid=attrs.gid if attrs.gid is not None else -1,
        size=attrs.size or 0,
        mtime=mtime,
    )


class _Refused(Exception):
    """Raised inside a coroutine: the file is there but will not be read (type, size)."""


def _connect_error(target: SshTarget, exc: BaseException) -> SshError:
    where = target.endpoint
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return SshError(
            FailureKind.HOST_KEY,
            f"host key of {where} not trusted: no matching key in {target.known_hosts} "
            "(a new host, or someone in the middle)",
        )
    if isinstance(exc, asyncssh.PermissionDenied):
        keys = ", ".join(target.keys) if target.keys else "agent and default keys"
        return SshError(
            FailureKind.AUTH, f"authentication failed for {target.user}@{where} ({keys})"
        )
    if isinstance(exc, TimeoutError):
        return SshError(
            FailureKind.TIMEOUT,
            f"no SSH answer from {where} within {target.connect_timeout:g}s",
        )
    if isinstance(exc, ConnectionRefusedError):
        return SshError(FailureKind.REFUSED, f"connection refused by {where}")
    if isinstance(exc, socket.gaierror):
        return SshError(FailureKind.UNREACHABLE, f"cannot resolve {target.address}: {exc}")
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return SshError(FailureKind.UNREACHABLE, f"cannot connect to {where}: {reason}")
    if isinstance(exc, asyncssh.ChannelOpenError | asyncssh.SFTPError):
        return SshError(FailureKind.PROTOCOL, f"no SFTP on {where}: {exc}")
    if isinstance(exc, asyncssh.Error):
        return SshError(FailureKind.PROTOCOL, f"SSH failed with {where}: {exc.reason}")
    return SshError(FailureKind.PROTOCOL, f"SSH failed with {where}: {exc!r}")


def _client_options(target: SshTarget) -> dict[str, Any]:
    """asyncssh.connect's options; raises SshError(CONFIG) for unusable key/known_hosts files."""
    options: dict[str, Any] = {
        "username": target.user,
        "port": target.port,
        "config": None,  # never ~/.ssh/config: the target says everything
        "connect_timeout": target.connect_timeout,
        "password_auth": False,
        "kbdint_auth": False,
        "gss_auth": False,
        "host_based_auth": False,
        "encryption_algs": list(CIPHERS),
    }
    if target.keys:
        paths = [os.path.expanduser(key) for key in target.keys]
        try:
            options["client_keys"] = asyncssh.load_keypairs(paths)
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            message = f"cannot use the key files {', '.join(target.keys)}: {exc}"
            raise SshError(FailureKind.CONFIG, message) from None
        options["agent_path"] = None
    if target.check_host_key:
        path = os.path.expanduser(target.known_hosts)
        try:
            options["known_hosts"] = asyncssh.read_known_hosts(path)
        except (OSError, ValueError) as exc:
            message = (
                f"cannot check the host key of {target.endpoint}: known_hosts file "
                f"{target.known_hosts} unusable ({exc}); add the host's key to it"
            )
            raise SshError(FailureKind.CONFIG, message) from None
    else:
        options["known_hosts"] = None
    return options


async def _open(
    target: SshTarget, options: dict[str, Any]
) -> tuple[asyncssh.SSHClientConnection, asyncssh.SFTPClient]:
    conn = await asyncssh.connect(target.address, **options)
    try:
        sftp = await asyncio.wait_for(conn.start_sftp_client(), target.timeout)
    except BaseException:
        conn.abort()
        raise
    return conn, sftp


class SshSource:
    """A remote host's filesystem over SFTP; implements `FileSource`. Open with `connect`."""

    def __init__(
        self,
        target: SshTarget,
        loop: LoopThread,
        conn: asyncssh.SSHClientConnection,
        sftp: asyncssh.SFTPClient,
        *,
        walk_concurrency: int = 16,
    ) -> None:
        self.target = target
        self._loop = loop
        self._conn = conn
        self._sftp = sftp
        self._walk_concurrency = walk_concurrency
        self._failure: SshError | None = None
        self._closed = False
        # One source is one audit: a path's status is asked once per run (each answer, or the
        # error, is one round trip saved for every later check that looks at the same path).
        self._stats: dict[tuple[str, bool], FileStat | SourceError] = {}

    @classmethod
    def connect(
        cls, target: SshTarget, loop: LoopThread | None = None, *, walk_concurrency: int = 16
    ) -> SshSource:
        """Connect, check the host key, log in and start SFTP; SshError if any of it fails."""
        loop = loop or shared_loop()
        options = _client_options(target)
        # the coroutine's own timeouts fire first; this one only guards against a stuck loop
        limit = target.connect_timeout + target.timeout + 5
        try:
            conn, sftp = loop.run(_open(target, options), limit)
        except Exception as exc:
            raise _connect_error(target, exc) from exc
        return cls(target, loop, conn, sftp, walk_concurrency=walk_concurrency)

    @property
    def description(self) -> str:
        return self.target.description

    @property
    def failure(self) -> SshError | None:
        """Set once the host stopped answering or the connection broke; then nothing works."""
        return self._failure

    def close(self) -> None:
        """Close the connection (abort it if the host does not answer)."""
        if self._closed:
            return
        self._closed = True
        conn = self._conn

        async def close() -> None:
            conn.close()
            await conn.wait_closed()

        try:
            self._loop.run(close(), min(self.target.timeout, 5.0))
        except Exception:
            self._loop.call_soon(conn.abort)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- calls into the loop --------------------------------------------------------------

    def _fail(self, path: str, error: SshError) -> HostUnavailable:
        if self._failure is None:
            self._failure = error
            self._loop.call_soon(self._conn.abort)
        return HostUnavailable(path, self._failure)

    def _call(self, path: str, coro: Coroutine[Any, Any, T]) -> T:
        """Run one operation; map what goes wrong to Missing, Unreadable or HostUnavailable."""
        if self._failure is not None or self._closed:
            coro.close()
            error = self._failure or SshError(FailureKind.LOST, "the connection is closed")
            raise HostUnavailable(path, error)
        try:
            return self._loop.run(coro, self.target.timeout)
        except TimeoutError as exc:
            if exc.errno is not None:  # a socket's ETIMEDOUT, not the wait running out
                raise self._fail(path, _lost(self.target, exc)) from None
            message = f"{self.target.endpoint} did not answer within {self.target.timeout:g}s"
            raise self._fail(path, SshError(FailureKind.TIMEOUT, message)) from None
        except _Refused as exc:
            raise Unreadable(path, str(exc)) from None
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            raise Missing(path) from None
        except asyncssh.SFTPPermissionDenied:
            raise Unreadable(path, "permission denied") from None
        except (asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection) as exc:
            raise self._fail(path, _lost(self.target, exc)) from None
        except asyncssh.SFTPError as exc:
            raise Unreadable(path, exc.reason or f"SFTP error {exc.code}") from None
        except (asyncssh.Error, OSError, EOFError) as exc:
            raise self._fail(path, _lost(self.target, exc)) from None

    # -- FileSource -----------------------------------------------------------------------

    def read_bytes(self, path: str, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """A regular file's content: stat first (never opens a FIFO or device), then at most
        limit + 1 bytes. A file swapped for a FIFO between the two blocks the server's SFTP
        process until the per-operation timeout, which then fails the host."""
        return self._call(path, self._read(_encode(path), limit))

    async def _read(self, path: bytes, limit: int) -> bytes:
        attrs = await self._sftp.stat(path)
        mode = _file_stat("", attrs).mode
        if not stat_module.S_ISREG(mode):
            kind = _KIND_NAMES.get(stat_module.S_IFMT(mode), "special")
            raise _Refused(f"not a regular file ({kind})")
        size = attrs.size or 0
        if size > limit:
            raise _Refused(f"larger than {limit} bytes")
        data = bytearray()
        async with await self._sftp.open(path, "rb") as remote:
            # the size is a hint only: the file may have grown, and /proc files report 0
            want = min(max(size + 1, _CHUNK), limit + 1)
            while True:
                chunk: bytes = await remote.read(want, len(data))
                data += chunk
                if len(data) > limit:
                    raise _Refused(f"larger than {limit} bytes")
                if len(chunk) < want:  # asyncssh reads on until `want` bytes or the end
                    break
                want = min(_CHUNK, limit + 1 - len(data))
        return bytes(data)

    def stat(self, path: str, *, follow_symlinks: bool = True) -> FileStat:
        key = (path, follow_symlinks)
        known = self._stats.get(key)
        if known is None:
            call = self._sftp.stat if follow_symlinks else self._sftp.lstat
            try:
                known = _file_stat(path, self._call(path, call(_encode(path))))
            except HostUnavailable:
                raise
            except SourceError as exc:
                known = exc
            self._stats[key] = known
        if isinstance(known, SourceError):
            raise known
        return known

    def list_dir(self, path: str) -> list[str]:
        try:
            return self._call(path, self._list(_encode(path)))
        except Missing:
            # OpenSSH answers "no such file" for a file too; say which it is
            if self.stat(path).is_dir:
                raise
            raise Unreadable(path, "not a directory") from None

    async def _list(self, path: bytes) -> list[str]:
        names = [_decode(entry.filename) async for entry in self._sftp.scandir(path)]
        return sorted(name for name in names if name not in (".", ".."))

    def exists(self, path: str) -> bool:
        """Missing means False; a path that cannot be checked (permissions) raises Unreadable."""
        try:
            self.stat(path)
        except Missing:
            return False
        return True

    def read_link(self, path: str) -> str:
        try:
            return _decode(self._call(path, self._sftp.readlink(_encode(path))))
        except HostUnavailable:
            raise
        except Unreadable:
            # OpenSSH answers a vague "bad message" (EINVAL) for anything but a link
            if self.stat(path, follow_symlinks=False).is_symlink:
                raise
            raise Unreadable(path, "not a symbolic link") from None

    @property
    def walk_refusal(self) -> str | None:
        """Why checks that need the whole-filesystem walk do not run here (None: they do)."""
        if self.target.walk:
            return None
        return "the filesystem walk is off for SSH targets (turn it on with walk: true)"

    def walk(self, top: str = "/", *, prune: frozenset[str] = frozenset()) -> Iterator[WalkEntry]:
        """Every object below `top` (not `top` itself) with its lstat, in no set order; paths
        start at `top` resolved on the host. `Unreadable` when `top` is not a directory.

        Cost: one SFTP directory listing per directory (open, one read per ~100 names,
        close), `walk_concurrency` of them in flight on the one connection. On loopback the
        client's CPU is the limit (asyncssh decodes every name in Python): about 15-20,000
        entries a second, a minute for a full Debian root; over a network add
        directories x round trip / walk_concurrency. Entries come in batches; a caller that
        stops early stops the walk. Never entered nor yielded: /proc, /sys, /dev, /run,
        mount points of pseudo and network filesystems in the host's /proc/mounts, and
        `prune`. Unreadable directories are skipped."""
        if not self.stat(top).is_dir:
            raise Unreadable(top, "not a directory")
        top = _decode(self._call(top, self._sftp.realpath(_encode(top))))
        skip = PSEUDO_PATHS | self._skipped_mounts() | {posixpath.normpath(p) for p in prune}
        walker = _Walker(self._sftp, top, skip, self._walk_concurrency)
        self._call(top, walker.start())
        try:
            while True:
                batch = self._call(top, walker.next_batch())
                if batch is None:
                    return
                yield from batch
        finally:
            self._loop.call_soon(walker.cancel)

    def _skipped_mounts(self) -> frozenset[str]:
        """Mount points of filesystems a walk stays out of, from the host's /proc/mounts."""
        try:
            table = self.read_bytes("/proc/mounts").decode("utf-8", "surrogateescape")
        except HostUnavailable:
            raise
        except SourceError:
            return frozenset()
        found = set()
        for line in table.splitlines():
            fields = line.split()
            if len(fields) < 3 or fields[1] == "/" or not _skipped_fstype(fields[2]):
                continue
            # /proc/mounts writes blanks, tabs, newlines and backslashes as octal escapes
            found.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[1]))
        return frozenset(found)


def _skipped_fstype(fstype: str) -> bool:
    return fstype in SKIPPED_FSTYPES or fstype.startswith("fuse.")


def _lost(target: SshTarget, exc: BaseException) -> SshError:
    reason = str(exc) or type(exc).__name__
    return SshError(FailureKind.LOST, f"connection to {target.endpoint} lost: {reason}")


class _Walker:
    """A breadth-first directory walk on the event loop: `concurrency` listings in flight,
    finished batches in a bounded queue (a slow consumer pauses the listings)."""

    def __init__(
        self, sftp: asyncssh.SFTPClient, top: str, skip: frozenset[str], concurrency: int
    ) -> None:
        self._sftp = sftp
        self._top = top
        self._skip = skip
        self._concurrency = max(1, concurrency)
        self._dirs: asyncio.Queue[str] = asyncio.Queue()
        self._out: asyncio.Queue[list[WalkEntry] | BaseException | None] = asyncio.Queue(64)
        self._pending = 0  # directories queued or being listed
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._pending = 1
        self._dirs.put_nowait(self._top)
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._concurrency)]

    async def next_batch(self) -> list[WalkEntry] | None:
        item = await self._out.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _work(self) -> None:
        while True:
            directory = await self._dirs.get()
            try:
                async for batch in self._list(directory):
                    await self._out.put(batch)
            except asyncssh.SFTPError as exc:
                if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
                    await self._out.put(exc)
                    return
                # unreadable or vanished directory: skipped
            except (asyncssh.Error, OSError) as exc:
                await self._out.put(exc)
                return
            self._pending -= 1
            if self._pending == 0:
                await self._out.put(None)

    async def _list(self, directory: str) -> AsyncIterator[list[WalkEntry]]:
        batch: list[WalkEntry] = []
        prefix = directory.rstrip("/") + "/"
        async for entry in self._sftp.scandir(directory.encode("utf-8", "surrogateescape")):
            name = _decode(entry.filename)
            if name in (".", ".."):
                continue
            path = prefix + name
            if path in self._skip:
                continue
            stat = _file_stat(path, entry.attrs)
            if stat.is_dir:
                self._pending += 1
                self._dirs.put_nowait(path)
            batch.append(WalkEntry(stat))
            if len(batch) >= _WALK_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
