"""The format of check files, `audit/checks/<area>.yaml` (documented in docs/checks.md).

A check is data: what to look at (a typed `probe`), what it should be (`expect`), when it
applies (`applies_if`), how bad a failure is, why it matters, how to fix it, and which catalog
controls it provides evidence for.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

FORMAT = "assay/checks/v1"


class Severity(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {s: i for i, s in enumerate(Severity)}


def _no_bool(value: Any) -> Any:
    """YAML reads yes/no/on/off as booleans: make authors quote them instead of guessing."""
    if isinstance(value, bool):
        raise ValueError("quote this value ('yes', 'no'): YAML reads it as a boolean")
    if isinstance(value, int):
        return str(value)
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str | dict) else value


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return pattern


Word = Annotated[str, BeforeValidator(_no_bool), StringConstraints(max_length=500)]
Words = Annotated[list[Word], BeforeValidator(_one_or_many), Field(min_length=1)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
AbsPath = Annotated[str, StringConstraints(pattern=r"^/[^\x00]*$", max_length=1024)]
AbsPaths = Annotated[list[AbsPath], BeforeValidator(_one_or_many), Field(min_length=1)]
Pattern = Annotated[str, BeforeValidator(_no_bool), BeforeValidator(_compiles)]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@+:\\-]+$", max_length=200)]
Names = Annotated[list[Name], BeforeValidator(_one_or_many), Field(min_length=1)]
CheckId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+(\.[a-z0-9_]+)*$")]
CisId = Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.\d{1,2}$")]
CsfId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}\.[A-Z]{2}-\d{2}$")]
Sp80053Id = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-\d{1,2}(\(\d{1,2}\))?$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- probes: what to look at ---------------------------------------------------------------


class FileProbe(_Model):
    """The state of one path: type, permissions, owner and group (None when it is absent)."""

    type: Literal["file"]
    path: AbsPath


class FilesProbe(_Model):
    """The state of every path matching a glob (a list, empty when nothing matches)."""

    type: Literal["files"]
    glob: AbsPath


class RegexProbe(_Model):
    """Lines of a file (or of every file matching a glob) that match a regular expression.

    The value is the list of matching lines, or of the first group when the pattern has one.
    Comment lines (first non-blank character `#`) are skipped unless `comments` is true."""

    type: Literal["regex"]
    path: AbsPath
    pattern: Pattern
    ignore_case: bool = False
    comments: bool = False


class SshdProbe(_Model):
    """The value sshd uses for a keyword, read the way sshd reads sshd_config."""

    type: Literal["sshd"]
    keyword: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]+$")]
    list: bool = False  # split a comma-separated value (Ciphers, MACs...) into a list
    default: Word | None = None  # overrides the built-in OpenSSH default
    config: AbsPath = "/etc/ssh/sshd_config"


class SysctlProbe(_Model):
    """A kernel parameter: the running value (when visible) and the one configured for boot."""

    type: Literal["sysctl"]
    key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_][a-z0-9_.\-/]*$")]
    default: Word | None = None  # the kernel's own default, used when nothing else is known


class LoginDefsProbe(_Model):
    """A setting of /etc/login.defs (shadow-utils)."""

    type: Literal["login_defs"]
    key: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]+$")]
    default: Word | None = None  # what shadow-utils uses when the key is not set


class KeyValueProbe(_Model):
    """A `key = value` (or `key value`) setting across files read in order, the last one wins
    (globs expand in lexical order): pwquality.conf, faillock.conf, conf.d drop-ins."""

    type: Literal["keyvalue"]
    paths: AbsPaths
    key: Name
    separator: Literal["=", "space"] = "="
    default: Word | None = None


PamStack = Literal["auth", "account", "password", "session"]


class PamProbe(_Model):
    """A module in a PAM stack (with @include and include/substack followed).

    The value is a list with one item per existing service file (None where the module, or
    the argument, is missing). Without `argument`: the module's `control module`. With
    `argument` (one name or several alternatives): the first one the module's line carries,
    `minlen=14` giving `14` and a flag such as `sha512` giving its name; else the module's
    own configuration files (`config`, globs allowed, the last setting wins); else, when the
    module is there, `default` (the module's built-in default)."""

    type: Literal["pam"]
    services: Names
    stack: PamStack
    module: Names
    argument: Names | None = None
    config: list[AbsPath] = []
    default: Word | None = None


class PackagesProbe(_Model):
    """Which of the named packages are installed (dpkg, or rpm's sqlite database)."""

    type: Literal["packages"]
    names: Names


class SystemdUnitProbe(_Model):
    """The enablement of a systemd unit from the unit links: enabled, disabled, masked or
    not-found. With several names (aliases, distribution variants) the most active wins."""

    type: Literal["systemd_unit"]
    units: Names


class MountProbe(_Model):
    """The options of the filesystem mounted at a path (None when it is not a mount point)."""

    type: Literal["mount"]
    path: AbsPath


class KernelModuleProbe(_Model):
    """Whether a kernel module can be loaded: loaded, disabled, blacklisted or loadable."""

    type: Literal["kernel_module"]
    name: Name


WalkFind = Literal[
    "world_writable_files", "world_writable_dirs_without_sticky", "suid_sgid", "unowned"
]


class WalkProbe(_Model):
    """Paths found by the one filesystem walk of the run (sorted list of paths)."""

    type: Literal["walk"]
    find: WalkFind
    exclude: list[str] = []  # glob patterns of paths to leave out


class FieldCondition(_Model):
    field: Annotated[int, Field(ge=1, le=20)]
    regex: Pattern  # must match the whole field


class FieldsProbe(_Model):
    """One field of the lines of a colon-separated file (passwd, shadow, group) whose other
    fields match conditions; fields are numbered from 1."""

    type: Literal["fields"]
    path: AbsPath
    select: Annotated[int, Field(ge=1, le=20)]
    where: list[FieldCondition] = []


class AptConfigProbe(_Model):
    """A setting of APT's configuration, read as apt reads apt.conf.d and apt.conf.

    Without `items`: the value of `key` (the last setting wins), else `default`. With `items`:
    the list items of one or more keys (Unattended-Upgrade::Origins-Pattern...), combined,
    keeping those matching `matching` when it is given."""

    type: Literal["apt_config"]
    key: Names
    items: bool = False
    matching: Pattern | None = None
    default: Word | None = None

    @model_validator(mode="after")
    def _one_key(self) -> AptConfigProbe:
        if not self.items and (len(self.key) > 1 or self.matching is not None):
            raise ValueError("several keys and `matching` go with `items: true` only")
        return self


class AptSourcesProbe(_Model):
    """A field of every enabled APT source entry (sources.list, *.list, *.sources): `uri`
    (each URI), or an option name (`trusted`, `allow-insecure`, `signed-by`...), giving the
    values of the entries that set it."""

    type: Literal["apt_sources"]
    option: Names


class ChronyProbe(_Model):
    """Every occurrence of chrony directives (`server`, `allow`, `user`...) as a normalised
    line, `name arguments` (name in lower case), with include, confdir and sourcedir
    followed."""

    type: Literal["chrony"]
    directive: Names


class AuditRulesProbe(_Model):
    """The Linux audit rules auditd loads (rules.d/*.rules as augenrules joins them, else
    audit.rules), one of three ways: `watch` (the paths among these recorded for every letter
    of `permissions`), `syscalls` (those among these recorded on exit for the native ABI, and,
    with `exit`, also when failing with each of these codes), or `option` (the last value of
    a control option: -e, -b, -f, -r, --backlog_wait_time)."""

    type: Literal["audit_rules"]
    watch: AbsPaths | None = None
    permissions: Annotated[str, StringConstraints(pattern=r"^[rwxa]{1,4}$")] = "wa"
    syscalls: Names | None = None
    exit: list[Annotated[str, StringConstraints(pattern=r"^-?([A-Z]{2,12}|\d{1,4})$")]] = []
    option: Literal["-e", "-b", "-f", "-r", "--backlog_wait_time"] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> AuditRulesProbe:
        if sum(x is not None for x in (self.watch, self.syscalls, self.option)) != 1:
            raise ValueError("give exactly one of watch, syscalls and option")
        if self.exit and self.syscalls is None:
            raise ValueError("exit goes with syscalls")
        return self


class KernelCmdlineProbe(_Model):
    """A kernel command-line parameter, on the running kernel (/proc/cmdline, when visible)
    and on every configured boot entry (grub.cfg, /boot/loader/entries); `default` stands
    where it is not set."""

    type: Literal["kernel_cmdline"]
    param: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]+$", max_length=100)]
    default: Word | None = None


