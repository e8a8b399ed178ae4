"""Mounted filesystems and their options: /etc/fstab (and systemd mount units) for what is
configured, /proc/self/mounts for what is mounted now when the target shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, Observation, lines
from assay.audit.probes.keyvalue import parse_settings
from assay.audit.probes.systemd import UNIT_DIRS, unit_state
from assay.audit.schema import MountProbe
from assay.audit.source import Missing, SourceError

FSTAB = "/etc/fstab"
# Mounts systemd makes itself at boot when neither fstab nor a unit says otherwise (its
# built-in API filesystems), with the options it uses.
SYSTEMD_BUILTIN = {"/dev/shm": ("rw", "nosuid", "nodev")}  # noqa: S108 - a path audited, not used
SYSTEMD_BINARIES = ("/usr/lib/systemd/systemd", "/lib/systemd/systemd")
LIVE_TABLES = ("/proc/self/mounts", "/proc/mounts")


@dataclass(frozen=True, slots=True)
class Mount:
    source: str
    mount_point: str
    fstype: str
    options: tuple[str, ...]
    location: Location


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mount_table(text: str, path: str) -> list[Mount]:
    """Entries of an fstab or /proc/mounts text, in order (pure); `\\040` escapes decoded,
    swap and malformed lines skipped."""
    found = []
    for number, line in lines(text):
        fields = line.split()
        if len(fields) < 3 or fields[0].startswith("#"):
            continue
        mount_point = _unescape(fields[1])
        if not mount_point.startswith("/"):
            continue  # swap, none
        if mount_point != "/":
            mount_point = mount_point.rstrip("/")
        options = tuple(fields[3].split(",")) if len(fields) > 3 else ("defaults",)
        found.append(
            Mount(_unescape(fields[0]), mount_point, fields[2], options, Location(path, number))
        )
    return found


def _table(ctx: Context, path: str) -> list[Mount] | None:
    try:
        return parse_mount_table(ctx.read_text(path), path)
    except Missing:
        return None


def live_mounts(ctx: Context) -> list[Mount] | None:
    """The mount table of the running system; None when the target does not show one."""

    def build() -> list[Mount] | None:
        for path in LIVE_TABLES:
            try:
                table = _table(ctx, path)
            except SourceError:
                continue
            if table:
                return table
        return None

    return ctx.cached(("mounts-live",), build)


def unit_name(path: str) -> str:
    """systemd's mount unit name for a path: /var/tmp -> var-tmp.mount."""
    if path == "/":
        return "-.mount"
    parts = []
    for part in path.strip("/").split("/"):
        escaped = "".join(c if c.isalnum() or c in ":_." else f"\\x{ord(c):02x}" for c in part)
        if escaped.startswith("."):
            escaped = "\\x2e" + escaped[1:]
        parts.append(escaped)
    return "-".join(parts) + ".mount"


def configured_mount(ctx: Context, path: str) -> Mount | None:
    """The mount set up at boot for a path: its fstab line (the last one), else an enabled
    systemd mount unit."""
    fstab = ctx.cached(("fstab",), lambda: _table(ctx, FSTAB)) or []
    entries = [m for m in fstab if m.mount_point == path]
    if entries:
        return entries[-1]
    unit = unit_name(path)
    state = unit_state(ctx, unit)
    if state.state != "enabled":
        return _systemd_builtin(ctx, path)
    for directory in UNIT_DIRS:
        file = f"{directory}/{unit}"
        try:
            text = ctx.read_text(file)
        except Missing:
            continue
        settings = parse_settings(text, file)
        options = next((s for s in reversed(settings) if s.key == "Options"), None)
        kind = next((s.value for s in reversed(settings) if s.key == "Type"), "")
        what = next((s.value for s in reversed(settings) if s.key == "What"), "")
        where = options.location if options else Location(file)
        values = tuple(options.value.split(",")) if options else ("defaults",)
        return Mount(what, path, kind, values, where)
    return _systemd_builtin(ctx, path)


def _systemd_builtin(ctx: Context, path: str) -> Mount | None:
    """The mount systemd itself sets up for `path` on a systemd host, if it does."""
    options = SYSTEMD_BUILTIN.get(path)
    if options is None:
        return None
    for binary in SYSTEMD_BINARIES:
        try:
            if ctx.source.exists(binary):
                return Mount("tmpfs", path, "tmpfs (systemd built-in)", options, Location(binary))
        except SourceError:
            continue
    return None


def _describe(mount: Mount) -> str:
    return (
        f"{mount.fstype} on {mount.mount_point} with {','.join(mount.options)} ({mount.location})"
    )


def probe_mount(ctx: Context, probe: MountProbe) -> Observation:
    live = live_mounts(ctx)
    boot = configured_mount(ctx, probe.path)
    current = None
    if live is not None:
        current = next((m for m in reversed(live) if m.mount_point == probe.path), None)
    parts = []
    if live is not None:
        parts.append(
            f"mounted now: {_describe(current)}"
            if current
            else f"{probe.path} is not a mount point now"
        )
    parts.append(
        f"at boot: {_describe(boot)}"
        if boot
        else f"no separate filesystem for {probe.path} at boot"
    )
    locations = tuple(m.location for m in (current, boot) if m is not None)
    value = list(current.options) if current else None
    if live is None:
        value = list(boot.options) if boot else None
        also: tuple[list[str] | None, ...] = ()
    else:
        also = (list(boot.options),) if boot else ()
    return Observation(value, "; ".join(parts), locations or (Location(FSTAB),), also)
