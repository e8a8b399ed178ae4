"""Audit rules, the kernel command line, firewall rulesets and rsyslog's configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.audit.probes.auditrules import (
    covers_path,
    covers_syscall,
    load_rules,
    normalize,
    parse_rule,
    parse_rules,
    probe_audit_rules,
    rule_files,
)
from assay.audit.probes.base import Context, Location, NotApplicable, ProbeError
from assay.audit.probes.cmdline import (
    command_lines,
    lookup,
    parse_bls_entry,
    parse_grub_cfg,
    parse_grubenv,
    probe_kernel_cmdline,
    split_args,
)
from assay.audit.probes.firewall import (
    iptables_verdict,
    nft_chains,
    probe_firewall_managers,
    probe_firewall_policy,
)
from assay.audit.probes.rsyslog import config_lines, include_target, probe_rsyslog, strip_comments
from assay.audit.schema import (
    AuditRulesProbe,
    FirewallManagersProbe,
    FirewallPolicyProbe,
    KernelCmdlineProbe,
    RsyslogProbe,
)
from tests.audit.conftest import MakeRoot

HERE = Location("/x.rules", 1)

# -- audit rules ---------------------------------------------------------------------------


def test_audit_rule_syntax() -> None:
    watch = parse_rule("-w /etc/sudoers.d/ -p wa -k scope", HERE)
    assert watch is not None and watch.watch == "/etc/sudoers.d" and watch.perms == "wa"
    assert watch.recursive and watch.list_action is None
    bare = parse_rule("-w /var/run/utmp", HERE)
    assert bare is not None and bare.watch == "/run/utmp" and bare.perms == "rwxa"

    rule = parse_rule(
        "-a exit,always -F arch=b64 -S chmod,fchmod -S fchmodat -F auid>=1000 -F auid!=unset "
        "-F exit=-EACCES -k perm",
        HERE,
    )
    assert rule is not None and rule.list_action == ("exit", "always")
    assert rule.syscalls == {"chmod", "fchmod", "fchmodat"}
    assert [(f.name, f.op, f.value) for f in rule.filters] == [
        ("arch", "=", "b64"),
        ("auid", ">=", "1000"),
        ("auid", "!=", "unset"),
        ("exit", "=", "-EACCES"),
    ]
    path_rule = parse_rule("-a always,exit -F path=/bin/su -F perm=x -k priv", HERE)
    assert path_rule is not None and path_rule.watch == "/usr/bin/su" and path_rule.perms == "x"
    assert not path_rule.recursive

    assert parse_rule("-e 2", HERE).control == ("-e", "2")  # type: ignore[union-attr]
    assert parse_rule("--backlog_wait_time=60000", HERE).control == (  # type: ignore[union-attr]
        "--backlog_wait_time",
        "60000",
    )
    assert parse_rule("-D", HERE) is None
    assert parse_rule("-D -k old", HERE) is None
    assert parse_rules("# c\n\n-w /etc/passwd -p wa\n", "/f")[0].location == Location("/f", 3)


def test_audit_paths_are_normalized() -> None:
    assert normalize("/var/run/faillock/") == "/run/faillock"
    assert normalize("/sbin/insmod") == "/usr/sbin/insmod"
    assert normalize("/binary") == "/binary"
    assert normalize("/") == "/"


def test_audit_watch_and_syscall_coverage() -> None:
    etc = parse_rule("-w /etc -p wa", HERE)
    file_only = parse_rule("-a always,exit -F path=/etc -F perm=wa", HERE)
    assert etc is not None and file_only is not None
    assert covers_path(etc, "/etc/passwd", "wa")
    assert not covers_path(etc, "/etcetera", "wa")
    assert not covers_path(etc, "/etc/passwd", "wx")
    assert not covers_path(file_only, "/etc/passwd", "wa")  # path= is not recursive
    filtered = parse_rule("-a always,exit -S open -F path=/etc/passwd", HERE)
    assert filtered is not None and not covers_path(filtered, "/etc/passwd", "wa")

    b32 = parse_rule("-a always,exit -F arch=b32 -S mount", HERE)
    native = parse_rule("-a always,exit -S mount", HERE)
    everything = parse_rule("-a always,exit -F arch=x86_64 -S all", HERE)
    never = parse_rule("-a never,exit -S mount", HERE)
    assert b32 is not None and native is not None and everything is not None
    assert never is not None
    assert not covers_syscall(b32, "mount", [])
    assert covers_syscall(native, "mount", []) and covers_syscall(everything, "mount", [])
    assert not covers_syscall(never, "mount", [])

    eacces = parse_rule("-a always,exit -S openat -F exit=-13", HERE)
    failures = parse_rule("-a always,exit -S openat -F success=0", HERE)
    successes = parse_rule("-a always,exit -S openat -F success=1", HERE)
    not_eperm = parse_rule("-a always,exit -S openat -F exit!=-EPERM", HERE)
    assert eacces is not None and failures is not None
    assert successes is not None and not_eperm is not None
    assert covers_syscall(eacces, "openat", ["-EACCES"])
    assert not covers_syscall(eacces, "openat", ["-EPERM"])
    assert covers_syscall(failures, "openat", ["-EACCES", "-EPERM"])
    assert not covers_syscall(successes, "openat", ["-EACCES"])
    assert not covers_syscall(not_eperm, "openat", ["-EPERM"])
    assert covers_syscall(native, "mount", ["-EPERM"])  # no exit filter: every call


def test_audit_rule_files_order_and_fallback(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/audit/rules.d/10-base.rules": "-b 1024\n",
                    "/etc/audit/rules.d/9-first.rules": "-b 64\n",
                    "/etc/audit/rules.d/99-finalize.rules": "-e 2\n-b 8192\n",
                    "/etc/audit/rules.d/notes.txt": "-b 1\n",
                    "/etc/audit/audit.rules": "-b 2\n",
                }
            }
        )
    )
    assert rule_files(ctx) == [
        "/etc/audit/rules.d/9-first.rules",
        "/etc/audit/rules.d/10-base.rules",
        "/etc/audit/rules.d/99-finalize.rules",
    ]
    seen = probe_audit_rules(ctx, AuditRulesProbe(type="audit_rules", option="-b"))
    assert seen.value == "8192"  # augenrules moves -e 2 last: nothing is refused
    assert seen.locations == (Location("/etc/audit/rules.d/99-finalize.rules", 2),)

    single = Context(
        make_root(
            {
                "files": {
                    "/etc/audit/audit.rules": "-w /etc/passwd -p wa\n-e 2\n-w /etc/shadow -p wa\n"
                }
            }
        )
    )
    assert load_rules(single).files == ["/etc/audit/audit.rules"]
    watched = probe_audit_rules(
        single, AuditRulesProbe(type="audit_rules", watch=["/etc/passwd", "/etc/shadow"])
    )
    assert watched.value == ["/etc/passwd"]
    assert "not watched for wa: /etc/shadow" in watched.observed
    assert "1 rule(s) from /etc/audit/audit.rules:3 on follow -e 2: refused" in watched.observed
    control = probe_audit_rules(single, AuditRulesProbe(type="audit_rules", option="-e"))
    assert control.value == "2" and "1 rule(s) after it are refused" in control.observed

    empty = Context(make_root({"files": {"/etc/hostname": "h\n"}}))
    nothing = probe_audit_rules(
        empty, AuditRulesProbe(type="audit_rules", syscalls=["mount"], exit=["-EPERM"])
    )
    assert nothing.value == [] and "no audit rules" in nothing.observed


def test_audit_rules_probe_needs_exactly_one_way() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        AuditRulesProbe(type="audit_rules", watch=["/etc/passwd"], syscalls=["mount"])
    with pytest.raises(ValidationError, match="exactly one"):
        AuditRulesProbe(type="audit_rules")
    with pytest.raises(ValidationError, match="exit goes with syscalls"):
        AuditRulesProbe(type="audit_rules", watch=["/etc/passwd"], exit=["-EPERM"])
    with pytest.raises(ValidationError):
        AuditRulesProbe(type="audit_rules", watch=["/etc/passwd"], permissions="wz")


# -- kernel command line -------------------------------------------------------------------


def test_kernel_argument_splitting_and_lookup() -> None:
    args = split_args('root=/dev/sda1  opt="a b" quiet audit=0 audit=1 -- init=/bin/sh\n')
    assert args == ["root=/dev/sda1", "opt=a b", "quiet", "audit=0", "audit=1"]
    assert lookup(args, "audit") == "1"  # the last one wins
    assert lookup(args, "opt") == "a b"
    assert lookup(args, "quiet") == "quiet"  # a flag gives its name
    assert lookup(args, "init") is None  # after --: init's, not the kernel's
    assert lookup(["audit-backlog-limit=9"], "audit_backlog_limit") == "9"


def test_grub_cfg_bls_and_grubenv() -> None:
    entries = parse_grub_cfg(
        "set root=x\nmenuentry 'a' {\n\tlinux16 /vmlinuz root=/dev/sda1 ro $vt_handoff quiet\n"
        "\tinitrd /initrd\n}\n  linuxefi /vmlinuz audit=1\n# linux /old audit=0\n",
        "/boot/grub2/grub.cfg",
    )
    assert [(e.args, e.location.line) for e in entries] == [
        (("root=/dev/sda1", "ro", "quiet"), 3),
        (("audit=1",), 6),
    ]
    env = parse_grubenv("# GRUB Environment Block\nkernelopts=root=/dev/sda1 ro\n#####\n")
    assert env == {"kernelopts": "root=/dev/sda1 ro"}
    bls = parse_bls_entry("title x\noptions $kernelopts ${tuned} audit=1\n", "/e.conf", env)
    assert bls[0].args == ("root=/dev/sda1", "ro", "audit=1")


def test_kernel_cmdline_sources(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/proc/cmdline": "root=/dev/sda1 audit=1\n",
                    "/boot/grub/grub.cfg": "linux /vmlinuz audit=1\nlinux /vmlinuz single\n",
                    "/etc/kernel/cmdline": "ignored=1\n",
                }
            }
        )
    )
    assert [line.running for line in command_lines(ctx)] == [True, False, False]
    seen = probe_kernel_cmdline(ctx, KernelCmdlineProbe(type="kernel_cmdline", param="audit"))
    assert seen.value == "1" and seen.also == ("1", None)
    assert "audit=1: running kernel /proc/cmdline, /boot/grub/grub.cfg:1" in seen.observed
    assert "audit not set: /boot/grub/grub.cfg:2" in seen.observed
    defaulted = probe_kernel_cmdline(
        ctx, KernelCmdlineProbe(type="kernel_cmdline", param="apparmor", default="1")
    )
    assert defaulted.value == "1" and defaulted.also == ("1", "1")

    only_kernel_install = Context(make_root({"files": {"/etc/kernel/cmdline": "audit=1\n"}}))
    lines = command_lines(only_kernel_install)
    assert [str(line.location) for line in lines] == ["/etc/kernel/cmdline"]

    with pytest.raises(NotApplicable, match="no kernel command line"):
        probe_kernel_cmdline(
            Context(make_root({"files": {"/etc/hostname": "h\n"}})),
            KernelCmdlineProbe(type="kernel_cmdline", param="audit"),
        )


# -- firewalls -----------------------------------------------------------------------------

UNITS = {
    "/usr/lib/systemd/system/nftables.service": "[Service]\n",
    "/usr/lib/systemd/system/ufw.service": "[Service]\n",
    "/usr/lib/systemd/system/netfilter-persistent.service": "[Service]\n",
}
WANTS = "/etc/systemd/system/multi-user.target.wants/"


def _enabled(*units: str) -> dict[str, str]:
    return {WANTS + unit: f"/usr/lib/systemd/system/{unit}" for unit in units}


def test_nftables_parser(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/nftables.conf": (
                        "#!/usr/sbin/nft -f\n"
                        "define ssh = 22\n"
                        'include "nftables.d/*.nft"\n'
                        "table inet filter {\n"
                        '  include "/etc/nft-chains.inc"\n'
                        "  chain forward { type filter hook forward priority 0; policy accept; }\n"
                        "}\n"
                        "table netdev ingress {\n"
                        "  chain in { type filter hook ingress device eth0 priority 0;\n"
                        "    policy drop; }\n"
                        "}\n"
                    ),
                    "/etc/nftables.d/a.nft": (
                        "table ip nat {\n"
                        "  chain pre { type nat hook prerouting priority -100; }\n"
                        "}\n"
                    ),
                    "/etc/nft-chains.inc": (
                        "chain input {\n"
                        "  type filter hook input priority 0\n"
                        "  tcp dport { $ssh,\n 443 } counter \\\n  accept\n"
                        '  log prefix "dropped: " drop # the end\n'
                        "}\n"
                    ),
                }
            }
        )
    )
    chains = {c.name: c for c in nft_chains(ctx, "/etc/nftables.conf")}
    assert set(chains) == {"pre", "input", "forward", "in"}
    assert (chains["input"].family, chains["input"].table) == ("inet", "filter")
    assert chains["input"].hook == "input" and chains["input"].policy is None
    assert chains["input"].statements == [
        "tcp dport { $ssh, 443 } counter accept",
        'log prefix "dropped: " drop',
    ]
    assert chains["forward"].policy == "accept" and chains["pre"].kind == "nat"
    assert chains["input"].location == Location("/etc/nft-chains.inc", 1)


def test_firewall_policy_verdicts(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    **UNITS,
                    "/etc/nftables.conf": (
                        "table inet filter {\n"
                        "  chain input { type filter hook input priority 0; }\n"
                        "}\n"
                        "table ip v4 {\n"
                        "  chain input { type filter hook input priority 10; policy drop; }\n"
                        "}\n"
                    ),
                },
                "links": _enabled("nftables.service"),
            }
        )
    )
    seen = probe_firewall_policy(
        ctx, FirewallPolicyProbe(type="firewall_policy", ruleset="nftables")
    )
    assert seen.value == ["drop", "accept"]  # IPv4 dropped by the ip table, IPv6 open
    assert "ipv4: drop (ip v4 input at /etc/nftables.conf:5)" in seen.observed
    with pytest.raises(NotApplicable, match=r"netfilter-persistent\.service and iptables\.service"):
        probe_firewall_policy(ctx, FirewallPolicyProbe(type="firewall_policy", ruleset="iptables"))


def test_nftables_errors(make_root: MakeRoot) -> None:
    missing = Context(
        make_root(
            {
                "files": {**UNITS, "/etc/nftables.conf": 'include "/etc/absent.nft"\n'},
                "links": _enabled("nftables.service"),
            }
        )
    )
    with pytest.raises(ProbeError, match="does not exist"):
        nft_chains(missing, "/etc/nftables.conf")
    unbalanced = Context(make_root({"files": {"/etc/nftables.conf": "table ip t {\n}\n}\n"}}))
    with pytest.raises(ProbeError, match="unbalanced"):
        nft_chains(unbalanced, "/etc/nftables.conf")


def test_iptables_save_files() -> None:
    text = (
        "# Generated by iptables-save\n*raw\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"
        "*filter\n:INPUT ACCEPT [10:200]\n:FORWARD DROP [0:0]\n"
        "-A INPUT -i lo -j ACCEPT\n-A INPUT -j DROP\n-A FORWARD -s 10.0.0.0/8 -j REJECT\nCOMMIT\n"
    )
    assert iptables_verdict(text, "/r", "INPUT") == ("drop", Location("/r", 9))
    assert iptables_verdict(text, "/r", "FORWARD") == ("drop", Location("/r", 7))
    assert iptables_verdict(text, "/r", "OUTPUT") == ("accept", None)
    conditional = "*filter\n:INPUT ACCEPT\n-A INPUT -s 1.2.3.4 -j DROP\n"
    assert iptables_verdict(conditional, "/r", "INPUT") == ("accept", Location("/r", 2))


def test_firewall_managers(make_root: MakeRoot) -> None:
    probe = FirewallManagersProbe(type="firewall_managers")
    both = Context(
        make_root(
            {
                "files": {**UNITS, "/etc/ufw/ufw.conf": "ENABLED=yes\n"},
                "links": _enabled("ufw.service", "netfilter-persistent.service"),
            }
        )
    )
    seen = probe_firewall_managers(both, probe)
    assert seen.value == 2 and "ufw: ufw.service enabled" in seen.observed
    off = Context(
        make_root(
            {
                "files": {**UNITS, "/etc/ufw/ufw.conf": "ENABLED=no\n"},
                "links": _enabled("ufw.service"),
            }
        )
    )
    seen = probe_firewall_managers(off, probe)
    assert seen.value == 0 and "ufw is off (ENABLED: /etc/ufw/ufw.conf:1)" in seen.observed


# -- rsyslog -------------------------------------------------------------------------------


def test_rsyslog_comments_and_includes() -> None:
    kept = strip_comments(
        "# a comment\n"
        "$IncludeConfig /etc/rsyslog.d/*.conf\n"
        'include(file="/etc/rsyslog.d/*.conf" mode="optional")\n'
        "/* a block\n"
        'input(type="imtcp" port="514")\n'
        "*/ *.* /var/log/all\n"
        'action(type="omfile" /* inline */ file="/var/log/x")\n'
    )
    assert [number for number, _ in kept] == [2, 3, 6, 7]
    assert kept[2][1].strip() == "*.* /var/log/all"
    assert kept[3][1] == 'action(type="omfile"  file="/var/log/x")'
    assert include_target(kept[0][1]) == "/etc/rsyslog.d/*.conf"
    assert include_target(kept[1][1]) == "/etc/rsyslog.d/*.conf"
    assert include_target("$includeconfig /etc/rsyslog.d/") == "/etc/rsyslog.d/"
    assert include_target("*.* /var/log/syslog") is None


def test_rsyslog_probe_reads_includes_in_place(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/rsyslog.conf": (
                        "$FileCreateMode 0640\n"
                        "$IncludeConfig /etc/rsyslog.d/\n"
                        "$FileCreateMode 0600\n"
                    ),
                    "/etc/rsyslog.d/b.conf": "$FileCreateMode 0644\n",
                    "/etc/rsyslog.d/a.conf": "*.* @@collector:514\n",
                }
            }
        )
    )
    assert [str(line.location) for line in config_lines(ctx, "/etc/rsyslog.conf")] == [
        "/etc/rsyslog.conf:1",
        "/etc/rsyslog.d/a.conf:1",
        "/etc/rsyslog.d/b.conf:1",
        "/etc/rsyslog.conf:3",
    ]
    seen = probe_rsyslog(ctx, RsyslogProbe(type="rsyslog", pattern=r"\$FileCreateMode\s+(\d+)"))
    assert seen.value == ["0640", "0644", "0600"]
    with pytest.raises(NotApplicable, match="does not exist"):
        probe_rsyslog(ctx, RsyslogProbe(type="rsyslog", pattern="x", config="/etc/other.conf"))
    loop = Context(
        make_root({"files": {"/etc/rsyslog.conf": "$IncludeConfig /etc/rsyslog.conf\n"}})
    )
    with pytest.raises(ProbeError, match="include loop"):
        probe_rsyslog(loop, RsyslogProbe(type="rsyslog", pattern="x"))
