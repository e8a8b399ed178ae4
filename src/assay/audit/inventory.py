"""Inventories: many SSH hosts in one YAML file, audited concurrently with a bound.

    defaults:                          # optional: what a host leaves out
      user: audit
      port: 22
      key: ~/.ssh/audit_ed25519         # or a list; no key: the ssh-agent and ~/.ssh/id_*
      known_hosts: ~/.ssh/known_hosts   # the default
      connect_timeout: 10               # seconds for TCP, SSH handshake and login
      timeout: 30                       # seconds for each read afterwards
      walk: false                       # whole-filesystem checks over SFTP (slow): off
    hosts:
      - name: web1                      # unique; results name the host by it
        address: 192.0.2.10             # default: the name
        port: 2222
        user: admin
        key: keys/web1                  # relative paths start at the inventory's folder
        known_hosts: site_known_hosts
        tags: [web, production]
        asset: WEB-01                   # the host's name in the asset register
        walk: true                      # this host: run the whole-filesystem checks too

Host key checking cannot be turned off in the file, only by the caller (`check_host_keys`),
which the CLI exposes as an explicit flag; every outcome says whether the key was checked.

`audit_hosts` runs a caller's synchronous `audit_one(source)` for every host in a thread pool
of `max_concurrent` threads over one event loop thread (see `assay.audit.ssh`). Whatever one
host does (refuses, hangs, fails the host key or the login, breaks mid-audit, or makes
`audit_one` raise), it ends as that host's error; the others go on.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from assay.audit.source import FileSource
from assay.audit.ssh import (
    DEFAULT_KNOWN_HOSTS,
    FailureKind,
    LoopThread,
    SshError,
    SshSource,
    SshTarget,
)
from assay.catalog.yamlfile import ContentError, Problem, compose, line_of, validate
from assay.errors import InvalidInput

T = TypeVar("T")

MAX_CONCURRENT = 20

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Port = Annotated[int, Field(strict=True, ge=1, le=65535)]
Seconds = Annotated[float, Field(strict=True, gt=0, le=3600)]
Keys = Text | Annotated[list[Text], Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Model):
    """Values for every host that does not set its own."""

    user: Text | None = None
    port: Port = 22
    key: Keys | None = None
    known_hosts: Text = DEFAULT_KNOWN_HOSTS
    connect_timeout: Seconds = 10.0
    timeout: Seconds = 30.0
    walk: bool = False


class HostEntry(_Model):
    """One host as written in the file."""

    name: Text
    address: Text | None = None
    port: Port | None = None
    user: Text | None = None
    key: Keys | None = None
    known_hosts: Text | None = None
    tags: list[Text] = []
    asset: Text | None = None
    walk: bool | None = None


class InventoryDocument(_Model):
    defaults: Defaults = Defaults()
    hosts: list[HostEntry] = Field(min_length=1)


@dataclass(frozen=True)
class InventoryHost:
    """A host ready to audit: its name, how to reach it, and labels for the results."""

    name: str
    target: SshTarget
    tags: tuple[str, ...] = ()
    asset: str | None = None


def _path(value: str, base: Path | None) -> str:
    """`~` expanded; a relative path taken from the inventory's folder."""
    path = Path(os.path.expanduser(value))
    if not path.is_absolute() and base is not None:
        path = base / path
    return str(path)