class FirewallManagersProbe(_Model):
    """The number of firewall managers that load rules at boot (ufw, firewalld, nftables,
    iptables, shorewall, ferm)."""

    type: Literal["firewall_managers"]


class FirewallPolicyProbe(_Model):
    """The verdict for packets no rule matches on a hook of the ruleset an enabled unit loads
    at boot (nftables: a list for IPv4 and IPv6; iptables, ip6tables: one value)."""

    type: Literal["firewall_policy"]
    ruleset: Literal["nftables", "iptables", "ip6tables"]
    hook: Literal["input", "forward", "output"] = "input"


class RsyslogProbe(_Model):
    """Lines of rsyslog's configuration (includes followed) matching a regular expression."""

    type: Literal["rsyslog"]
    pattern: Pattern
    ignore_case: bool = False
    config: AbsPath = "/etc/rsyslog.conf"


Probe = Annotated[
    FileProbe
    | AptConfigProbe
    | AptSourcesProbe
    | ChronyProbe
    | FilesProbe
    | RegexProbe
    | SshdProbe
    | SysctlProbe
    | LoginDefsProbe
    | KeyValueProbe
    | PamProbe
    | PackagesProbe
    | SystemdUnitProbe
    | MountProbe
    | KernelModuleProbe
    | WalkProbe
    | FieldsProbe
    | AuditRulesProbe
    | KernelCmdlineProbe
    | FirewallManagersProbe
    | FirewallPolicyProbe
    | RsyslogProbe,
    Field(discriminator="type"),
]
FILE_STATE_PROBES = ("file", "files")


