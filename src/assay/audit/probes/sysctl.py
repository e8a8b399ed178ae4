"""Kernel parameters: the sysctl configuration read at boot, and the running value.

Files are read the way `systemd-sysctl` and `sysctl --system` read them: `*.conf` in
/etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and /lib/sysctl.d
ordered by file name (a name in an earlier directory hides the same name in later ones), then
/etc/sysctl.conf; the last assignment of a key wins. `key = value` lines, `#` and `;` comments,
a leading `-` (ignore errors) and `/` for `.` are understood, as are glob patterns in keys.

The running value is read from /proc/sys when the target shows it (the local machine, SSH).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from assay.audit.probes.base import (
    Context,
    Location,
    NotApplicable,
    Observation,
    dropins,
    has_magic,
    lines,
)
from assay.audit.schema import SysctlProbe
from assay.audit.source import Missing, SourceError

DIRECTORIES = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
SYSCTL_CONF = "/etc/sysctl.conf"


@dataclass(frozen=True, slots=True)
class Assignment:
    key: str  # dotted, may be a glob pattern
    value: str
    location: Location


def normalize_key(key: str) -> str:
    return key.strip().replace("/", ".")


def parse_sysctl(text: str, path: str) -> list[Assignment]:
    """The assignments of one sysctl file, in order (pure)."""
    found = []
    for number, line in lines(text):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, value = stripped.lstrip("-").partition("=")
        if not sep or not key.strip():
            continue
        found.append(
            Assignment(normalize_key(key), " ".join(value.split()), Location(path, number))
        )
    return found


def configured(ctx: Context) -> list[Assignment]:
    """Every assignment the boot-time configuration makes, in the order they are applied."""

    def build() -> list[Assignment]:
        paths = [*dropins(ctx, DIRECTORIES), SYSCTL_CONF]
        found: list[Assignment] = []
        for path in paths:
            try:
                found.extend(parse_sysctl(ctx.read_text(path), path))
            except Missing:
                continue
        return found

    return ctx.cached(("sysctl",), build)


def effective(assignments: list[Assignment], key: str) -> Assignment | None:
    """The assignment that wins for `key` (the last one matching it, globs included)."""
    winner = None
    for item in assignments:
        if item.key == key or (has_magic(item.key) and fnmatch.fnmatchcase(key, item.key)):
            winner = item
    return winner


def live_value(ctx: Context, key: str) -> tuple[str | None, str]:
    """The running value from /proc/sys, and its path; None when the target does not show it.

    Raises NotApplicable when the running kernel is visible but has no such parameter."""
    path = "/proc/sys/" + key.replace(".", "/")
    try:
        return " ".join(ctx.read_text(path).split()), path
    except Missing:
        if ctx.cached(("proc-sys",), lambda: ctx.source.exists("/proc/sys/kernel")):
            raise NotApplicable(f"the running kernel has no parameter {key}") from None
        return None, path
    except SourceError:
        return None, path


def probe_sysctl(ctx: Context, probe: SysctlProbe) -> Observation:
    key = normalize_key(probe.key)
    live, live_path = live_value(ctx, key)
    winner = effective(configured(ctx), key)
    parts = []
    locations = []
    if live is not None:
        parts.append(f"running value {live}")
        locations.append(Location(live_path))
    if winner is not None:
        parts.append(f"set to {winner.value} at boot by {winner.location}")
        locations.append(winner.location)
    else:
        parts.append("not set in any sysctl configuration file")
    if live is None and winner is None:
        if probe.default is not None:
            parts.append(f"the kernel default is {probe.default}")
        value: str | None = probe.default
    else:
        value = live if live is not None else winner.value if winner else None
    also = (winner.value,) if live is not None and winner is not None else ()
    if not locations:  # nothing found: say where it was looked for
        locations = [Location(path) for path in (*DIRECTORIES, SYSCTL_CONF)]
    return Observation(value, f"{key}: " + "; ".join(parts), tuple(locations), also)
