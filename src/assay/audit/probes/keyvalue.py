"""Simple `key = value` / `key value` configuration files (pwquality.conf, faillock.conf...)."""

from __future__ import annotations

from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, Observation, lines
from assay.audit.schema import KeyValueProbe
from assay.audit.source import Missing


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: str
    location: Location


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_settings(text: str, path: str, separator: str = "=") -> list[Setting]:
    """Settings in file order; `#` comments; a key alone (a flag) has the value `''` (pure)."""
    found = []
    for number, line in lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if separator == "=":
            key, _, value = stripped.partition("=")
        else:
            key, _, value = stripped.replace("\t", " ").partition(" ")
        key = key.strip()
        if key:
            found.append(Setting(key, _unquote(value.strip()), Location(path, number)))
    return found


def settings(ctx: Context, paths: list[str], separator: str = "=") -> list[Setting]:
    """Settings of several files (globs expanded in lexical order) in reading order."""

    def build() -> list[Setting]:
        found: list[Setting] = []
        for pattern in paths:
            for path in ctx.glob(pattern):
                try:
                    found.extend(parse_settings(ctx.read_text(path), path, separator))
                except Missing:
                    continue
        return found

    return ctx.cached(("keyvalue", tuple(paths), separator), build)


def last(found: list[Setting], key: str) -> Setting | None:
    winner = None
    for item in found:
        if item.key == key:
            winner = item
    return winner


def probe_keyvalue(ctx: Context, probe: KeyValueProbe) -> Observation:
    winner = last(settings(ctx, probe.paths, probe.separator), probe.key)
    if winner is not None:
        return Observation(
            winner.value, f"{probe.key} = {winner.value} at {winner.location}", (winner.location,)
        )
    files = ", ".join(probe.paths)
    observed = f"{probe.key} is not set in {files}"
    if probe.default is not None:
        observed += f"; the default is {probe.default}"
    return Observation(probe.default, observed, tuple(Location(p) for p in probe.paths))
