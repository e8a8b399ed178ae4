"""Demo host audits: the built-in checks run by the real engine on small generated root
filesystems standing for the demo clients' servers, stored on their assets. One server is
audited by the Sentinel auditor (auditor-collected), the others by the MSP's operator, and one
twice, so that drift shows."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.auth.actor import Actor

# A Debian server as installed, then the hardening an operator applied, file by file.
BASE: dict[str, str] = {
    "etc/hostname": "server\n",
    "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
    "etc/passwd": "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n",
    "etc/shadow": "root:$y$j9T$salt$hash:19700:0:99999:7:::\nwww-data:*:19700:0:99999:7:::\n",
    "etc/group": "root:x:0:\nwww-data:x:33:\n",
    "etc/login.defs": "PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nUMASK 022\nENCRYPT_METHOD YESCRYPT\n",
    "etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"
    "X11Forwarding yes\n",
    "etc/sysctl.conf": "",
    "etc/fstab": "UUID=1 / ext4 errors=remount-ro 0 1\n",
    "etc/issue": "Debian GNU/Linux 12 \\n \\l\n",
}
HARDENED: dict[str, str] = {
    "etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n"
    "PasswordAuthentication no\nX11Forwarding no\nMaxAuthTries 4\nLogLevel VERBOSE\n"
    "ClientAliveInterval 300\nClientAliveCountMax 2\nLoginGraceTime 60\n",
    "etc/sysctl.d/60-hardening.conf": "kernel.yama.ptrace_scope = 1\nkernel.dmesg_restrict = 1\n"
    "kernel.kptr_restrict = 2\nnet.ipv4.conf.all.accept_redirects = 0\n"
    "net.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.all.rp_filter = 1\n"
    "net.ipv4.tcp_syncookies = 1\nfs.protected_hardlinks = 1\nfs.protected_symlinks = 1\n",
    "etc/login.defs": "PASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\nPASS_WARN_AGE 7\nUMASK 027\n"
    "ENCRYPT_METHOD YESCRYPT\n",
    "etc/fstab": "UUID=1 / ext4 errors=remount-ro 0 1\n"
    "tmpfs /tmp tmpfs defaults,nodev,nosuid,noexec 0 0\n"
    "tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n",
    "etc/issue": "Authorized use only. Activity is monitored.\n",
}
MODES = {"etc/shadow": 0o640, "etc/passwd": 0o644, "etc/group": 0o644}
WORDS = {"auditor": "auditor-collected", "operator": "operator-submitted"}

# (client, asset, hostname, who audits, hardening steps applied before each run)
HOSTS: tuple[tuple[str, str, str, str, tuple[bool, ...]], ...] = (
    ("contoso-dental", "web1", "web1.contoso-dental.example", "auditor", (False, True)),
    ("contoso-dental", "web2", "web2.contoso-dental.example", "operator", (False,)),
    ("fabrikam-logistics", "www", "www.fabrikam.example", "operator", (True,)),
)


def _tree(root: Path, hostname: str, hardened: bool) -> None:
    files = {**BASE, "etc/hostname": f"{hostname}\n", **(HARDENED if hardened else {})}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(MODES.get(name, 0o644))


def seed_audit_runs(session: Session, actor_for: Callable[[str, str], Actor]) -> list[str]:
    """Runs for the demo servers of clients that have none yet; `actor_for(role, slug)` gives
    the demo operator ("operator") or the demo auditor ("auditor") acting on that client."""
    from assay.assets.models import Asset
    from assay.audit import service
    from assay.audit.loader import builtin_checks
    from assay.audit.models import AuditRunRecord
    from assay.audit.roots import RootSource
    from assay.audit.runner import run
    from assay.audit.submission import SubmittedRun
    from assay.tenancy.access import org_by_slug

    lines: list[str] = []
    checks = builtin_checks()
    for slug, asset, hostname, who, steps in HOSTS:
        org = org_by_slug(session, slug)
        known = session.scalar(
            select(Asset.id).where(Asset.organization_id == org.id, Asset.name == asset)
        )
        if known is None:
            continue
        done = session.scalar(
            select(AuditRunRecord.id).where(AuditRunRecord.asset_id == known).limit(1)
        )
        if done is not None:
            continue
        for hardened in steps:
            with tempfile.TemporaryDirectory(prefix="assay-demo-") as folder:
                _tree(Path(folder), hostname, hardened)
                audit = run(RootSource(Path(folder)), checks)
            submitted = SubmittedRun.from_run(audit).model_copy(
                update={"target": f"root:/images/{hostname}"}  # not the temporary folder
            )
            stored = service.store_run(session, actor_for(who, slug), slug, asset, submitted)
            lines.append(
                f"{slug}: audit run {stored.run.id} of {asset} ({stored.run.passed} pass, "
                f"{stored.run.failed} fail; {WORDS[stored.run.collected_by]})"
            )
    return lines