def _keys(value: str | list[str] | None, base: Path | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(_path(key, base) for key in ([value] if isinstance(value, str) else value))


def parse_inventory(data: bytes, name: str, base: Path | None = None) -> list[InventoryHost]:
    """The hosts of an inventory file's bytes; ContentError naming the line of each problem.

    `base` is the folder relative key and known_hosts paths start from."""
    value, node = compose(data, name)
    document = validate(value, node, name, InventoryDocument)
    defaults = document.defaults
    problems: list[Problem] = []
    first_line: dict[str, int | None] = {}
    hosts: list[InventoryHost] = []
    for index, entry in enumerate(document.hosts):
        where = ("hosts", index)
        if entry.name in first_line:
            seen = first_line[entry.name]
            message = f"duplicate host name {entry.name!r}" + (
                f" (first at line {seen})" if seen else ""
            )
            loc = (*where, "name")
            problems.append(Problem(line_of(node, loc), f"hosts.{index}.name", message))
            continue
        first_line[entry.name] = line_of(node, (*where, "name"))
        user = entry.user or defaults.user
        if user is None:
            message = "no user: set `user` here or in `defaults`"
            problems.append(Problem(line_of(node, where), f"hosts.{index}", message))
            continue
        target = SshTarget(
            address=entry.address or entry.name,
            user=user,
            port=entry.port or defaults.port,
            keys=_keys(entry.key if entry.key is not None else defaults.key, base),
            known_hosts=_path(entry.known_hosts or defaults.known_hosts, base),
            connect_timeout=defaults.connect_timeout,
            timeout=defaults.timeout,
            walk=defaults.walk if entry.walk is None else entry.walk,
        )
        hosts.append(InventoryHost(entry.name, target, tuple(entry.tags), entry.asset))
    if problems:
        raise ContentError(name, problems)
    return hosts


def load_inventory(path: Path) -> list[InventoryHost]:
    """Read and check an inventory file (relative paths in it start at its folder)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the inventory {path}: {exc.strerror or exc}") from None
    return parse_inventory(data, path.name, path.resolve().parent)


@dataclass(frozen=True)
class HostOutcome(Generic[T]):
    """What auditing one host gave: `result`, or an `error` (one line) of some `kind`."""

    host: InventoryHost
    description: str  # the source's description, marked when the host key was not checked
    result: T | None
    error: str | None
    kind: FailureKind | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def host_key_checked(self) -> bool:
        return self.host.target.check_host_key


def _audit_host(
    host: InventoryHost, audit_one: Callable[[FileSource], T], loop: LoopThread
) -> HostOutcome[T]:
    start = time.perf_counter()
    target = host.target

    def outcome(result: T | None, error: SshError | None) -> HostOutcome[T]:
        return HostOutcome(
            host=host,
            description=target.description,
            result=result,
            error=error.message if error else None,
            kind=error.kind if error else None,
            seconds=time.perf_counter() - start,
        )

    try:
        source = SshSource.connect(target, loop)
    except SshError as exc:
        return outcome(None, exc)
    try:
        result = audit_one(source)
    except Exception as exc:  # one host's failure never stops the others
        failure = source.failure or SshError(FailureKind.AUDIT, f"the audit failed: {exc!r}")
        return outcome(None, failure)
    finally:
        source.close()
    # a host that stopped answering mid-audit: its checks ended in errors, not findings
    return outcome(None, source.failure) if source.failure else outcome(result, None)


def audit_hosts(
    hosts: Sequence[InventoryHost],
    audit_one: Callable[[FileSource], T],
    *,
    max_concurrent: int = MAX_CONCURRENT,
    check_host_keys: bool = True,
    on_done: Callable[[HostOutcome[T]], None] | None = None,
) -> list[HostOutcome[T]]:
    """Audit every host, at most `max_concurrent` at a time; outcomes in the hosts' order.

    `on_done` is called in the caller's thread as each host finishes (for a progress bar).
    `check_host_keys=False` skips host key verification for every host (the insecure flag)."""
    if max_concurrent < 1:
        raise ValueError("max_concurrent must be at least 1")
    if not check_host_keys:
        hosts = [
            dataclasses.replace(h, target=dataclasses.replace(h.target, check_host_key=False))
            for h in hosts
        ]
    outcomes: list[HostOutcome[T] | None] = [None] * len(hosts)
    if not hosts:
        return []
    workers = min(max_concurrent, len(hosts))
    with LoopThread("assay-ssh-inventory") as loop:
        pool = ThreadPoolExecutor(workers, thread_name_prefix="assay-audit")
        try:
            futures: dict[Future[HostOutcome[T]], int] = {
                pool.submit(_audit_host, host, audit_one, loop): index
                for index, host in enumerate(hosts)
            }
            for future in as_completed(futures):
                done = future.result()
                outcomes[futures[future]] = done
                if on_done is not None:
                    on_done(done)
        except BaseException:
            # interrupted: drop the hosts not started; closing the loop ends the others' reads
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    return [outcome for outcome in outcomes if outcome is not None]
