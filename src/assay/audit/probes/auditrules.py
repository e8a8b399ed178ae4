"""Linux audit rules, read the way augenrules and auditctl read them.

Which files: the `*.rules` files of /etc/audit/rules.d in natural (version) order, as
`augenrules` concatenates them into /etc/audit/audit.rules when auditd starts; when that
directory holds none, /etc/audit/audit.rules itself (loaded with `auditctl -R`).

Syntax: one `auditctl` command per line, `#` comments.

- `-w PATH [-p PERMS] [-k KEY]`: a watch (a directory is watched recursively; no `-p` means
  `rwxa`);
- `-a LIST,ACTION` (or `-A`) with `-S SYSCALL[,SYSCALL]` (repeatable, `all` for every
  syscall) and `-F FIELD<op>VALUE` filters; `always,exit` rules are the ones that record.
  A rule with `-F path=` (or `-F dir=`, recursive) and `-F perm=` is a watch too;
- `-e`, `-b`, `-f`, `--backlog_wait_time`: control options, the last one wins (augenrules
  emits the last `-e` at the very end). Read from a single audit.rules, rules that follow
  `-e 2` are refused by the kernel, so they are not counted.

A syscall counts for the native (64-bit) ABI: a rule limited to another ABI (`arch=b32`)
does not. `/var/run/...` and `/run/...` are the same path, and so are `/bin/...` and
`/usr/bin/...` (`/sbin`, `/usr/sbin`: merged /usr).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assay.audit.probes.base import Context, Location, Observation, lines
from assay.audit.schema import AuditRulesProbe
from assay.audit.source import Missing

RULES_DIR = "/etc/audit/rules.d"
RULES_FILE = "/etc/audit/audit.rules"
ALL_PERMS = "rwxa"
CONTROL_OPTIONS = frozenset({"-e", "-b", "-f", "-r", "--backlog_wait_time"})
# auditctl options that take no argument.
FLAGS = frozenset(
    {"-D", "-l", "-s", "-i", "-c", "-v", "-h", "--loginuid-immutable", "--reset-lost"}
)
NATIVE_ARCHES = frozenset({"b64", "x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "riscv64"})
# exit codes by name, as filters may give either (-EACCES or -13).
ERRNO = {"EPERM": "1", "ENOENT": "2", "EACCES": "13", "EROFS": "30"}
_FIELD = re.compile(r"^([A-Za-z0-9_]+)(!=|>=|<=|&=|=|>|<|&)(.*)$")


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    op: str
    value: str


@dataclass(frozen=True)
class AuditRule:
    """One line of a rules file that does something."""

    text: str
    location: Location
    watch: str | None = None  # watched path (normalized), for -w and path=/dir= rules
    recursive: bool = False  # -w (a directory is watched recursively) and dir=
    perms: str = ALL_PERMS
    list_action: tuple[str, str] | None = None  # ("exit", "always")
    syscalls: frozenset[str] = frozenset()
    filters: tuple[Filter, ...] = ()
    control: tuple[str, str] | None = None  # ("-e", "2")


@dataclass
class RuleSet:
    rules: list[AuditRule] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    refused: list[AuditRule] = field(default_factory=list)  # after -e 2 in one audit.rules


def normalize(path: str) -> str:
    """`/var/run/utmp` and `/run/utmp/` are `/run/utmp`; `/bin/su` is `/usr/bin/su` (merged
    /usr, as on every current distribution)."""
    path = path.rstrip("/") or "/"
    for alias, real in (("/var/run", "/run"), ("/bin", "/usr/bin"), ("/sbin", "/usr/sbin")):
        if path == alias or path.startswith(alias + "/"):
            return real + path[len(alias) :]
    return path


def _errno(value: str) -> str:
    """-EACCES and -13 are the same exit value."""
    bare = value.lstrip("-")
    return "-" + ERRNO.get(bare, bare)


def parse_rule(line: str, location: Location) -> AuditRule | None:
    """One auditctl command line; None for lines that add no rule (`-D`, unknown) (pure)."""
    words = line.split()
    options: list[tuple[str, str | None]] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in FLAGS or not word.startswith("-"):
            options.append((word, None))
            index += 1
            continue
        if "=" in word and word.startswith("--"):
            name, _, inline = word.partition("=")
            options.append((name, inline))
            index += 1
            continue
        options.append((word, words[index + 1] if index + 1 < len(words) else None))
        index += 2
    text = " ".join(words)
    watch: str | None = None
    perms: str | None = None
    list_action: tuple[str, str] | None = None
    syscalls: set[str] = set()
    filters: list[Filter] = []
    for option, value in options:
        if option in CONTROL_OPTIONS and value is not None:
            return AuditRule(text, location, control=(option, value))
        if value is None:
            continue
        if option == "-w":
            watch = value
        elif option == "-p":
            perms = value
        elif option in ("-a", "-A"):
            parts = tuple(p.strip().lower() for p in value.split(","))
            if len(parts) == 2:
                kinds = {"task", "exit", "user", "exclude", "filesystem", "io_uring"}
                list_name, action = parts if parts[0] in kinds else parts[::-1]
                list_action = (list_name, action)
        elif option == "-S":
            syscalls.update(s.strip() for s in value.split(",") if s.strip())
        elif option == "-F":
            match = _FIELD.match(value)
            if match:
                filters.append(Filter(match.group(1).lower(), match.group(2), match.group(3)))
    if watch is not None:
        return AuditRule(
            text, location, watch=normalize(watch), recursive=True, perms=perms or ALL_PERMS
        )
    if list_action is None:
        return None
    path = next((f for f in filters if f.name in ("path", "dir") and f.op == "="), None)
    perm = next((f.value for f in filters if f.name == "perm" and f.op == "="), None)
    return AuditRule(
        text,
        location,
        watch=normalize(path.value) if path is not None else None,
        recursive=path is not None and path.name == "dir",
        perms=perm or ALL_PERMS,
        list_action=list_action,
        syscalls=frozenset(syscalls),
        filters=tuple(filters),
    )


def parse_rules(text: str, path: str) -> list[AuditRule]:
    """The rules of one file, in order (pure)."""
    found = []
    for number, line in lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        rule = parse_rule(stripped, Location(path, number))
        if rule is not None:
            found.append(rule)
    return found


def _natural(name: str) -> list[tuple[int, int | str]]:
    """`ls -v` order, as augenrules lists rules.d: 9-x.rules before 10-x.rules."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p]


