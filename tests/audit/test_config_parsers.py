"""sysctl precedence, PAM stacks, login.defs, key/value files, modprobe.d, fstab and mounts."""

from __future__ import annotations

import pytest

from assay.audit.probes.base import Context, NotApplicable, ProbeError
from assay.audit.probes.keyvalue import parse_settings
from assay.audit.probes.logindefs import parse_login_defs
from assay.audit.probes.modprobe import parse_modprobe, probe_kernel_module
from assay.audit.probes.mounts import parse_mount_table, probe_mount, unit_name
from assay.audit.probes.pam import expand, parse_pam, probe_pam
from assay.audit.probes.sysctl import configured, effective, parse_sysctl, probe_sysctl
from assay.audit.schema import KernelModuleProbe, MountProbe, PamProbe, SysctlProbe
from tests.audit.conftest import MakeRoot


def test_sysctl_lines() -> None:
    parsed = parse_sysctl(
        "# c\n; c\nkernel.a = 1\n-kernel/b=2 \nnet.ipv4.conf.*.rp_filter = 1\nbogus\n"
        "kernel.printk = 4   4 1  7\n",
        "/x.conf",
    )
    assert [(a.key, a.value, a.location.line) for a in parsed] == [
        ("kernel.a", "1", 3),
        ("kernel.b", "2", 4),
        ("net.ipv4.conf.*.rp_filter", "1", 5),
        ("kernel.printk", "4 4 1 7", 7),
    ]
    assert effective(parsed, "net.ipv4.conf.all.rp_filter") == parsed[2]


def test_sysctl_precedence_across_directories(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/usr/lib/sysctl.d/50-default.conf": "kernel.x = lib50\nkernel.y = lib50\n",
                    "/etc/sysctl.d/50-default.conf": "kernel.x = etc50\n",  # hides lib's 50
                    "/run/sysctl.d/60-run.conf": "kernel.z = run60\n",
                    "/usr/lib/sysctl.d/10-early.conf": "kernel.z = lib10\nkernel.w = lib10\n",
                    "/etc/sysctl.d/99-last.conf": "kernel.w = etc99\n",
                    "/etc/sysctl.conf": "kernel.w = conf\n",
                    "/etc/sysctl.d/notes.txt": "kernel.x = ignored\n",
                }
            }
        )
    )
    assignments = configured(ctx)

    def winner(key: str) -> str | None:
        found = effective(assignments, key)
        return found.value if found else None

    assert winner("kernel.x") == "etc50"
    assert winner("kernel.y") is None  # the whole /usr/lib file is hidden by /etc's
    assert winner("kernel.z") == "run60"  # 60-run.conf sorts after 10-early.conf
    assert winner("kernel.w") == "conf"  # /etc/sysctl.conf comes last


def test_sysctl_running_value_and_configured_value_both_judged(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/sysctl.d/10.conf": "kernel.kptr_restrict = 1\n",
                    "/proc/sys/kernel/kptr_restrict": "0\n",
                    "/proc/sys/kernel/osrelease": "6.1\n",
                }
            }
        )
    )
    seen = probe_sysctl(ctx, SysctlProbe(type="sysctl", key="kernel.kptr_restrict"))
    assert seen.value == "0" and seen.also == ("1",)
    with pytest.raises(NotApplicable, match="no parameter"):
        probe_sysctl(ctx, SysctlProbe(type="sysctl", key="kernel.yama.ptrace_scope"))


PAM_COMMON = "auth required pam_env.so\nauth [success=1 default=ignore] pam_unix.so nullok\n"


def test_pam_line_syntax() -> None:
    lines = parse_pam(
        "# comment\n"
        "-auth optional pam_gnome_keyring.so\n"
        "auth [success=2 default=ignore]  /lib/security/pam_unix.so nullok # trailing\n"
        "password requisite pam_pwquality.so \\\n  retry=3 minlen=12\n"
        "account required pam_access.so [accessfile=/etc/my access.conf]\n"
        "@include common-auth\n"
        "bogus line\n",
        "/etc/pam.d/x",
    )
    assert [(line.stack, line.module_name, line.location.line) for line in lines] == [
        ("auth", "pam_gnome_keyring.so", 2),
        ("auth", "pam_unix.so", 3),
        ("password", "pam_pwquality.so", 4),
        ("account", "pam_access.so", 6),
        ("@include", "common-auth", 7),
    ]
    assert lines[1].control == "[success=2 default=ignore]"
    assert lines[2].argument("minlen") == "12" and lines[2].argument("retry") == "3"
    assert lines[1].argument("nullok") == "nullok" and lines[1].argument("x") is None
    assert lines[3].args == ("accessfile=/etc/my access.conf",)


