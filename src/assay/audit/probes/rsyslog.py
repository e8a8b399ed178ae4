"""rsyslog's configuration with its includes, searched with a regular expression.

rsyslog reads /etc/rsyslog.conf and, where a line says so, other files: the legacy
`$IncludeConfig PATH` (a glob, or a directory ending in `/` for every file in it) and
RainerScript's `include(file="PATH" ...)`; they are read at the point of the directive, globs
in lexical order. `#` comments and `/* ... */` blocks are skipped. The value is the list of
matching lines (or of the pattern's first group), in the order rsyslog reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, NotApplicable, Observation, ProbeError
from assay.audit.schema import RsyslogProbe
from assay.audit.source import Missing

MAX_DEPTH = 16
MAX_SHOWN = 50
_LEGACY_INCLUDE = re.compile(r"^\s*\$IncludeConfig\s+(\S+)", re.IGNORECASE)
_INCLUDE = re.compile(r"""^\s*include\s*\(.*?\bfile\s*=\s*"([^"]+)\"""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ConfigLine:
    text: str
    location: Location


def _block_start(line: str, start: int = 0) -> int:
    """Where a `/*` comment opens on the line, or -1: outside double quotes, at the start of
    the line or after whitespace (so paths such as `/etc/rsyslog.d/*.conf` are not comments)."""
    quoted = False
    for index in range(start, len(line) - 1):
        char = line[index]
        if char == '"':
            quoted = not quoted
        elif (
            not quoted
            and line.startswith("/*", index)
            and (index == 0 or line[index - 1].isspace())
        ):
            return index
    return -1


def strip_comments(text: str) -> list[tuple[int, str]]:
    """(line number, line) without `#` comment lines and `/* */` blocks (pure). Legacy `$`
    directives are taken whole, as rsyslog does."""
    found = []
    in_block = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw
        if in_block:
            end = line.find("*/")
            if end < 0:
                continue
            line, in_block = line[end + 2 :], False
        if not line.lstrip().startswith("$"):
            start = _block_start(line)
            while start >= 0:
                end = line.find("*/", start + 2)
                if end < 0:
                    line, in_block = line[:start], True
                    break
                line = line[:start] + line[end + 2 :]
                start = _block_start(line, start)
        if line.strip() and not line.lstrip().startswith("#"):
            found.append((number, line))
    return found


def include_target(line: str) -> str | None:
    """The path or glob a line includes, if it is an include directive (pure)."""
    match = _LEGACY_INCLUDE.match(line) or _INCLUDE.match(line)
    return match.group(1) if match else None


def _expand(ctx: Context, target: str) -> list[str]:
    if target.endswith("/"):
        try:
            return [target + name for name in ctx.source.list_dir(target.rstrip("/"))]
        except Missing:
            return []
    return ctx.glob(target)


def config_lines(ctx: Context, path: str) -> list[ConfigLine]:
    """Every line rsyslog reads, includes expanded in place."""

    def read(current: str, depth: int, seen: tuple[str, ...]) -> list[ConfigLine]:
        if current in seen or depth > MAX_DEPTH:
            raise ProbeError(f"{current}: include loop or nesting deeper than {MAX_DEPTH}")
        found: list[ConfigLine] = []
        for number, line in strip_comments(ctx.read_text(current)):
            target = include_target(line)
            if target is None:
                found.append(ConfigLine(line.strip(), Location(current, number)))
                continue
            for included in _expand(ctx, target):
                try:
                    found.extend(read(included, depth + 1, (*seen, current)))
                except Missing:
                    continue
        return found

    def build() -> list[ConfigLine]:
        try:
            return read(path, 0, ())
        except Missing:
            raise NotApplicable(f"does not exist: {path}") from None

    return ctx.cached(("rsyslog", path), build)


def probe_rsyslog(ctx: Context, probe: RsyslogProbe) -> Observation:
    pattern = re.compile(probe.pattern, re.IGNORECASE if probe.ignore_case else 0)
    values: list[str] = []
    locations: list[Location] = []
    read = config_lines(ctx, probe.config)
    for item in read:
        match = pattern.search(item.text)
        if match:
            values.append(match.group(1) if pattern.groups else item.text)
            locations.append(item.location)
    if not values:
        files = list(dict.fromkeys(item.location.path for item in read)) or [probe.config]
        return Observation(
            [],
            f"no line of {probe.config} (with its includes) matches {probe.pattern!r}",
            tuple(Location(f) for f in files),
        )
    shown = "; ".join(f"{loc}: {v}" for loc, v in zip(locations[:MAX_SHOWN], values, strict=False))
    more = f" and {len(values) - MAX_SHOWN} more" if len(values) > MAX_SHOWN else ""
    return Observation(
        values, f"matching {probe.pattern!r}: {shown}{more}", tuple(locations[:MAX_SHOWN])
    )
