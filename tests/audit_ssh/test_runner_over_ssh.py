"""The full set of built-in checks over SSH gives the same verdicts as a local audit of the same
machine (the loopback server serves this machine's files), except the whole-filesystem checks,
which are off for SSH targets unless asked for."""

from __future__ import annotations

import dataclasses

from assay.audit.loader import builtin_checks
from assay.audit.roots import LocalSource
from assay.audit.runner import INTERNAL, run
from assay.audit.ssh import LoopThread, SshSource, SshTarget


def test_every_check_runs_over_ssh_as_it_does_locally(target: SshTarget, loop: LoopThread) -> None:
    checks = builtin_checks()
    walk_checks = {c.id for c in checks if c.probe.type == "walk"}
    assert walk_checks, "the built-in checks include whole-filesystem ones"
    with SshSource.connect(target, loop) as source:
        remote = run(source, checks)
    local = run(LocalSource(), [c for c in checks if c.id not in walk_checks])
    by_id = {r.check_id: r for r in remote.results}
    assert not [r for r in remote.results if r.reason.startswith(INTERNAL)]
    for check_id in walk_checks:
        assert by_id[check_id].status == "not_applicable"
        assert "filesystem walk is off" in by_id[check_id].reason
    # /proc is the live kernel's on both sides; the same files give the same verdicts.
    differ = {
        r.check_id: (r.status, by_id[r.check_id].status)
        for r in local.results
        if r.status != by_id[r.check_id].status
    }
    assert differ == {}


def test_the_walk_can_be_asked_for(target: SshTarget, loop: LoopThread) -> None:
    with SshSource.connect(dataclasses.replace(target, walk=True), loop) as source:
        assert source.walk_refusal is None
    with SshSource.connect(target, loop) as source:
        assert source.walk_refusal is not None
