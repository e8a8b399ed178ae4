"""sshd_config read the way OpenSSH's sshd reads it.

- keywords are case-insensitive; a keyword and its arguments are separated by whitespace or
  one `=`; arguments may be double-quoted; a token starting with `#` starts a comment;
- for most keywords the first value obtained wins (later ones are ignored);
- `Include` takes paths or globs, relative to /etc/ssh, expanded in lexical order, read where
  the Include stands; a missing file or a glob that matches nothing is not an error; an Include
  loop, or nesting deeper than sshd's limit, is (sshd would refuse to start);
- a `Match` block runs to the next `Match` or to the end of the file it is in: its settings
  override the global ones for matching connections only, so they are not global values but
  are reported with them;
- unset keywords take OpenSSH's default (as of OpenSSH 9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assay.audit.probes.base import (
    Context,
    Location,
    NotApplicable,
    Observation,
    ProbeError,
    has_magic,
    lines,
)
from assay.audit.schema import SshdProbe
from assay.audit.source import Missing

SSH_DIR = "/etc/ssh"
MAX_INCLUDE_DEPTH = 16

DEFAULTS = {
    "permitrootlogin": "prohibit-password",
    "passwordauthentication": "yes",
    "permitemptypasswords": "no",
    "pubkeyauthentication": "yes",
    "kbdinteractiveauthentication": "yes",
    "hostbasedauthentication": "no",
    "ignorerhosts": "yes",
    "gssapiauthentication": "no",
    "kerberosauthentication": "no",
    "usepam": "no",
    "x11forwarding": "no",
    "allowtcpforwarding": "yes",
    "allowagentforwarding": "yes",
    "allowstreamlocalforwarding": "yes",
    "gatewayports": "no",
    "permittunnel": "no",
    "disableforwarding": "no",
    "permituserenvironment": "no",
    "strictmodes": "yes",
    "maxauthtries": "6",
    "maxsessions": "10",
    "maxstartups": "10:30:100",
    "logingracetime": "120",
    "clientaliveinterval": "0",
    "clientalivecountmax": "3",
    "loglevel": "info",
    "syslogfacility": "auth",
    "banner": "none",
    "usedns": "no",
    "printlastlog": "yes",
    "ciphers": "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    "macs": "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
    "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
    "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "kexalgorithms": "sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
    "curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
    "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
    "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
}
# Old names sshd still accepts for the same setting.
ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
}
# Keywords whose every occurrence adds to the setting instead of the first one winning.
ACCUMULATING = frozenset(
    {
        "allowusers",
        "denyusers",
        "allowgroups",
        "denygroups",
        "acceptenv",
        "hostkey",
        "listenaddress",
        "port",
        "hostcertificate",
        "subsystem",
    }
)
# Keywords whose values sshd compares without regard to case (yes/no, levels, algorithms).
CASELESS = frozenset(
    {k for k, v in DEFAULTS.items() if not v.isdigit() and k not in ("banner",)}
    | {"printmotd", "compression", "exposeauthinfo"}
)
# Keywords holding a time (`90`, `2m`, `1h30m`): reported in seconds.
TIMES = frozenset({"logingracetime", "clientaliveinterval"})
_KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_TIME = re.compile(r"(\d+)([smhdwSMHDW]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Directive:
    keyword: str  # lowercase, aliases resolved
    args: tuple[str, ...]
    location: Location
    match: Location | None  # the Match line this directive is under, if any


@dataclass(frozen=True, slots=True)
class SshdConfig:
    directives: tuple[Directive, ...]
    rejected: tuple[Location, ...]  # lines sshd would refuse (not keyword + arguments)
    notes: tuple[str, ...]


def tokenize(text: str) -> list[str]:
    """Split arguments like sshd: whitespace-separated, double or single quotes, `#` comment."""
    tokens: list[str] = []
    current: list[str] = []
    quote: str | None = None
    started = False
    for char in text:
        if quote:
            if char == quote:
                quote = None
            else:
                current.append(char)
        elif char in "\"'":
            quote, started = char, True
        elif char.isspace():
            if started:
                tokens.append("".join(current))
                current, started = [], False
        elif char == "#" and not started:
            break
        else:
            current.append(char)
            started = True
    if started:
        tokens.append("".join(current))
    return tokens


def split_line(line: str) -> tuple[str, list[str]] | None:
    """(keyword, arguments) of a config line, None for blank and comment lines."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    match = re.match(r"^([^\s=]+)(?:\s*=\s*|\s+|$)(.*)$", stripped)
    if not match:
        return stripped, []
    return match.group(1), tokenize(match.group(2))


def convtime(value: str) -> str | None:
    """sshd's time format (`90`, `2m`, `1h30m`) in seconds; None when it is not one."""
    if not value or not re.fullmatch(r"(\d+[smhdwSMHDW]?)+", value):
        return None
    return str(sum(int(n) * _UNITS[u.lower()] for n, u in _TIME.findall(value)))


