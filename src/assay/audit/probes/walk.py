"""Findings of the one filesystem walk of a run: world-writable files, world-writable
directories without the sticky bit, SUID/SGID files, files of no known user or group.

The walk happens the first time a check needs it and is shared by every check of the run.
Sources that can filter while walking (`walk_selected`, as `RootSource` does) are asked for the
interesting entries only; any other `FileSource` is walked entry by entry.
"""

from __future__ import annotations

import fnmatch
import stat as st
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from assay.audit.probes.accounts import group_names, user_names
from assay.audit.probes.base import Context, Location, NotApplicable, Observation, ProbeError
from assay.audit.schema import WalkProbe
from assay.audit.source import WalkEntry

MAX_SHOWN = 30
INTERESTING_BITS = st.S_ISUID | st.S_ISGID | st.S_IWOTH


@runtime_checkable
class SelectiveWalker(Protocol):
    def walk_selected(
        self,
        top: str = "/",
        *,
        prune: frozenset[str] = frozenset(),
        mode_bits: int,
        uids: frozenset[int],
        gids: frozenset[int],
    ) -> tuple[list[WalkEntry], int]: ...


@dataclass(frozen=True)
class WalkIndex:
    """What the walk found (sorted paths) and what it cost."""

    world_writable_files: tuple[str, ...]
    world_writable_dirs_without_sticky: tuple[str, ...]
    suid_sgid: tuple[str, ...]
    unowned: tuple[str, ...] | None  # None: no /etc/passwd or /etc/group to tell owners by
    walked: int
    seconds: float


def classify(
    entries: Iterable[WalkEntry], uids: frozenset[int], gids: frozenset[int], check_owners: bool
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Sort walked entries into the four findings (pure)."""
    ww_files: list[str] = []
    ww_dirs: list[str] = []
    suid: list[str] = []
    unowned: list[str] = []
    for entry in entries:
        mode = entry.stat.mode
        if st.S_ISREG(mode):
            if mode & st.S_IWOTH:
                ww_files.append(entry.path)
            if mode & (st.S_ISUID | st.S_ISGID):
                suid.append(entry.path)
        elif st.S_ISDIR(mode) and mode & st.S_IWOTH and not mode & st.S_ISVTX:
            ww_dirs.append(entry.path)
        if check_owners and (entry.stat.uid not in uids or entry.stat.gid not in gids):
            unowned.append(entry.path)
    return ww_files, ww_dirs, suid, unowned


def walk_index(ctx: Context) -> WalkIndex:
    """The shared walk of this run (done on first use)."""

    def build() -> WalkIndex:
        refusal = getattr(ctx.source, "walk_refusal", None)
        if refusal:  # e.g. a remote host where nobody asked for a whole-filesystem walk
            raise NotApplicable(refusal)
        started = time.perf_counter()
        users, groups = user_names(ctx), group_names(ctx)
        check_owners = bool(users) and bool(groups)
        uids, gids = frozenset(users), frozenset(groups)
        source = ctx.source
        if isinstance(source, SelectiveWalker):
            # With no account database, do not select by owner (every file would qualify).
            entries, walked = source.walk_selected(
                mode_bits=INTERESTING_BITS,
                uids=uids if check_owners else _ANY,
                gids=gids if check_owners else _ANY,
            )
        else:
            counted: list[int] = [0]

            def counting() -> Iterable[WalkEntry]:
                for entry in source.walk():
                    counted[0] += 1
                    yield entry

            entries = list(_keep(counting(), uids, gids, check_owners))
            walked = counted[0]
        ww_files, ww_dirs, suid, unowned = classify(entries, uids, gids, check_owners)
        return WalkIndex(
            tuple(sorted(ww_files)),
            tuple(sorted(ww_dirs)),
            tuple(sorted(suid)),
            tuple(sorted(unowned)) if check_owners else None,
            walked,
            time.perf_counter() - started,
        )

    return ctx.cached(("walk",), build)


class _Anything(frozenset[int]):
    """A set that contains every id: owners are not a reason to keep an entry."""

    def __contains__(self, item: object) -> bool:
        return True


_ANY = _Anything()


def _keep(
    entries: Iterable[WalkEntry], uids: frozenset[int], gids: frozenset[int], check_owners: bool
) -> Iterable[WalkEntry]:
    for entry in entries:
        mode = entry.stat.mode
        if (mode & INTERESTING_BITS and not st.S_ISLNK(mode)) or (
            check_owners and (entry.stat.uid not in uids or entry.stat.gid not in gids)
        ):
            yield entry


_WHAT = {
    "world_writable_files": "world-writable files",
    "world_writable_dirs_without_sticky": "world-writable directories without the sticky bit",
    "suid_sgid": "SUID/SGID files",
    "unowned": "files owned by no known user or group",
}


def probe_walk(ctx: Context, probe: WalkProbe) -> Observation:
    index = walk_index(ctx)
    found = getattr(index, probe.find)
    if found is None:
        raise ProbeError("cannot tell unowned files: /etc/passwd or /etc/group is missing or empty")
    paths = [p for p in found if not any(fnmatch.fnmatchcase(p, g) for g in probe.exclude)]
    what = _WHAT[probe.find]
    summary = f"{len(paths)} {what} among {index.walked} entries walked"
    if paths:
        shown = ", ".join(paths[:MAX_SHOWN])
        more = f" and {len(paths) - MAX_SHOWN} more" if len(paths) > MAX_SHOWN else ""
        summary += f": {shown}{more}"
    locations = tuple(Location(p) for p in paths[:MAX_SHOWN]) or (Location("/"),)
    return Observation(paths, summary, locations)
