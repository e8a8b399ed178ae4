"""Colon-separated account files (passwd, shadow, group): rows, names, the `fields` probe."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assay.audit.probes.base import (
    Context,
    Location,
    NotApplicable,
    Observation,
    ProbeError,
    lines,
)
from assay.audit.schema import FieldsProbe
from assay.audit.source import Missing, SourceError

MAX_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    fields: tuple[str, ...]


def parse_colon_file(text: str) -> list[Row]:
    """Non-empty, non-comment lines split on `:` (pure)."""
    rows = []
    for number, line in lines(text):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append(Row(number, tuple(line.split(":"))))
    return rows


def rows_of(ctx: Context, path: str) -> list[Row]:
    return ctx.cached(("colon", path), lambda: parse_colon_file(ctx.read_text(path)))


def _ids(ctx: Context, path: str) -> dict[int, str]:
    def build() -> dict[int, str]:
        found: dict[int, str] = {}
        try:
            rows = rows_of(ctx, path)
        except (SourceError, ProbeError):  # names are a courtesy: ids are shown instead
            return found
        for row in rows:
            if len(row.fields) > 2 and row.fields[2].isdigit():
                found.setdefault(int(row.fields[2]), row.fields[0])
        return found

    return ctx.cached(("ids", path), build)


def user_names(ctx: Context) -> dict[int, str]:
    """uid -> user name on the audited host (empty without a readable /etc/passwd)."""
    return _ids(ctx, "/etc/passwd")


def group_names(ctx: Context) -> dict[int, str]:
    """gid -> group name on the audited host (empty without a readable /etc/group)."""
    return _ids(ctx, "/etc/group")


def probe_fields(ctx: Context, probe: FieldsProbe) -> Observation:
    try:
        rows = rows_of(ctx, probe.path)
    except Missing:
        raise NotApplicable(f"{probe.path} does not exist") from None
    conditions = [(c.field - 1, re.compile(c.regex)) for c in probe.where]
    selected: list[tuple[str, Row]] = []
    for row in rows:

        def field(i: int, row: Row = row) -> str:
            return row.fields[i] if i < len(row.fields) else ""

        if all(rx.fullmatch(field(i)) for i, rx in conditions):
            selected.append((field(probe.select - 1), row))
    values = [value for value, _ in selected]
    where = "".join(f" where field {c.field} matches {c.regex!r}" for c in probe.where)
    if not selected:
        observed = f"no line of {probe.path}{where}"
    else:
        shown = ", ".join(f"{v!r} (line {r.line})" for v, r in selected[:MAX_SHOWN])
        more = f" and {len(selected) - MAX_SHOWN} more" if len(selected) > MAX_SHOWN else ""
        observed = f"field {probe.select} of {probe.path}{where}: {shown}{more}"
    locations = tuple(Location(probe.path, r.line) for _, r in selected[:MAX_SHOWN])
    return Observation(values, observed, locations or (Location(probe.path),))