def test_pam_includes_and_substacks(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/pam.d/sshd": (
                        "@include common-auth\n"
                        "account include common-account\n"
                        "password substack common-password\n"
                    ),
                    "/etc/pam.d/common-auth": PAM_COMMON,
                    "/etc/pam.d/common-account": (
                        "account required pam_unix.so\nauth required pam_deny.so\n"
                    ),
                    "/etc/pam.d/common-password": "password required pam_unix.so yescrypt\n",
                }
            }
        )
    )
    lines = expand(ctx, "sshd")
    assert [(line.stack, line.module_name) for line in lines] == [
        ("auth", "pam_env.so"),
        ("auth", "pam_unix.so"),
        ("account", "pam_unix.so"),  # the auth line of common-account is not included
        ("password", "pam_unix.so"),
    ]
    probe = PamProbe(type="pam", services=["sshd"], stack="password", module=["pam_unix.so"])
    assert probe_pam(ctx, probe).value == ["required pam_unix.so"]


def test_pam_include_loop_and_missing_service(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root({"files": {"/etc/pam.d/a": "@include b\n", "/etc/pam.d/b": "auth include a\n"}})
    )
    with pytest.raises(ProbeError, match="circular"):
        expand(ctx, "a")
    probe = PamProbe(type="pam", services=["nope"], stack="auth", module=["pam_unix.so"])
    with pytest.raises(NotApplicable):
        probe_pam(ctx, probe)


def test_login_defs_and_key_value_files() -> None:
    settings = parse_login_defs(
        'PASS_MAX_DAYS\t90\n# PASS_MAX_DAYS 1\nENV_PATH PATH=/usr/bin:/bin\nMAIL_DIR "/var/mail"\n'
        "PASS_MAX_DAYS 60\n"
    )
    values = {s.key: s.value for s in settings}  # later ones win in a dict
    assert values == {
        "PASS_MAX_DAYS": "60",
        "ENV_PATH": "PATH=/usr/bin:/bin",
        "MAIL_DIR": "/var/mail",
    }
    pairs = parse_settings("minlen = 14\n  dcredit=-1\nenforce_for_root\n# x = 1\n", "/p")
    assert [(s.key, s.value) for s in pairs] == [
        ("minlen", "14"),
        ("dcredit", "-1"),
        ("enforce_for_root", ""),
    ]


def test_modprobe_commands_and_states(make_root: MakeRoot) -> None:
    commands = parse_modprobe(
        "install usb-storage /bin/false\nblacklist dccp # x\noptions a \\\n b=1\n", "/m.conf"
    )
    assert [(c.verb, c.module, c.location.line) for c in commands] == [
        ("install", "usb_storage", 1),
        ("blacklist", "dccp", 2),
        ("options", "a", 3),
    ]
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/modprobe.d/a.conf": "install usb-storage /bin/false\nblacklist dccp\n",
                    "/lib/modprobe.d/b.conf": "install sctp /bin/true\n",
                    "/etc/modprobe.d/c.txt": "install tipc /bin/true\n",
                }
            }
        )
    )

    def state(name: str) -> object:
        return probe_kernel_module(ctx, KernelModuleProbe(type="kernel_module", name=name)).value

    assert state("usb_storage") == "disabled"
    assert state("dccp") == "blacklisted"
    assert state("sctp") == "disabled"
    assert state("tipc") == "loadable"  # not a .conf file


def test_mount_tables_and_mount_options(make_root: MakeRoot) -> None:
    mounts = parse_mount_table(
        "# fstab\nUUID=1 / ext4 defaults 0 1\n/dev/sdb1 /mnt/My\\040Disk vfat ro 0 0\n"
        "/swapfile none swap sw 0 0\ntmpfs /tmp/ tmpfs nodev,nosuid\nbroken\n",
        "/etc/fstab",
    )
    assert [(m.mount_point, m.options, m.location.line) for m in mounts] == [
        ("/", ("defaults",), 2),
        ("/mnt/My Disk", ("ro",), 3),
        ("/tmp", ("nodev", "nosuid"), 5),
    ]
    assert unit_name("/var/tmp") == "var-tmp.mount" and unit_name("/") == "-.mount"
    assert unit_name("/srv/my-data") == "srv-my\\x2ddata.mount"
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/fstab": "tmpfs /tmp tmpfs nodev,nosuid 0 0\n",
                    "/proc/self/mounts": "tmpfs /tmp tmpfs rw,nosuid 0 0\n",
                }
            }
        )
    )
    seen = probe_mount(ctx, MountProbe(type="mount", path="/tmp"))
    assert seen.value == ["rw", "nosuid"] and seen.also == (["nodev", "nosuid"],)
    assert probe_mount(ctx, MountProbe(type="mount", path="/var/tmp")).value is None
