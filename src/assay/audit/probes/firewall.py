"""Host firewalls: which managers load rules at boot, and the default verdict of a ruleset.

`firewall_managers` counts the firewall managers that will load rules at boot (a systemd unit
pulled in by a target): ufw (only when /etc/ufw/ufw.conf also says `ENABLED=yes`), firewalld,
nftables, iptables/ip6tables (netfilter-persistent or the iptables services), shorewall, ferm.

`firewall_policy` reads the ruleset such a unit loads and gives the verdict for packets no rule
matches on a hook (input, forward, output):

- nftables (/etc/nftables.conf, or /etc/sysconfig/nftables.conf): tables and chains are
  parsed with their braces, `include` followed (globs; relative to /etc), `flush ruleset`
  honoured; for IPv4 and for IPv6, the verdict is `drop` when a filter base chain of that hook
  in a family that sees the packets (ip or inet; ip6 or inet) has `policy drop` or ends with an
  unconditional `drop`/`reject` (`reject`), else `accept`. The value is [IPv4, IPv6];
- iptables / ip6tables (iptables-save format: /etc/iptables/rules.v4 or /etc/sysconfig/iptables;
  rules.v6 or ip6tables): the `*filter` table's policy for the chain, or the verdict of an
  unconditional last `-j DROP`/`-j REJECT` rule.

A ruleset whose unit is not enabled is not loaded at boot: the check does not apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assay.audit.probes.base import Context, Location, NotApplicable, Observation, ProbeError
from assay.audit.probes.keyvalue import last, settings
from assay.audit.probes.systemd import UnitState, unit_state
from assay.audit.schema import FirewallManagersProbe, FirewallPolicyProbe
from assay.audit.source import Missing

UFW_CONF = "/etc/ufw/ufw.conf"
# manager name -> the units that load it at boot
MANAGERS: dict[str, tuple[str, ...]] = {
    "ufw": ("ufw.service",),
    "firewalld": ("firewalld.service",),
    "nftables": ("nftables.service",),
    "iptables": ("netfilter-persistent.service", "iptables.service", "ip6tables.service"),
    "shorewall": ("shorewall.service", "shorewall6.service"),
    "ferm": ("ferm.service",),
}
RULESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # ruleset -> (files, first found is loaded; units that load it)
    "nftables": (("/etc/nftables.conf", "/etc/sysconfig/nftables.conf"), ("nftables.service",)),
    "iptables": (
        ("/etc/iptables/rules.v4", "/etc/sysconfig/iptables"),
        ("netfilter-persistent.service", "iptables.service"),
    ),
    "ip6tables": (
        ("/etc/iptables/rules.v6", "/etc/sysconfig/ip6tables"),
        ("netfilter-persistent.service", "ip6tables.service"),
    ),
}
MAX_INCLUDE_DEPTH = 16
_UNCONDITIONAL = re.compile(
    r"^(?:counter(?:\s+packets\s+\d+\s+bytes\s+\d+)?\s+)?(?:log\b.*?\s+)?(drop|reject)\b.*$"
)
_IPT_TARGET = re.compile(r"^-A\s+(\S+)\s+-j\s+(DROP|REJECT)\b(.*)$")
DENY = ("drop", "reject")
FAMILIES = {"ipv4": ("ip", "inet"), "ipv6": ("ip6", "inet")}


# -- managers ------------------------------------------------------------------------------


def _enabled(ctx: Context, units: tuple[str, ...]) -> UnitState | None:
    for unit in units:
        state = unit_state(ctx, unit)
        if state.state == "enabled":
            return state
    return None


def probe_firewall_managers(ctx: Context, probe: FirewallManagersProbe) -> Observation:
    active: list[str] = []
    parts: list[str] = []
    locations: list[Location] = []
    for manager, units in MANAGERS.items():
        state = _enabled(ctx, units)
        if state is None:
            continue
        if state.location is not None:
            locations.append(state.location)
        if manager == "ufw":
            setting = last(settings(ctx, [UFW_CONF]), "ENABLED")
            if setting is None or setting.value.lower() != "yes":
                where = str(setting.location) if setting else f"not set in {UFW_CONF}"
                parts.append(f"ufw: {state.unit} is enabled but ufw is off (ENABLED: {where})")
                continue
            locations.append(setting.location)
        active.append(manager)
        parts.append(f"{manager}: {state.unit} enabled ({state.detail})")
    if not parts:
        every = ", ".join(u for group in MANAGERS.values() for u in group)
        parts.append(f"no firewall unit is enabled ({every})")
    observed = f"{len(active)} firewall manager(s) load rules at boot: " + "; ".join(parts)
    return Observation(len(active), observed, tuple(locations) or (Location("/etc/systemd"),))


# -- nftables ------------------------------------------------------------------------------


@dataclass
class Chain:
    family: str
    table: str
    name: str
    location: Location
    hook: str | None = None
    kind: str | None = None
    policy: str | None = None
    statements: list[str] = field(default_factory=list)


def _tokens(text: str, path: str) -> list[tuple[str, int]]:
    """nft tokens: words, quoted strings, `{`, `}` and statement ends (`;`, newline)."""
    found: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        index = 0
        while index < len(line):
            char = line[index]
            if char == "#":
                break
            if char.isspace() or char == "\\":
                index += 1
            elif char in "{};":
                found.append((char, number))
                index += 1
            elif char == '"':
                end = line.find('"', index + 1)
                end = len(line) if end < 0 else end + 1
                found.append((line[index:end], number))
                index = end
            else:
                match = re.match(r'[^\s{};#"\\]+', line[index:])
                assert match is not None
                found.append((match.group(0), number))
                index += match.end()
        if line.rstrip().endswith("\\"):
            continue
        found.append((";", number))
    return found


@dataclass(frozen=True)
class _Block:
    """An open `{` of an nftables file: a table, a chain, or anything else (set, map...)."""

    kind: str  # "table", "chain" or "other"
    table: tuple[str, str] | None = None  # (family, name)
    chain: Chain | None = None


class _NftParser:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.chains: dict[tuple[str, str, str], Chain] = {}

    def load(self, path: str, depth: int = 0, stack: list[_Block] | None = None) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            raise ProbeError(f"{path}: includes nested too deeply (a loop?)")
        self.parse(_tokens(self.ctx.read_text(path), path), path, depth, list(stack or ()))

    def include(self, name: str, current: str, depth: int, stack: list[_Block]) -> None:
        pattern = name.strip('"')
        if not pattern.startswith("/"):
            pattern = "/etc/" + pattern
        paths = self.ctx.glob(pattern)
        if not paths and not any(c in pattern for c in "*?["):
            raise ProbeError(f"{current}: included file {pattern} does not exist")
        for path in paths:
            self.load(path, depth + 1, stack)

    def parse(
        self, tokens: list[tuple[str, int]], path: str, depth: int, stack: list[_Block]
    ) -> None:
        """Statements of one file; `stack` holds the blocks open where the file is read (an
        included file starts inside its include's table)."""
        base = len(stack)
        statement: list[str] = []
        inline = 0  # depth of anonymous sets and maps inside a rule: `tcp dport { 22, 80 }`
        for word, number in tokens:
            if inline:
                if word != ";":
                    statement.append(word)
                inline += {"{": 1, "}": -1}.get(word, 0)
            elif word == "{" and statement and stack and stack[-1].kind == "chain":
                statement.append(word)
                inline = 1
            elif word == "{":
                self._open(stack, statement, Location(path, number))
                statement = []
            elif word == "}":
                self._end(stack, statement)
                statement = []
                if len(stack) <= base:
                    raise ProbeError(f"{path}:{number}: unbalanced braces (an extra '}}')")
                stack.pop()
            elif word == ";":
                self._end(stack, statement)
                if statement and statement[0] == "include" and len(statement) > 1:
                    self.include(statement[1], path, depth, stack)
                statement = []
            else:
                statement.append(word)
        if len(stack) != base or inline:
            raise ProbeError(f"{path}: unbalanced braces")

    def _open(self, stack: list[_Block], words: list[str], where: Location) -> None:
        table = next((b.table for b in reversed(stack) if b.table is not None), None)
        if words[:1] in (["add"], ["create"]) and len(words) > 1:
            words = words[1:]
        if words[:1] == ["table"] and table is None and len(words) > 1:
            family, name = (words[1], words[2]) if len(words) > 2 else ("ip", words[1])
            stack.append(_Block("table", table=(family, name)))
            return
        if words[:1] == ["chain"] and len(words) > 1:
            if table is not None:
                family, table_name, name = table[0], table[1], words[-1]
            elif len(words) >= 4:
                family, table_name, name = words[1], words[2], words[3]
            elif len(words) == 3:
                family, table_name, name = "ip", words[1], words[2]
            else:
                stack.append(_Block("other"))
                return
            key = (family, table_name, name)
            chain = self.chains.setdefault(key, Chain(family, table_name, name, where))
            stack.append(_Block("chain", chain=chain))
            return
        stack.append(_Block("other"))

    def _end(self, stack: list[_Block], words: list[str]) -> None:
        """A complete statement (or block header) inside the current block."""
        if not words:
            return
        if words[:2] == ["flush", "ruleset"] and not stack:
            self.chains.clear()
            return
        chain = stack[-1].chain if stack else None
        if chain is None:
            return
        if words[0] == "type" and "hook" in words:
            chain.kind = words[1] if len(words) > 1 else None
            hook_at = words.index("hook")
            chain.hook = words[hook_at + 1] if hook_at + 1 < len(words) else None
        elif words[0] == "policy" and len(words) > 1:
            chain.policy = words[1]
        else:
            chain.statements.append(" ".join(words))


def _verdict(chain: Chain) -> str:
    if chain.policy in DENY:
        return chain.policy or "drop"
    if chain.statements:
        match = _UNCONDITIONAL.match(chain.statements[-1])
        if match:
            return match.group(1)
    return "accept"


def nft_chains(ctx: Context, path: str) -> list[Chain]:
    def build() -> list[Chain]:
        parser = _NftParser(ctx)
        parser.load(path)
        return list(parser.chains.values())

    return ctx.cached(("nftables", path), build)


# -- iptables-save files -------------------------------------------------------------------


def iptables_verdict(text: str, path: str, chain: str) -> tuple[str, Location | None]:
    """The verdict of the filter table's built-in chain for unmatched packets (pure)."""
    table = None
    policy = "accept"
    where: Location | None = None
    last_rule: tuple[str, int] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        if table != "filter":
            continue
        if line.startswith(f":{chain} "):
            parts = line.split()
            policy = parts[1].lower() if len(parts) > 1 else "accept"
            where = Location(path, number)
        elif line.startswith(f"-A {chain} ") or line == f"-A {chain}":
            last_rule = (line, number)
    if policy in DENY:
        return policy, where
    if last_rule is not None:
        match = _IPT_TARGET.match(last_rule[0])
        if match and match.group(1) == chain:
            return match.group(2).lower(), Location(path, last_rule[1])
    return policy, where


# -- the probe -----------------------------------------------------------------------------


def probe_firewall_policy(ctx: Context, probe: FirewallPolicyProbe) -> Observation:
    files, units = RULESETS[probe.ruleset]
    state = _enabled(ctx, units)
    if state is None:
        raise NotApplicable(
            f"{' and '.join(units)} not enabled: no {probe.ruleset} ruleset is loaded at boot"
        )
    path = next((p for p in files if ctx.source.exists(p)), None)
    if path is None:
        return Observation(
            None,
            f"{state.unit} is enabled but there is no ruleset ({', '.join(files)})",
            tuple(Location(p) for p in files),
        )
    if probe.ruleset != "nftables":
        chain = probe.hook.upper()
        try:
            verdict, where = iptables_verdict(ctx.read_text(path), path, chain)
        except Missing:
            raise NotApplicable(f"{path} does not exist") from None
        how = f"at {where}" if where else f"no policy set in {path} (the default)"
        return Observation(
            verdict,
            f"{chain} in the filter table of {path}: {verdict}, {how}",
            (where or Location(path),),
        )
    chains = [
        c for c in nft_chains(ctx, path) if c.hook == probe.hook and c.kind in (None, "filter")
    ]
    values: list[str] = []
    parts: list[str] = []
    locations: list[Location] = []
    for protocol, families in FAMILIES.items():
        mine = [c for c in chains if c.family in families]
        verdicts = [(c, _verdict(c)) for c in mine]
        deny = next(((c, v) for c, v in verdicts if v in DENY), None)
        if deny is not None:
            base, verdict = deny
            name = f"{base.family} {base.table} {base.name}"
            parts.append(f"{protocol}: {verdict} ({name} at {base.location})")
            locations.append(base.location)
        elif mine:
            verdict = "accept"
            shown = ", ".join(f"{c.family} {c.table} {c.name} at {c.location}" for c in mine)
            parts.append(f"{protocol}: accept ({shown})")
            locations.extend(c.location for c in mine)
        else:
            verdict = "accept"
            parts.append(f"{protocol}: accept (no {probe.hook} base chain)")
        values.append(verdict)
    observed = f"{probe.hook} hook of {path} (loaded by {state.unit}): " + "; ".join(parts)
    return Observation(values, observed, tuple(dict.fromkeys(locations)) or (Location(path),))
