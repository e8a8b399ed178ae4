"""Regular expressions over the lines of a file, with the line numbers of every match."""

from __future__ import annotations

import re

from assay.audit.probes.base import Context, Location, NotApplicable, Observation, has_magic, lines
from assay.audit.schema import RegexProbe

MAX_SHOWN = 50


def matching_lines(
    text: str, pattern: re.Pattern[str], *, comments: bool = False
) -> list[tuple[int, str]]:
    """(line number, value) for lines matching; the value is group 1 if the pattern has one."""
    found = []
    for number, line in lines(text):
        if not comments and line.lstrip().startswith("#"):
            continue
        match = pattern.search(line)
        if match:
            found.append((number, match.group(1) if pattern.groups else line.strip()))
    return found


def probe_regex(ctx: Context, probe: RegexProbe) -> Observation:
    paths = ctx.glob(probe.path)
    if not paths:
        what = "no file matches" if has_magic(probe.path) else "does not exist:"
        raise NotApplicable(f"{what} {probe.path}")
    pattern = re.compile(probe.pattern, re.IGNORECASE if probe.ignore_case else 0)
    values: list[str] = []
    locations: list[Location] = []
    for path in paths:
        for number, value in matching_lines(ctx.read_text(path), pattern, comments=probe.comments):
            values.append(value)
            locations.append(Location(path, number))
    files = ", ".join(paths)
    if not values:
        return Observation([], f"no line of {files} matches {probe.pattern!r}", (Location(files),))
    shown = "; ".join(f"{loc}: {v}" for loc, v in zip(locations[:MAX_SHOWN], values, strict=False))
    more = f" and {len(values) - MAX_SHOWN} more" if len(values) > MAX_SHOWN else ""
    return Observation(
        values, f"matching {probe.pattern!r}: {shown}{more}", tuple(locations[:MAX_SHOWN])
    )
