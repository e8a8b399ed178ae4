"""The pure parts of stored audits: suggested statuses, drift between runs, and the submitted
run's validation and digest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from assay.assess.models import Status
from assay.audit import diff as drift
from assay.audit.submission import SubmittedRun, digest_of
from assay.audit.suggest import Evaluated, suggest, suggested_status


@pytest.mark.parametrize(
    ("passed", "failed", "expected"),
    [
        (4, 0, Status.FULLY),
        (3, 1, Status.LARGELY),
        (1, 3, Status.PARTIALLY),
        (1, 4, Status.NOT_IMPLEMENTED),
        (0, 2, Status.NOT_IMPLEMENTED),
    ],
)
def test_suggested_status_follows_the_share_of_passing_checks(
    passed: int, failed: int, expected: Status
) -> None:
    assert suggested_status(passed, failed) is expected


def test_nothing_evaluated_suggests_nothing() -> None:
    with pytest.raises(ValueError, match="nothing to suggest"):
        suggested_status(0, 0)


def test_suggestions_count_each_asset_and_skip_what_did_not_apply() -> None:
    references = {
        "ssh.root_login": {"cis": ["4.1", "5.4"], "csf": ["PR.AA-05"]},
        "kernel.aslr": {"cis": ["4.1"], "csf": ["PR.PS-01"]},
    }
    results = [
        Evaluated("ssh.root_login", "pass", 1, "web1"),
        Evaluated("ssh.root_login", "fail", 2, "web2"),
        Evaluated("kernel.aslr", "pass", 1, "web1"),
        Evaluated("kernel.aslr", "not_applicable", 2, "web2"),
        Evaluated("kernel.aslr", "error", 3, "db1"),
        Evaluated("gone.check", "fail", 1, "web1"),  # no longer a known check
    ]
    cis = suggest(results, references, "cis-controls-v8.1")
    assert set(cis) == {"4.1", "5.4"}
    assert (cis["4.1"].passed, cis["4.1"].failed, cis["4.1"].runs) == (2, 1, {1, 2})
    assert cis["4.1"].status is Status.PARTIALLY  # 2 of 3: at least one in four
    assert cis["4.1"].failing == ["web2: ssh.root_login"]
    assert cis["5.4"].status is Status.PARTIALLY
    csf = suggest(results, references, "nist-csf-2.0")
    assert csf["PR.PS-01"].status is Status.FULLY and csf["PR.PS-01"].evaluated == 1
    assert suggest(results, references, "sp800-53-rev5") == {}


def test_drift_names_regressions_first() -> None:
    before = {"a.one": "pass", "a.two": "fail", "a.three": "pass", "a.gone": "pass"}
    after = {"a.one": "fail", "a.two": "pass", "a.three": "pass", "a.new": "error"}
    changes = drift.diff(before, after)
    assert [(c.check_id, c.kind) for c in changes] == [
        ("a.one", "broke"),
        ("a.two", "fixed"),
        ("a.new", "appeared"),
        ("a.gone", "disappeared"),
    ]
    assert drift.summary(changes) == {
        "broke": 1,
        "fixed": 1,
        "changed": 0,
        "appeared": 1,
        "disappeared": 1,
    }
    assert drift.diff(before, before) == []


def _result(check_id: str = "ssh.root_login", **fields: Any) -> dict[str, Any]:
    return {
        "id": check_id,
        "area": check_id.split(".")[0],
        "title": "Root may not log in over SSH",
        "severity": "high",
        "status": "pass",
        "observed": "PermitRootLogin no",
        "expected": "no",
        "reason": "",
        "locations": [{"path": "/etc/ssh/sshd_config", "line": 3}],
        "duration_ms": 0.4,
        **fields,
    }


def _run(**fields: Any) -> dict[str, Any]:
    return {
        "target": "local",
        "started_at": datetime(2026, 11, 27, 10, tzinfo=UTC).isoformat(),
        "seconds": 1.5,
        "results": [_result(), _result("kernel.aslr", status="fail")],
        **fields,
    }


def test_the_digest_ignores_timing_and_order_and_a_submitted_digest() -> None:
    run = SubmittedRun.model_validate(_run(digest="0" * 64))
    reordered = SubmittedRun.model_validate(
        _run(results=[_result("kernel.aslr", status="fail", duration_ms=9.0), _result()])
    )
    assert run.results_digest == reordered.results_digest != "0" * 64
    changed = SubmittedRun.model_validate(_run(results=[_result(observed="PermitRootLogin yes")]))
    assert changed.results_digest != run.results_digest
    assert run.results_digest == digest_of([r.canonical() for r in run.results])
    assert (run.count("pass"), run.count("fail")) == (1, 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"results": []}, "results"),
        ({"results": [_result(), _result()]}, "results"),
        ({"results": [_result(status="great")]}, "status"),
        ({"results": [_result(check_id="../etc/passwd")]}, "id"),
        ({"results": [_result(observed="x" * 5000)]}, "observed"),
        ({"results": [_result(locations=[{"path": "/x", "line": 0}])]}, "line"),
        ({"started_at": "2026-11-27T10:00:00"}, "started_at"),
        ({"seconds": -1}, "seconds"),
        ({"target": ""}, "target"),
        ({"extra": "field"}, "extra"),
    ],
)
def test_malformed_runs_are_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SubmittedRun.model_validate(_run(**change))
    assert field in str(caught.value)


def test_suggestion_rows_cap_their_lists_and_keep_the_counts() -> None:
    from assay.audit.service import SUGGESTION_LIST_CAP, AssessmentSuggestions, suggestion_rows
    from assay.audit.suggest import Suggestion

    many = Suggestion(
        control="5.2",
        failed=30,
        runs=set(range(1, 31)),
        failing=[f"host-{n}: accounts.no_empty_passwords" for n in range(30)],
    )
    found = AssessmentSuggestions(assessment=None, framework_key="cis", by_control={"5.2": many})  # type: ignore[arg-type]
    (row,) = suggestion_rows(found)
    assert row["run_count"] == 30
    assert row["runs"] == list(range(30, 30 - SUGGESTION_LIST_CAP, -1))
    assert len(row["failing"]) == SUGGESTION_LIST_CAP
    assert row["failed"] == 30
