"""Time to audit N SSH hosts at once: the loopback OpenSSH server listed N times.

Starts Debian's sshd on a loopback port exactly as the tests do (`tests/audit_ssh/
sshd_server.py`: own host key, user key, known_hosts), writes an inventory of N hosts
(default 100) with distinct names, all that server, and audits them with
`assay.audit.inventory.audit_hosts` at a bound of `--concurrency` (default 20). Every host is a
connection of its own: key exchange, public key login, an SFTP session.

The per-host workload (`--workload checks`, the default) is a real audit: every built-in check
through the engine's runner, the whole-filesystem checks excepted (off for SSH targets unless
an inventory asks for them). `--workload typical` only reads what a typical audit reads (about
60 files, the systemd unit directories, the status of about 30 sensitive files), and
`--workload MODULE:FUNCTION` swaps in any callable taking a FileSource.

Measures wall time for all hosts, per-host time (median, p95, max: connect, workload, close),
the client's CPU time and peak RSS, and the server's CPU time (sshd and every session, read
from this process's reaped children). Prints and saves JSON to bench/results/audit_ssh.json.
No assertions on time.

    .venv/bin/python bench/audit_ssh.py [--hosts 100] [--concurrency 20] [--workload M:F]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"hosts_100_s": 30.0}

READ = [
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/login.defs",
    "/etc/ssh/sshd_config",
    "/etc/sysctl.conf",
    "/etc/fstab",
    "/proc/mounts",
    "/var/lib/dpkg/status",
    "/etc/default/useradd",
    "/etc/security/limits.conf",
    "/etc/security/pwquality.conf",
    "/etc/security/faillock.conf",
    "/etc/securetty",
    "/etc/sudoers",
    "/etc/crontab",
    "/etc/hosts.allow",
    "/etc/hosts.deny",
    "/etc/issue",
    "/etc/issue.net",
    "/etc/motd",
    "/etc/os-release",
    "/etc/audit/auditd.conf",
    "/etc/rsyslog.conf",
    "/etc/systemd/journald.conf",
    "/etc/default/grub",
    "/etc/apt/sources.list",
    "/proc/cmdline",
    "/proc/sys/kernel/randomize_va_space",
    "/proc/sys/net/ipv4/ip_forward",
    "/proc/sys/fs/suid_dumpable",
]
# every file in these is read, as includes and drop-ins are
READ_ALL_IN = [
    "/etc/ssh/sshd_config.d",
    "/etc/sysctl.d",
    "/etc/pam.d",
    "/etc/modprobe.d",
    "/etc/sudoers.d",
    "/etc/security/limits.d",
    "/etc/cron.d",
]
LIST = [
    "/etc/systemd/system",
    "/etc/systemd/system/multi-user.target.wants",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
]
STAT = [
    "/etc/passwd",
    "/etc/passwd-",
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/group",
    "/etc/group-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/ssh/sshd_config",
    "/etc/ssh/ssh_host_ed25519_key",
    "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/crontab",
    "/etc/cron.hourly",
    "/etc/cron.daily",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/etc/cron.d",
    "/etc/cron.allow",
    "/etc/at.allow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/boot/grub/grub.cfg",
    "/etc/security/opasswd",
    "/etc/issue",
    "/etc/issue.net",
    "/etc/motd",
    "/var/log",
    "/tmp",  # noqa: S108 - its mode is checked, nothing is written
    "/var/tmp",  # noqa: S108
    "/root",
    "/home",
]


def typical_audit(source: Any) -> dict[str, int]:
    """The file access of a typical host audit; returns what it did, as counts."""
    from assay.audit.source import SourceError

    counts = {"read": 0, "bytes": 0, "listed": 0, "stat": 0, "absent_or_refused": 0}

    def read(path: str) -> None:
        try:
            counts["bytes"] += len(source.read_bytes(path))
            counts["read"] += 1
        except SourceError:
            counts["absent_or_refused"] += 1

    for path in READ:
        read(path)
    for directory in READ_ALL_IN:
        try:
            names = source.list_dir(directory)
        except SourceError:
            counts["absent_or_refused"] += 1
            continue
        counts["listed"] += 1
        for name in names:
            read(f"{directory}/{name}")
    for directory in LIST:
        try:
            counts["listed"] += 1 if source.list_dir(directory) is not None else 0
        except SourceError:
            counts["absent_or_refused"] += 1
    for path in STAT:
        try:
            source.stat(path, follow_symlinks=False)
            counts["stat"] += 1
        except SourceError:
            counts["absent_or_refused"] += 1
    return counts


def full_audit(source: Any) -> dict[str, Any]:
    """Every built-in check through the engine's runner (the whole-filesystem checks are off
    for SSH targets unless an inventory asks for them), summarized."""
    from assay.audit.loader import builtin_checks
    from assay.audit.runner import run as run_checks

    audit = run_checks(source, builtin_checks())
    return {"checks": len(audit.results), **audit.summary()["by_status"]}


def load_workload(spec: str) -> Callable[[Any], Any]:
    if spec == "typical":
        return typical_audit
    if spec == "checks":
        return full_audit
    module, _, name = spec.partition(":")
    if not name:
        raise SystemExit(f"--workload: MODULE:FUNCTION expected, got {spec!r}")
    function: Callable[[Any], Any] = getattr(importlib.import_module(module), name)
    return function


def run(hosts: int, concurrency: int, workload: Callable[[Any], Any]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))  # the server helper lives with the tests
    from tests.audit_ssh.sshd_server import start_sshd

    from assay.audit.inventory import HostOutcome, audit_hosts, load_inventory

    server = start_sshd()
    try:
        with tempfile.TemporaryDirectory() as work:
            inventory = Path(work) / "inventory.yaml"
            lines = [
                "defaults:",
                f"  user: {server.user}",
                f"  key: {server.client_key}",
                f"  known_hosts: {server.known_hosts}",
                "  connect_timeout: 20",
                "  timeout: 30",
                "hosts:",
            ]
            lines += [
                f"  - {{name: host-{n:03d}, address: 127.0.0.1, port: {server.port}}}"
                for n in range(hosts)
            ]
            inventory.write_text("\n".join(lines) + "\n")
            targets = load_inventory(inventory)
            finished: list[float] = []
            cpu = time.process_time()
            start = time.perf_counter()

            def done(outcome: HostOutcome[Any]) -> None:
                finished.append(time.perf_counter() - start)

            outcomes = audit_hosts(targets, workload, max_concurrent=concurrency, on_done=done)
            wall = time.perf_counter() - start
            client_cpu = time.process_time() - cpu
    finally:
        server.stop()
    server_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    per_host = sorted(o.seconds for o in outcomes)
    failed = [o for o in outcomes if not o.ok]
    sample = next((o.result for o in outcomes if o.ok), None)
    return {
        "hosts": hosts,
        "concurrency": concurrency,
        "ok": len(outcomes) - len(failed),
        "failed": len(failed),
        "first_errors": sorted({f"{o.kind}: {o.error}" for o in failed})[:5],
        "wall_s": round(wall, 2),
        "hosts_per_s": round(hosts / wall, 1),
        "per_host_s": {
            "median": round(statistics.median(per_host), 3),
            "p95": round(per_host[int(0.95 * (len(per_host) - 1))], 3),
            "min": round(per_host[0], 3),
            "max": round(per_host[-1], 3),
        },
        "first_host_done_s": round(min(finished), 2),
        "client_cpu_s": round(client_cpu, 2),
        "server_cpu_s": round(server_cpu.ru_utime + server_cpu.ru_stime, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "workload_per_host": sample,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20, help="hosts audited at once")
    parser.add_argument(
        "--workload",
        default="checks",
        help="`checks` (every built-in check through the runner), `typical` (the file reads "
        "of a typical audit) or MODULE:FUNCTION taking a FileSource",
    )
    args = parser.parse_args()
    workload = load_workload(args.workload)
    results: dict[str, Any] = {
        "benchmark": "audit N SSH hosts (one loopback OpenSSH server listed N times)",
        "workload": args.workload,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": TARGETS,
    }
    results.update(run(args.hosts, args.concurrency, workload))
    if args.hosts == 100:
        results["met"] = {"hosts_100_s": results["wall_s"] < TARGETS["hosts_100_s"]}
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "audit_ssh.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
