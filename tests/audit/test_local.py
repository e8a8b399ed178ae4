"""The whole check set on the machine running the tests, filesystem walk included."""

from __future__ import annotations

from assay.audit.loader import builtin_checks
from assay.audit.roots import LocalSource
from assay.audit.runner import INTERNAL, run


def test_full_local_audit_completes_without_crashes() -> None:
    checks = builtin_checks()
    audit = run(LocalSource(), checks)
    assert [r.check_id for r in audit.results] == [c.id for c in checks]
    crashes = [f"{r.check_id}: {r.reason}" for r in audit.results if r.reason.startswith(INTERNAL)]
    assert not crashes
    for result in audit.results:
        if result.status in ("not_applicable", "error"):
            assert result.reason, result.check_id
        else:
            assert result.observed and result.expected, result.check_id
    assert audit.walk is not None and audit.walk["entries"] > 1000
    assert audit.target == "local"