# -- expectations: what it should be -------------------------------------------------------


class Expect(_Model):
    """Conditions on the probe's value; all of them must hold. On a list, the conditions on
    single values (equals, in, not_in, regex, not_regex, at_least, at_most, mode_at_most, owner,
    group) must hold for every item; `present`, `absent`, `unique` and `contains` look at the
    list as a whole."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    equals: Word | None = None
    in_: Annotated[list[Word] | None, Field(alias="in", min_length=1)] = None
    not_in: Annotated[list[Word] | None, Field(min_length=1)] = None
    regex: Pattern | None = None
    not_regex: Pattern | None = None
    at_least: int | None = None
    at_most: int | None = None
    present: Literal[True] | None = None
    absent: Literal[True] | None = None
    unique: Literal[True] | None = None
    contains: Annotated[list[Word] | None, Field(min_length=1)] = None
    mode_at_most: Annotated[str | None, StringConstraints(pattern=r"^0?[0-7]{3,4}$")] = None
    owner: Annotated[list[Name] | None, BeforeValidator(_one_or_many)] = None
    group: Annotated[list[Name] | None, BeforeValidator(_one_or_many)] = None

    @field_validator("mode_at_most", mode="before")
    @classmethod
    def _octal_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError("write the mode as a quoted octal string, e.g. '0644'")
        return value

    @model_validator(mode="after")
    def _something(self) -> Expect:
        if not self.model_dump(exclude_none=True):
            raise ValueError("an expectation needs at least one condition")
        if self.present and self.absent:
            raise ValueError("present and absent cannot both be required")
        return self

    @property
    def file_state_conditions(self) -> bool:
        return any(v is not None for v in (self.mode_at_most, self.owner, self.group))

    @property
    def value_conditions(self) -> bool:
        values = (self.equals, self.in_, self.not_in, self.regex, self.not_regex)
        numbers = (self.at_least, self.at_most, self.unique, self.contains)
        return any(v is not None for v in (*values, *numbers))


# -- when a check applies ------------------------------------------------------------------


class Applicability(_Model):
    """Conditions for a check to apply; each condition is met by any one of its items."""

    path_exists: AbsPaths | None = None  # globs allowed
    package_installed: Names | None = None

    @model_validator(mode="after")
    def _something(self) -> Applicability:
        if self.path_exists is None and self.package_installed is None:
            raise ValueError("applies_if needs path_exists or package_installed")
        return self


class References(_Model):
    """Catalog controls this check gives evidence for; they must exist in the catalogs."""

    cis: list[CisId] = []
    csf: list[CsfId] = []
    sp800_53: list[Sp80053Id] = []

    @model_validator(mode="after")
    def _something(self) -> References:
        if not self.cis and not self.csf:
            raise ValueError("a check references at least one CIS safeguard or CSF subcategory")
        return self


Conditions = Annotated[list[Applicability], BeforeValidator(_one_or_many)]


class Check(_Model):
    id: CheckId
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    severity: Severity
    rationale: Text
    remediation: Text
    references: References
    applies_if: Conditions = []
    probe: Probe
    expect: Expect

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @model_validator(mode="after")
    def _expect_fits_probe(self) -> Check:
        is_file_state = self.probe.type in FILE_STATE_PROBES
        if self.expect.file_state_conditions and not is_file_state:
            raise ValueError("mode_at_most, owner and group apply to file and files probes only")
        if is_file_state and self.expect.value_conditions:
            raise ValueError(
                "file and files probes take present, absent, mode_at_most, owner and group"
            )
        return self


class CheckFile(_Model):
    """One area's checks: `checks/<area>.yaml`."""

    format: Literal["assay/checks/v1"]
    area: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    title: Text
    description: Text | None = None
    applies_if: Conditions = []  # added to every check of the file
    checks: Annotated[list[Check], Field(min_length=1)]

    @model_validator(mode="after")
    def _ids(self) -> CheckFile:
        seen: set[str] = set()
        for check in self.checks:
            if check.area != self.area:
                raise ValueError(f"{check.id}: the id must start with '{self.area}.'")
            if check.id in seen:
                raise ValueError(f"{check.id}: the id is used twice")
            seen.add(check.id)
        return self
