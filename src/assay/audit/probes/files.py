"""File state: type, permissions, owner and group of a path (or of every path of a glob)."""

from __future__ import annotations

from typing import Any

from assay.audit.probes.accounts import group_names, user_names
from assay.audit.probes.base import Context, Location, Observation
from assay.audit.roots import kind_of
from assay.audit.schema import FileProbe, FilesProbe
from assay.audit.source import FileStat, Missing


def file_state(ctx: Context, info: FileStat) -> dict[str, Any]:
    """A file's state as a JSON-compatible mapping; owner and group named by the audited host."""
    return {
        "path": info.path,
        "type": kind_of(info.mode).removeprefix("a ").removeprefix("an "),
        "mode": f"{info.permissions:04o}",
        "owner": user_names(ctx).get(info.uid, _fallback(info.uid)),
        "group": group_names(ctx).get(info.gid, _fallback(info.gid)),
        "uid": info.uid,
        "gid": info.gid,
    }


def _fallback(number: int) -> str:
    """A name for an id the audited host does not list: id 0 is root by definition."""
    return "root" if number == 0 else str(number)


def describe(state: dict[str, Any]) -> str:
    return (
        f"{state['path']}: {state['type']}, mode {state['mode']}, "
        f"owner {state['owner']}, group {state['group']}"
    )


def probe_file(ctx: Context, probe: FileProbe) -> Observation:
    try:
        info = ctx.source.stat(probe.path)
    except Missing:
        return Observation(None, f"{probe.path} does not exist", (Location(probe.path),))
    state = file_state(ctx, info)
    return Observation(state, describe(state), (Location(probe.path),))


def probe_files(ctx: Context, probe: FilesProbe) -> Observation:
    states = []
    for path in ctx.glob(probe.glob):
        try:
            states.append(file_state(ctx, ctx.source.stat(path)))
        except Missing:
            continue
    if not states:
        return Observation([], f"no path matches {probe.glob}", (Location(probe.glob),))
    observed = "; ".join(describe(s) for s in states)
    return Observation(states, observed, tuple(Location(s["path"]) for s in states))
