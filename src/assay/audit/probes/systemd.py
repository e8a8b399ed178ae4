"""systemd unit enablement read from the unit files and links, without asking systemd.

- masked: /etc/systemd/system/<unit> or /run/systemd/system/<unit> is a link to /dev/null;
- enabled: a link named <unit> sits in a `*.wants/`, `*.requires/` or `*.upholds/` directory
  of a unit directory (the administrator's in /etc, or the vendor's in /usr/lib: either way the
  unit starts at boot), or <unit> is an alias link to an enabled unit;
- disabled: a unit file exists, nothing pulls it in;
- not-found: no unit file in any unit directory.
Template instances (`getty@tty1.service`) find their file through the template (`getty@.service`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, Observation
from assay.audit.schema import SystemdUnitProbe
from assay.audit.source import Missing, SourceError

UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)
MASK_DIRS = UNIT_DIRS[:2]
WANT_SUFFIXES = (".wants", ".requires", ".upholds")
# The order in which several names' states combine: the most active one is reported.
ORDER = ("enabled", "disabled", "masked", "not-found")


@dataclass(frozen=True, slots=True)
class UnitState:
    unit: str
    state: str
    location: Location | None
    detail: str


def _template(unit: str) -> str | None:
    name, at, rest = unit.partition("@")
    if not at or rest.startswith("."):
        return None
    return f"{name}@{rest[rest.rfind('.') :]}"


def _names(ctx: Context, directory: str) -> frozenset[str]:
    """The names in a unit directory, listed once per run (empty when it does not exist; a
    directory that cannot be read is an error, never an empty one): a unit is looked for in a
    listing, not by asking for each candidate path, which matters over SSH where every
    question is a round trip."""

    def build() -> frozenset[str]:
        try:
            return frozenset(ctx.source.list_dir(directory))
        except Missing:
            return frozenset()

    return ctx.cached(("systemd-dir", directory), build)


def wanted_links(ctx: Context) -> dict[str, Location]:
    """unit name -> the first link that pulls it in, over every unit directory."""

    def build() -> dict[str, Location]:
        found: dict[str, Location] = {}
        for directory in UNIT_DIRS:
            for sub in sorted(_names(ctx, directory)):
                if not sub.endswith(WANT_SUFFIXES):
                    continue
                try:
                    links = ctx.source.list_dir(f"{directory}/{sub}")
                except SourceError:
                    continue
                for link in links:
                    found.setdefault(link, Location(f"{directory}/{sub}/{link}"))
        return found

    return ctx.cached(("systemd-wants",), build)


def _link_target(ctx: Context, path: str) -> str | None:
    try:
        if not ctx.source.stat(path, follow_symlinks=False).is_symlink:
            return None
        return ctx.source.read_link(path)
    except Missing:
        return None


def _unit_file(ctx: Context, unit: str) -> str | None:
    names = [unit] + [t for t in (_template(unit),) if t]
    for directory in UNIT_DIRS:
        listed = _names(ctx, directory)
        for name in names:
            path = f"{directory}/{name}"
            if name in listed and ctx.source.exists(path):
                return path
    return None


def unit_state(ctx: Context, unit: str, depth: int = 0) -> UnitState:
    """The enablement of one unit name."""
    for directory in MASK_DIRS:
        if unit not in _names(ctx, directory):
            continue
        path = f"{directory}/{unit}"
        target = _link_target(ctx, path)
        if target == "/dev/null":
            return UnitState(unit, "masked", Location(path), f"{path} -> /dev/null")
    wants = wanted_links(ctx)
    for name in (unit, _template(unit)):
        if name and name in wants:
            return UnitState(unit, "enabled", wants[name], f"pulled in by {wants[name]}")
    unit_file = _unit_file(ctx, unit)
    if unit_file is None:
        return UnitState(unit, "not-found", None, "no unit file in " + ", ".join(UNIT_DIRS))
    target = _link_target(ctx, unit_file)
    if target and depth < 5:
        alias = posixpath.basename(target)
        if alias != unit and alias.endswith(posixpath.splitext(unit)[1]):
            inner = unit_state(ctx, alias, depth + 1)
            if inner.state in ("enabled", "masked"):
                return UnitState(
                    unit, inner.state, inner.location, f"alias of {alias}: {inner.detail}"
                )
    return UnitState(
        unit, "disabled", Location(unit_file), f"{unit_file}, not pulled in by any target"
    )


def probe_systemd_unit(ctx: Context, probe: SystemdUnitProbe) -> Observation:
    states = [unit_state(ctx, unit) for unit in probe.units]
    best = min(states, key=lambda s: ORDER.index(s.state))
    observed = "; ".join(f"{s.unit}: {s.state} ({s.detail})" for s in states)
    locations = tuple(s.location for s in states if s.location is not None)
    return Observation(best.state, observed, locations)
