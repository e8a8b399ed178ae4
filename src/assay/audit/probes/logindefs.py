"""/etc/login.defs, read as shadow-utils reads it: `KEY value` lines, `#` comments, values
optionally double-quoted, the last occurrence of a key wins."""

from __future__ import annotations

from assay.audit.probes.base import Context, Location, Observation
from assay.audit.probes.keyvalue import Setting, last, parse_settings
from assay.audit.schema import LoginDefsProbe
from assay.audit.source import Missing

LOGIN_DEFS = "/etc/login.defs"


def parse_login_defs(text: str, path: str = LOGIN_DEFS) -> list[Setting]:
    """Settings of a login.defs text, in order (pure)."""
    return parse_settings(text, path, separator="space")


def probe_login_defs(ctx: Context, probe: LoginDefsProbe) -> Observation:
    def build() -> list[Setting] | None:
        try:
            return parse_login_defs(ctx.read_text(LOGIN_DEFS))
        except Missing:
            return None

    found = ctx.cached(("login.defs",), build)
    winner = last(found, probe.key) if found is not None else None
    if winner is not None:
        return Observation(
            winner.value, f"{probe.key} {winner.value} at {winner.location}", (winner.location,)
        )
    observed = (
        f"{probe.key} is not set in {LOGIN_DEFS}"
        if found is not None
        else f"{LOGIN_DEFS} does not exist"
    )
    if probe.default is not None:
        observed += f"; shadow-utils then uses {probe.default}"
    return Observation(probe.default, observed, (Location(LOGIN_DEFS),))