def rule_files(ctx: Context) -> list[str]:
    """The files whose rules the kernel gets when auditd starts."""
    try:
        names = ctx.source.list_dir(RULES_DIR)
    except Missing:
        names = []
    chosen = [f"{RULES_DIR}/{n}" for n in sorted(names, key=_natural) if n.endswith(".rules")]
    if chosen:
        return chosen
    return [RULES_FILE] if ctx.source.exists(RULES_FILE) else []


def load_rules(ctx: Context) -> RuleSet:
    def build() -> RuleSet:
        found = RuleSet()
        files = rule_files(ctx)
        for path in files:
            try:
                found.rules.extend(parse_rules(ctx.read_text(path), path))
            except Missing:
                continue
            found.files.append(path)
        if files == [RULES_FILE]:  # loaded as it stands: nothing after -e 2 gets in
            for index, rule in enumerate(found.rules):
                if rule.control == ("-e", "2"):
                    found.refused = found.rules[index + 1 :]
                    found.rules = found.rules[: index + 1]
                    break
        return found

    return ctx.cached(("audit-rules",), build)


def covers_path(rule: AuditRule, path: str, perms: str) -> bool:
    """Whether the rule records `perms` access to `path`."""
    if rule.watch is None or (rule.list_action is not None and not _records(rule)):
        return False
    if rule.list_action is not None and rule.syscalls - {"all"}:
        return False  # a path filter on a few syscalls only, not a watch
    target = normalize(path)
    inside = rule.recursive and target.startswith(rule.watch.rstrip("/") + "/")
    return (target == rule.watch or inside) and all(p in rule.perms for p in perms)


