"""PAM stacks from /etc/pam.d, read as libpam reads them.

A line is `[-]type control module [arguments]`; `control` is a keyword or a `[value=action ...]`
list; an argument with spaces is written `[...]`; `#` starts a comment and a trailing `\\`
continues a line. `@include name` inserts every line of another file; `type include name` and
`type substack name` insert its lines of that type. Include loops are errors.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, NotApplicable, Observation, ProbeError
from assay.audit.probes.keyvalue import last, settings
from assay.audit.schema import PamProbe
from assay.audit.source import Missing

PAM_DIR = "/etc/pam.d"
MAX_DEPTH = 20
STACKS = ("auth", "account", "password", "session")


@dataclass(frozen=True, slots=True)
class PamLine:
    stack: str  # auth, account, password, session; `@include` for the directive
    control: str
    module: str  # as written: pam_unix.so or /lib/security/pam_unix.so
    args: tuple[str, ...]
    location: Location

    @property
    def module_name(self) -> str:
        return posixpath.basename(self.module)

    def argument(self, name: str) -> str | None:
        """`minlen=14` -> `14`, a flag `sha512` -> `sha512`, absent -> None."""
        for arg in self.args:
            key, sep, value = arg.partition("=")
            if key == name:
                return value if sep else name
        return None

    def __str__(self) -> str:
        return " ".join((self.stack, self.control, self.module, *self.args))


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens; `[...]` is one token even with spaces inside."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "[" and not current:
            depth = 1
            current.append(char)
        elif depth:
            current.append(char)
            if char == "]":
                depth = 0
        elif char.isspace():
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def parse_pam(text: str, path: str) -> list[PamLine]:
    """The lines of one PAM file, without following includes (pure). Malformed lines are
    skipped, as libpam skips them."""
    found: list[PamLine] = []
    logical: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0]
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append((start, pending + line))
        pending = ""
    if pending:
        logical.append((start, pending))
    for number, line in logical:
        tokens = _tokens(line)
        if not tokens:
            continue
        here = Location(path, number)
        if tokens[0] == "@include":
            if len(tokens) > 1:
                found.append(PamLine("@include", "", tokens[1], (), here))
            continue
        stack = tokens[0].lstrip("-").lower()
        if stack not in STACKS or len(tokens) < 3:
            continue
        args = tuple(t[1:-1] if t.startswith("[") and t.endswith("]") else t for t in tokens[3:])
        found.append(PamLine(stack, tokens[1], tokens[2], args, here))
    return found


def _service_path(name: str) -> str:
    return name if name.startswith("/") else f"{PAM_DIR}/{name}"


def expand(ctx: Context, service: str) -> list[PamLine]:
    """Every line of a service's stacks with includes and substacks followed, in order."""

    def walk(path: str, only: str | None, chain: tuple[str, ...]) -> list[PamLine]:
        if path in chain:
            raise ProbeError("circular PAM include: " + " -> ".join((*chain, path)))
        if len(chain) >= MAX_DEPTH:
            raise ProbeError(f"PAM includes nested deeper than {MAX_DEPTH} levels at {path}")
        chain = (*chain, path)
        lines = ctx.cached(("pam-file", path), lambda: parse_pam(ctx.read_text(path), path))
        result: list[PamLine] = []
        for line in lines:
            if line.stack == "@include":
                result.extend(walk(_service_path(line.module), only, chain))
            elif only is not None and line.stack != only:
                continue
            elif line.control in ("include", "substack"):
                result.extend(walk(_service_path(line.module), line.stack, chain))
            else:
                result.append(line)
        return result

    path = _service_path(service)
    return ctx.cached(("pam", path), lambda: walk(path, None, ()))


def _argument(line: PamLine, names: list[str]) -> str | None:
    return next((v for n in names if (v := line.argument(n)) is not None), None)


def probe_pam(ctx: Context, probe: PamProbe) -> Observation:
    values: list[str | None] = []
    parts: list[str] = []
    locations: list[Location] = []
    names = probe.argument or []
    config = settings(ctx, probe.config) if names and probe.config else []
    for service in probe.services:
        try:
            stack = [line for line in expand(ctx, service) if line.stack == probe.stack]
        except Missing as exc:
            if exc.path == _service_path(service):
                continue
            raise
        lines = [line for line in stack if line.module_name in probe.module]
        if not lines:
            values.append(None)
            modules = " or ".join(probe.module)
            parts.append(f"{service}: no {modules} in the {probe.stack} stack")
            locations.append(Location(_service_path(service)))
            continue
        first = lines[0]
        if not names:
            values.append(f"{first.control} {first.module_name}")
            parts.append(f"{service}: {first} ({first.location})")
            locations.append(first.location)
            continue
        wanted = " or ".join(names)
        with_arg = next((line for line in lines if _argument(line, names) is not None), None)
        setting = next((s for n in names if (s := last(config, n)) is not None), None)
        if with_arg is not None:
            values.append(_argument(with_arg, names))
            parts.append(f"{service}: {with_arg} ({with_arg.location})")
            locations.append(with_arg.location)
        elif setting is not None:
            values.append(setting.value)
            parts.append(
                f"{service}: {first} ({first.location}) without {wanted}; "
                f"{setting.key} = {setting.value} at {setting.location}"
            )
            locations.extend((first.location, setting.location))
        else:
            values.append(probe.default)
            default = f"; the module's default is {probe.default}" if probe.default else ""
            parts.append(f"{service}: {first} ({first.location}) sets no {wanted}{default}")
            locations.append(first.location)
    if not parts:
        missing = ", ".join(_service_path(s) for s in probe.services)
        raise NotApplicable(f"no PAM service file: none of {missing} exists")
    return Observation(values, "; ".join(parts), tuple(locations))
