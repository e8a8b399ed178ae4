"""Kernel modules: what modprobe.d lets load, and what is loaded now.

Files: `*.conf` in /etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d,
/usr/lib/modprobe.d and /lib/modprobe.d, ordered by name (an earlier directory hides the same
name in later ones), `#` comments, `\\` continuations; `-` and `_` in module names are the same.
`install <module> /bin/true` (or false) makes loading a no-op: the module is *disabled*;
`blacklist <module>` only stops automatic loading by alias: *blacklisted*. A module listed in
/proc/modules (when the target shows it) is *loaded*, whatever the configuration says.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, Observation, dropins
from assay.audit.schema import KernelModuleProbe
from assay.audit.source import Missing, SourceError

DIRECTORIES = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
NO_OP_COMMANDS = frozenset({"true", "false"})


@dataclass(frozen=True, slots=True)
class Command:
    verb: str  # install, blacklist, alias, options, remove, softdep
    module: str  # normalized: underscores
    rest: tuple[str, ...]
    location: Location


def module_key(name: str) -> str:
    return name.replace("-", "_")


def parse_modprobe(text: str, path: str) -> list[Command]:
    """The commands of one modprobe.d file, in order (pure)."""
    found = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        words = (pending + line).split()
        pending = ""
        if len(words) >= 2:
            found.append(
                Command(words[0], module_key(words[1]), tuple(words[2:]), Location(path, start))
            )
    return found


def commands(ctx: Context) -> list[Command]:
    def build() -> list[Command]:
        found: list[Command] = []
        for path in dropins(ctx, DIRECTORIES):
            try:
                found.extend(parse_modprobe(ctx.read_text(path), path))
            except Missing:
                continue
        return found

    return ctx.cached(("modprobe",), build)


def loaded_modules(ctx: Context) -> tuple[set[str], Location] | None:
    """Modules in the running kernel; None when the target does not show /proc/modules."""

    def build() -> tuple[set[str], Location] | None:
        try:
            text = ctx.read_text("/proc/modules")
        except SourceError:
            return None
        return {
            module_key(line.split()[0]) for line in text.splitlines() if line.split()
        }, Location("/proc/modules")

    return ctx.cached(("proc-modules",), build)


def _is_no_op(command: Command) -> bool:
    return bool(command.rest) and posixpath.basename(command.rest[0]) in NO_OP_COMMANDS


def probe_kernel_module(ctx: Context, probe: KernelModuleProbe) -> Observation:
    name = module_key(probe.name)
    mine = [c for c in commands(ctx) if c.module == name]
    install = next((c for c in mine if c.verb == "install"), None)
    blacklist = next((c for c in mine if c.verb == "blacklist"), None)
    live = loaded_modules(ctx)
    parts = []
    locations = [c.location for c in (install, blacklist) if c is not None]
    if install is not None:
        parts.append(f"install {probe.name} {' '.join(install.rest)} ({install.location})")
    if blacklist is not None:
        parts.append(f"blacklisted ({blacklist.location})")
    if not parts:
        parts.append(f"nothing in modprobe.d stops {probe.name} from loading")
    if live is not None and name in live[0]:
        state = "loaded"
        parts.insert(0, "loaded in the running kernel (/proc/modules)")
        locations.append(live[1])
    elif install is not None and _is_no_op(install):
        state = "disabled"
    elif blacklist is not None:
        state = "blacklisted"
    else:
        state = "loadable"
    return Observation(
        state,
        f"{probe.name}: " + "; ".join(parts),
        tuple(locations) or (Location("/etc/modprobe.d"),),
    )