def _records(rule: AuditRule) -> bool:
    return rule.list_action == ("exit", "always")


def _native(rule: AuditRule) -> bool:
    arch = [f for f in rule.filters if f.name == "arch"]
    return all(f.op == "=" and f.value.lower() in NATIVE_ARCHES for f in arch)


def _records_exit(rule: AuditRule, code: str) -> bool:
    """Whether a call failing with `code` (-EACCES) is recorded by the rule's exit filters."""
    wanted = _errno(code)
    for item in rule.filters:
        if item.name == "exit":
            if item.op == "=" and _errno(item.value) != wanted:
                return False
            if item.op == "!=" and _errno(item.value) == wanted:
                return False
        if item.name == "success" and item.op == "=" and item.value.lower() in ("1", "yes"):
            return False
    return True


def covers_syscall(rule: AuditRule, syscall: str, exits: list[str]) -> bool:
    """Whether the rule records the (native) syscall, and its calls failing with each of
    `exits` (-EACCES...) when given."""
    if not _records(rule) or not _native(rule) or rule.watch is not None:
        return False
    if syscall not in rule.syscalls and "all" not in rule.syscalls:
        return False
    return all(_records_exit(rule, code) for code in exits)


def _where(ruleset: RuleSet) -> str:
    if not ruleset.files:
        return f"no audit rules ({RULES_DIR}/*.rules and {RULES_FILE} do not exist)"
    where = "rules from " + ", ".join(ruleset.files)
    if ruleset.refused:
        first = ruleset.refused[0].location
        where += f" ({len(ruleset.refused)} rule(s) from {first} on follow -e 2: refused)"
    return where


def _observe(
    ruleset: RuleSet, wanted: list[str], covering: dict[str, AuditRule], what: str
) -> Observation:
    parts = [f"{name}: {covering[name].location}" for name in wanted if name in covering]
    missing = [name for name in wanted if name not in covering]
    if missing:
        parts.append(f"not {what}: {', '.join(missing)}")
    value = [name for name in wanted if name in covering]
    locations = tuple(dict.fromkeys(covering[n].location for n in value)) or tuple(
        Location(p) for p in (ruleset.files or [RULES_DIR, RULES_FILE])
    )
    return Observation(value, f"{_where(ruleset)}; " + "; ".join(parts), locations)


def probe_audit_rules(ctx: Context, probe: AuditRulesProbe) -> Observation:
    ruleset = load_rules(ctx)
    if probe.option is not None:
        setting = None
        for rule in ruleset.rules:
            if rule.control is not None and rule.control[0] == probe.option:
                setting = rule
        if setting is None or setting.control is None:
            return Observation(
                None,
                f"{_where(ruleset)}; {probe.option} is not set",
                tuple(Location(p) for p in (ruleset.files or [RULES_DIR])),
            )
        observed = f"{setting.text} at {setting.location}"
        if ruleset.refused and setting.control == ("-e", "2"):
            observed += f"; {len(ruleset.refused)} rule(s) after it are refused by the kernel"
        return Observation(setting.control[1], observed, (setting.location,))
    if probe.watch is not None:
        covering: dict[str, AuditRule] = {}
        for path in probe.watch:
            watching = [r for r in ruleset.rules if covers_path(r, path, probe.permissions)]
            if watching:
                covering[path] = watching[0]
        return _observe(ruleset, list(probe.watch), covering, f"watched for {probe.permissions}")
    covering = {}
    for name in probe.syscalls or ():
        # each exit code may be recorded by a rule of its own (one for -EACCES, one for -EPERM)
        needs = [[code] for code in probe.exit] or [[]]
        found = [
            next((r for r in ruleset.rules if covers_syscall(r, name, n)), None) for n in needs
        ]
        chosen = [r for r in found if r is not None]
        if len(chosen) == len(needs):
            covering[name] = chosen[0]
    what = "recorded" + (f" when failing with {', '.join(probe.exit)}" if probe.exit else "")
    return _observe(ruleset, list(probe.syscalls or ()), covering, what)
