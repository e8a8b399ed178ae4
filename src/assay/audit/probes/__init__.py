"""Typed probes: each reads files through a `FileSource` and returns an `Observation`.

Pure parsing (bytes or text in, records out) is kept apart from reading in every module, so
parsers are tested on their own and work the same on every target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assay.audit.probes.accounts import probe_fields
from assay.audit.probes.apt import probe_apt_config, probe_apt_sources
from assay.audit.probes.auditrules import probe_audit_rules
from assay.audit.probes.base import Context, Observation
from assay.audit.probes.chrony import probe_chrony
from assay.audit.probes.cmdline import probe_kernel_cmdline
from assay.audit.probes.files import probe_file, probe_files
from assay.audit.probes.firewall import probe_firewall_managers, probe_firewall_policy
from assay.audit.probes.keyvalue import probe_keyvalue
from assay.audit.probes.logindefs import probe_login_defs
from assay.audit.probes.modprobe import probe_kernel_module
from assay.audit.probes.mounts import probe_mount
from assay.audit.probes.packages import probe_packages
from assay.audit.probes.pam import probe_pam
from assay.audit.probes.rsyslog import probe_rsyslog
from assay.audit.probes.sshd import probe_sshd
from assay.audit.probes.sysctl import probe_sysctl
from assay.audit.probes.systemd import probe_systemd_unit
from assay.audit.probes.text import probe_regex
from assay.audit.probes.walk import probe_walk
from assay.audit.schema import Probe

_PROBES: dict[str, Callable[[Context, Any], Observation]] = {
    "file": probe_file,
    "files": probe_files,
    "regex": probe_regex,
    "sshd": probe_sshd,
    "sysctl": probe_sysctl,
    "login_defs": probe_login_defs,
    "keyvalue": probe_keyvalue,
    "pam": probe_pam,
    "packages": probe_packages,
    "systemd_unit": probe_systemd_unit,
    "mount": probe_mount,
    "kernel_module": probe_kernel_module,
    "walk": probe_walk,
    "fields": probe_fields,
    "apt_config": probe_apt_config,
    "apt_sources": probe_apt_sources,
    "chrony": probe_chrony,
    "audit_rules": probe_audit_rules,
    "kernel_cmdline": probe_kernel_cmdline,
    "firewall_managers": probe_firewall_managers,
    "firewall_policy": probe_firewall_policy,
    "rsyslog": probe_rsyslog,
}


def run_probe(ctx: Context, probe: Probe) -> Observation:
    """Look at what the probe describes on the context's target."""
    return _PROBES[probe.type](ctx, probe)
