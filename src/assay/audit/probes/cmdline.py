"""Kernel command-line parameters: the running kernel's and the ones configured for next boot.

- running: /proc/cmdline, when the target shows it (the local machine, SSH);
- configured: the arguments of every `linux`/`linux16`/`linuxefi` line of grub.cfg
  (/boot/grub/grub.cfg, /boot/grub2/grub.cfg), and the `options` line of every Boot Loader
  Specification entry (/boot/loader/entries/*.conf, used by grub's `blscfg` and systemd-boot),
  with `$kernelopts` and other variables taken from grubenv; when there is neither,
  /etc/kernel/cmdline (what kernel-install writes into new entries).

Arguments are split on whitespace, double quotes group (`opt="a b"`); everything after `--`
goes to init, not to the kernel. Names compare with `-` and `_` as the same character, as the
kernel does; the last occurrence wins; a flag without `=` has its own name as value.
Unexpanded grub variables (`$vt_handoff`) are left out. Like sysctl, every command line
found (running and each boot entry) must meet the expectation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, NotApplicable, Observation, lines
from assay.audit.schema import KernelCmdlineProbe
from assay.audit.source import Missing

PROC_CMDLINE = "/proc/cmdline"
GRUB_CFGS = ("/boot/grub/grub.cfg", "/boot/grub2/grub.cfg")
GRUBENVS = ("/boot/grub2/grubenv", "/boot/grub/grubenv")
BLS_ENTRIES = "/boot/loader/entries/*.conf"
KERNEL_CMDLINE = "/etc/kernel/cmdline"
_LINUX = re.compile(r"^\s*(?:linux|linux16|linuxefi)\s+\S+(.*)$")
_OPTIONS = re.compile(r"^\s*options\s+(.*)$")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
MAX_SHOWN = 8


@dataclass(frozen=True, slots=True)
class CommandLine:
    """The arguments of one command line and where it comes from."""

    args: tuple[str, ...]
    location: Location
    running: bool = False


def split_args(text: str) -> list[str]:
    """Kernel-style argument splitting (pure): whitespace separates, double quotes group and are
    dropped, and `--` ends the kernel's part."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = started = False
    for char in text:
        if char == '"':
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                tokens.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        tokens.append("".join(current))
    return tokens[: tokens.index("--")] if "--" in tokens else tokens


def _key(name: str) -> str:
    return name.replace("-", "_")


def lookup(args: tuple[str, ...] | list[str], param: str) -> str | None:
    """The value of `param` (the last occurrence wins; a bare flag gives its name) (pure)."""
    wanted = _key(param)
    found = None
    for arg in args:
        name, eq, value = arg.partition("=")
        if _key(name) == wanted:
            found = value if eq else name
    return found


def parse_grub_cfg(text: str, path: str) -> list[CommandLine]:
    """The kernel arguments of every `linux` line of a grub.cfg (pure)."""
    found = []
    for number, line in lines(text):
        match = _LINUX.match(line)
        if match:
            args = [a for a in split_args(match.group(1)) if not a.startswith("$")]
            found.append(CommandLine(tuple(args), Location(path, number)))
    return found


def parse_grubenv(text: str) -> dict[str, str]:
    """grub's environment block: `name=value` lines, `#` padding and comments (pure)."""
    found = {}
    for _, line in lines(text):
        name, eq, value = line.partition("=")
        if eq and not name.startswith("#"):
            found[name.strip()] = value
    return found


def parse_bls_entry(text: str, path: str, env: dict[str, str]) -> list[CommandLine]:
    """The `options` lines of a Boot Loader Specification entry, grubenv variables expanded."""
    found = []
    for number, line in lines(text):
        match = _OPTIONS.match(line)
        if match:
            expanded = _VARIABLE.sub(lambda m: env.get(m.group(1), ""), match.group(1))
            found.append(CommandLine(tuple(split_args(expanded)), Location(path, number)))
    return found


def _read(ctx: Context, path: str) -> str | None:
    try:
        return ctx.read_text(path)
    except Missing:
        return None


def command_lines(ctx: Context) -> list[CommandLine]:
    """The running command line (when visible) first, then the configured ones."""

    def build() -> list[CommandLine]:
        found: list[CommandLine] = []
        text = _read(ctx, PROC_CMDLINE)
        if text is not None:
            found.append(CommandLine(tuple(split_args(text)), Location(PROC_CMDLINE), True))
        configured: list[CommandLine] = []
        for path in GRUB_CFGS:
            text = _read(ctx, path)
            if text is not None:
                configured.extend(parse_grub_cfg(text, path))
        entries = ctx.glob(BLS_ENTRIES)
        if entries:
            env: dict[str, str] = {}
            for path in GRUBENVS:
                text = _read(ctx, path)
                if text is not None:
                    env = parse_grubenv(text)
                    break
            for path in entries:
                text = _read(ctx, path)
                if text is not None:
                    configured.extend(parse_bls_entry(text, path, env))
        if not configured:
            text = _read(ctx, KERNEL_CMDLINE)
            if text is not None:
                configured.append(CommandLine(tuple(split_args(text)), Location(KERNEL_CMDLINE)))
        return found + configured

    return ctx.cached(("kernel-cmdline",), build)


def probe_kernel_cmdline(ctx: Context, probe: KernelCmdlineProbe) -> Observation:
    found = command_lines(ctx)
    if not found:
        raise NotApplicable(
            f"no kernel command line: {PROC_CMDLINE} is not visible and no boot entry was found "
            f"({', '.join(GRUB_CFGS)}, {BLS_ENTRIES}, {KERNEL_CMDLINE})"
        )
    values: list[str | None] = []
    groups: dict[str | None, list[CommandLine]] = {}
    for item in found:
        value = lookup(item.args, probe.param)
        groups.setdefault(value, []).append(item)
        values.append(value if value is not None else probe.default)
    parts = []
    for value, items in groups.items():
        shown = ", ".join(
            ("running kernel " if i.running else "") + str(i.location) for i in items[:MAX_SHOWN]
        )
        more = f" and {len(items) - MAX_SHOWN} more" if len(items) > MAX_SHOWN else ""
        if value is None:
            default = f" (default {probe.default})" if probe.default is not None else ""
            parts.append(f"{probe.param} not set{default}: {shown}{more}")
        elif value == probe.param or _key(value) == _key(probe.param):
            parts.append(f"{probe.param} set: {shown}{more}")
        else:
            parts.append(f"{probe.param}={value}: {shown}{more}")
    return Observation(
        values[0],
        "; ".join(parts),
        tuple(item.location for item in found),
        also=tuple(values[1:]),
    )
