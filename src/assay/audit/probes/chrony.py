"""chrony's configuration, read the way chronyd reads it.

The main file is /etc/chrony/chrony.conf (Debian, Ubuntu) or /etc/chrony.conf (Red Hat, SUSE,
Arch). A line is a directive and its arguments; a line whose first non-blank character is one
of `!;#%` is a comment; directive names are case-insensitive. `include PATTERN` reads the
matching files in place; `confdir DIR...` reads the `*.conf` files of the directories in place,
sorted by file name, where a name found in an earlier directory hides the same name in later
ones; `sourcedir DIR` does the same with `*.sources` files after the configuration, keeping
only their `server`, `pool` and `peer` lines (as chronyd does when it loads sources). Nesting
deeper than 10 files is an error, as for chronyd.
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, NotApplicable, Observation, ProbeError, lines
from assay.audit.schema import ChronyProbe
from assay.audit.source import Missing, SourceError

CHRONY_CONF = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
MAX_INCLUDE_LEVEL = 10
SOURCE_DIRECTIVES = ("server", "pool", "peer")
MAX_SHOWN = 30


@dataclass(frozen=True, slots=True)
class Directive:
    name: str  # lower case
    args: str  # the arguments, whitespace normalised
    location: Location

    @property
    def line(self) -> str:
        """`name args`, as the probe's value (`server ntp1.example.com iburst`, `allow`)."""
        return f"{self.name} {self.args}".rstrip()


def parse_chrony(text: str, path: str) -> list[Directive]:
    """The directives of one file, in order (pure)."""
    found: list[Directive] = []
    for number, line in lines(text):
        words = line.split()
        if not words or words[0][0] in "!;#%":
            continue
        found.append(Directive(words[0].lower(), " ".join(words[1:]), Location(path, number)))
    return found


@dataclass
class _Reader:
    ctx: Context
    directives: list[Directive]
    source_dirs: list[str]

    def read(self, path: str, level: int) -> None:
        if level > MAX_INCLUDE_LEVEL:
            raise ProbeError(f"{path}: more than {MAX_INCLUDE_LEVEL} nested includes")
        for directive in parse_chrony(self.ctx.read_text(path), path):
            if directive.name == "include":
                for included in self.ctx.glob(directive.args):
                    self.read(included, level + 1)
            elif directive.name == "confdir":
                for included in search_dirs(self.ctx, directive.args.split(), ".conf"):
                    self.read(included, level + 1)
            elif directive.name == "sourcedir":
                self.source_dirs.append(directive.args)
            else:
                self.directives.append(directive)

    def read_sources(self) -> None:
        for path in search_dirs(self.ctx, self.source_dirs, ".sources"):
            for directive in parse_chrony(self.ctx.read_text(path), path):
                if directive.name in SOURCE_DIRECTIVES:
                    self.directives.append(directive)


def search_dirs(ctx: Context, directories: list[str], suffix: str) -> list[str]:
    """Files ending in `suffix` of several directories, sorted by name; a name in an earlier
    directory hides the same name in later ones (chronyd's confdir and sourcedir)."""
    chosen: dict[str, str] = {}
    for directory in directories:
        try:
            names = ctx.source.list_dir(directory)
        except Missing:
            continue
        for name in names:
            if (
                name.endswith(suffix)
                and name not in chosen
                and _is_file(ctx, f"{directory}/{name}")
            ):
                chosen[name] = f"{directory.rstrip('/')}/{name}"
    return [chosen[name] for name in sorted(chosen)]


def _is_file(ctx: Context, path: str) -> bool:
    try:
        return ctx.source.stat(path).is_file
    except SourceError:
        return False


def chrony_config(ctx: Context) -> tuple[str, list[Directive]]:
    """The main file read and every directive chronyd would see; NotApplicable without one."""

    def build() -> tuple[str, list[Directive]]:
        main = next((p for p in CHRONY_CONF if ctx.source.exists(p)), None)
        if main is None:
            raise NotApplicable(f"no chrony configuration ({' or '.join(CHRONY_CONF)})")
        reader = _Reader(ctx, [], [])
        reader.read(main, 1)
        reader.read_sources()
        return main, reader.directives

    return ctx.cached(("chrony",), build)


def probe_chrony(ctx: Context, probe: ChronyProbe) -> Observation:
    main, directives = chrony_config(ctx)
    wanted = {name.lower() for name in probe.directive}
    found = [d for d in directives if d.name in wanted]
    names = " or ".join(probe.directive)
    if not found:
        return Observation(
            [], f"no {names} directive in {main} and its includes", (Location(main),)
        )
    shown = "; ".join(f"{d.location}: {d.line}" for d in found[:MAX_SHOWN])
    more = f" and {len(found) - MAX_SHOWN} more" if len(found) > MAX_SHOWN else ""
    return Observation(
        [d.line for d in found], shown + more, tuple(d.location for d in found[:MAX_SHOWN])
    )