class _Parser:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.directives: list[Directive] = []
        self.rejected: list[Location] = []
        self.notes: list[str] = []

    def parse(self, path: str, chain: tuple[str, ...], match: Location | None) -> None:
        if path in chain:
            raise ProbeError("circular Include: " + " -> ".join((*chain, path)))
        if len(chain) > MAX_INCLUDE_DEPTH:
            raise ProbeError(f"Include nested deeper than {MAX_INCLUDE_DEPTH} levels at {path}")
        text = self.ctx.read_text(path)
        chain = (*chain, path)
        for number, line in lines(text):
            split = split_line(line)
            if split is None:
                continue
            word, args = split
            here = Location(path, number)
            if not _KEYWORD.match(word):
                self.rejected.append(here)
                continue
            keyword = word.lower()
            keyword = ALIASES.get(keyword, keyword)
            if keyword == "match":
                match = here  # `Match all` too: it overrides the global values
                continue
            if keyword == "include":
                self._include(args, chain, match, here)
                continue
            self.directives.append(Directive(keyword, tuple(args), here, match))

    def _include(
        self, args: list[str], chain: tuple[str, ...], match: Location | None, here: Location
    ) -> None:
        for arg in args:
            pattern = arg if arg.startswith("/") else f"{SSH_DIR}/{arg}"
            paths = self.ctx.glob(pattern)
            if not paths and not has_magic(pattern):
                self.notes.append(f"Include {arg} at {here}: {pattern} does not exist")
            for path in paths:
                self.parse(path, chain, match)


def parse_sshd_config(ctx: Context, path: str) -> SshdConfig:
    """The directives of an sshd_config and everything it includes, in reading order."""

    def build() -> SshdConfig:
        parser = _Parser(ctx)
        parser.parse(path, (), None)
        return SshdConfig(tuple(parser.directives), tuple(parser.rejected), tuple(parser.notes))

    return ctx.cached(("sshd", path), build)


def _algorithms(value: str, default: str | None) -> list[str]:
    """An algorithm list with sshd's `+` (append), `-` (remove) and `^` (prepend) forms."""
    base = [a for a in (default or "").split(",") if a]
    if value[:1] in "+-^" and value:
        items = [a for a in value[1:].split(",") if a]
        if value[0] == "+":
            return base + [a for a in items if a not in base]
        if value[0] == "^":
            return items + [a for a in base if a not in items]
        import fnmatch

        return [a for a in base if not any(fnmatch.fnmatchcase(a, p) for p in items)]
    return [a for a in value.split(",") if a]


def _normalize(keyword: str, value: str) -> str:
    if keyword in TIMES:
        return convtime(value) or value
    return value.lower() if keyword in CASELESS else value


def probe_sshd(ctx: Context, probe: SshdProbe) -> Observation:
    try:
        config = parse_sshd_config(ctx, probe.config)
    except Missing as exc:
        if exc.path != probe.config:
            raise
        raise NotApplicable(f"{probe.config} does not exist") from None
    keyword = ALIASES.get(probe.keyword.lower(), probe.keyword.lower())
    name = probe.keyword
    default = probe.default if probe.default is not None else DEFAULTS.get(keyword)
    found = [d for d in config.directives if d.keyword == keyword]
    global_ = [d for d in found if d.match is None]
    in_match = [d for d in found if d.match is not None]
    raw: str | None
    if not global_:
        raw = default
        where: tuple[Location, ...] = (Location(probe.config),)
        origin = "not set" + (f"; the OpenSSH default is {default}" if default else "")
    elif keyword in ACCUMULATING:
        raw = " ".join(a for d in global_ for a in d.args)
        where = tuple(d.location for d in global_)
        origin = "set at " + ", ".join(str(d.location) for d in global_)
    else:
        first = global_[0]
        raw = first.args[0] if len(first.args) == 1 else " ".join(first.args)
        where = (first.location,)
        origin = f"set at {first.location}"
        if len(global_) > 1:
            ignored = ", ".join(str(d.location) for d in global_[1:])
            origin += f" (the first value wins; ignored: {ignored})"
    value: str | list[str] | None = None if raw is None else _normalize(keyword, raw)
    if probe.list and isinstance(value, str):
        value = _algorithms(value, DEFAULTS.get(keyword))
    shown = ",".join(value) if isinstance(value, list) else value
    observed = f"{name} {shown}: {origin}" if global_ else f"{name} {origin}"
    if in_match:
        blocks = ", ".join(f"{d.location} (Match at {d.match})" for d in in_match)
        observed += f"; also set for some connections only in Match blocks: {blocks}"
        where += tuple(d.location for d in in_match)
    if config.rejected:
        observed += (
            f"; {len(config.rejected)} line(s) sshd would reject, first at {config.rejected[0]}"
        )
    if config.notes:
        observed += "; " + "; ".join(config.notes[:3])
    return Observation(value, observed, where)
