"""Building fixture root filesystems for audit tests, and running one check on them.

A tree spec (used by scenarios/<area>.yaml and by unit tests) is a mapping:

    files:   {/etc/ssh/sshd_config: "text", /etc/shadow: {content: "...", mode: "0640",
              uid: 0, gid: 42}}
    dirs:    {/tmp: {mode: "1777"}}
    links:   {/etc/alias: /etc/target}          # symbolic links, target as written
    fifos:   [/etc/fifo]

Modes are real (chmod). Owners are not: tests may run as any user, so `OwnedSource` reports
the spec's uid/gid (default 0/0, root) for every path of the tree, resolving symlinks inside
the root first, exactly where a real owner would come from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from assay.audit.probes.base import Context
from assay.audit.roots import RootSource
from assay.audit.runner import CheckResult, run_check
from assay.audit.schema import Check
from assay.audit.source import FileStat, WalkEntry


def _mode(value: Any, default: int) -> int:
    return int(str(value), 8) if value is not None else default


def _host(root: Path, path: str) -> Path:
    assert path.startswith("/"), path
    return root / path.lstrip("/")


def _parent(root: Path, path: str) -> None:
    """Create the parent directories of `path` (mode 0755, whatever the umask)."""
    current = root
    for part in Path(path.lstrip("/")).parent.parts:
        current = current / part
        if not current.exists():
            current.mkdir()
            current.chmod(0o755)


def build_tree(root: Path, spec: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """Create the tree under `root`; return the owners (uid, gid) it asks for, by path."""
    root.mkdir(parents=True, exist_ok=True)
    owners: dict[str, tuple[int, int]] = {}
    for path, item in (spec.get("dirs") or {}).items():
        item = item or {}
        _parent(root, path)
        host = _host(root, path)
        host.mkdir(exist_ok=True)
        host.chmod(_mode(item.get("mode"), 0o755))
        owners[path] = (int(item.get("uid", 0)), int(item.get("gid", 0)))
    for path, item in (spec.get("files") or {}).items():
        if not isinstance(item, dict):
            item = {"content": item}
        _parent(root, path)
        host = _host(root, path)
        content = item.get("content", "")
        host.write_bytes(content.encode() if isinstance(content, str) else bytes(content))
        host.chmod(_mode(item.get("mode"), 0o644))
        owners[path] = (int(item.get("uid", 0)), int(item.get("gid", 0)))
    for path, target in (spec.get("links") or {}).items():
        _parent(root, path)
        os.symlink(target, _host(root, path))
    for path in spec.get("fifos") or ():
        _parent(root, path)
        os.mkfifo(_host(root, path))
    return owners


class OwnedSource(RootSource):
    """A RootSource that reports the tree spec's owners instead of the test user's."""

    def __init__(self, root: Path, owners: dict[str, tuple[int, int]]) -> None:
        super().__init__(root)
        self.owners = owners

    def _owned(self, info: FileStat, real_path: str) -> FileStat:
        uid, gid = self.owners.get(real_path, (0, 0))
        return replace(info, uid=uid, gid=gid)

    def stat(self, path: str, *, follow_symlinks: bool = True) -> FileStat:
        info = super().stat(path, follow_symlinks=follow_symlinks)
        return self._owned(info, self.realpath(path, follow_symlinks=follow_symlinks))

    def walk(self, top: str = "/", *, prune: frozenset[str] = frozenset()) -> Iterator[WalkEntry]:
        for entry in super().walk(top, prune=prune):
            yield WalkEntry(self._owned(entry.stat, entry.path))

    # Owners are virtual: the walk probe must take the generic, entry-by-entry walk.
    walk_selected = None  # type: ignore[assignment]


def make_source(root: Path, spec: Mapping[str, Any]) -> OwnedSource:
    return OwnedSource(root, build_tree(root, spec))


def run_one(check: Check, source: RootSource) -> CheckResult:
    return run_check(Context(source), check)
