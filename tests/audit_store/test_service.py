"""Stored host audits: a run on an asset becomes evidence for the mapped controls of the open
assessments, suggests answers, and is visible only to those who may see its organization."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.assess import answers, workflow
from assay.assess.models import AnswerEvidence, AnswerState, Evidence, EvidenceKind, Status
from assay.audit import service
from assay.audit.models import AuditRunRecord, CheckResultRecord, Collector
from assay.audit.submission import SubmittedRun
from assay.auditlog.models import AuditEvent
from assay.auditlog.service import verify_chain
from assay.errors import NotFound, PermissionDenied
from assay.tenancy.models import Role
from tests.factories import SYSTEM, World, run_document

# Real check ids: the first references CIS 5.2 / CSF PR.AA-03, the second CIS 3.3 and 4.1.
EMPTY_PASSWORDS = "accounts.no_empty_passwords"
PASSWD_MODE = "accounts.passwd_permissions"


def _run(statuses: dict[str, str], target: str = "ssh:root@web1:22") -> SubmittedRun:
    return SubmittedRun.model_validate(run_document(statuses, target))


@pytest.fixture
def assessment(session: Session, world: World) -> int:
    """client-a's CIS IG1 assessment: 5.2 claimed, 4.1 verified by sentinel, 3.3 rejected."""
    admin = world.actor("northwind", Role.ADMIN)
    operator = world.actor("client-a", Role.IT_OPERATOR)
    auditor = world.actor("sentinel", Role.AUDITOR)
    created = workflow.create_assessment(
        session,
        admin,
        workflow.NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="CIS", target_ig=1
        ),
    )
    for label in ("5.2", "4.1", "3.3"):
        answers.answer_control(
            session, operator, created.id, label, answers.AnswerInput("largely", 3)
        )
    answers.verify_answer(session, auditor, _answer(session, created.id, "4.1"), "checked")
    answers.reject_answer(session, auditor, _answer(session, created.id, "3.3"), "no proof")
    session.commit()
    return created.id


def _answer(session: Session, assessment_id: int, label: str) -> int:
    from assay.assess.models import Answer
    from assay.catalog.models import Control

    found = session.scalar(
        select(Answer.id)
        .join(Control, Control.id == Answer.control_id)
        .where(Answer.assessment_id == assessment_id, Control.label == label)
    )
    assert found is not None
    return found


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_operator_run_becomes_evidence_for_unverified_answers(
    session: Session, world: World, assessment: int
) -> None:
    operator = world.actor("client-a", Role.IT_OPERATOR)
    stored = service.store_run(
        session,
        operator,
        "client-a",
        "Web server 1",
        _run({EMPTY_PASSWORDS: "pass", PASSWD_MODE: "fail"}),
    )
    session.commit()
    run = stored.run
    assert (run.checks, run.passed, run.failed, run.collected_by) == (2, 1, 1, Collector.OPERATOR)
    assert run.digest == _run({EMPTY_PASSWORDS: "pass", PASSWD_MODE: "fail"}).results_digest
    evidence = session.get(Evidence, stored.evidence_id)
    assert evidence is not None and evidence.kind is EvidenceKind.AUDIT_RESULT
    assert evidence.sha256 == run.digest and evidence.url == f"/audit-runs/{run.id}"
    linked = set(
        session.scalars(
            select(AnswerEvidence.answer_id).where(AnswerEvidence.evidence_id == evidence.id)
        )
    )
    # 5.2 (claimed) and 3.3 (rejected) now carry the run; 4.1 stays verified, untouched.
    assert linked == {_answer(session, assessment, "5.2"), _answer(session, assessment, "3.3")}
    assert (stored.linked_answers, stored.verified_left) == (2, 1)
    from assay.assess.models import Answer

    verified = session.get(Answer, _answer(session, assessment, "4.1"))
    assert verified is not None and verified.state is AnswerState.VERIFIED
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "audit_run.store")).one()
    assert event.object_id == str(run.id) and event.organization_id == world.orgs["client-a"].id
    assert verify_chain(session, SYSTEM).intact


def test_the_asset_is_found_by_host_name_and_an_unknown_one_stores_nothing(
    session: Session, world: World
) -> None:
    operator = world.actor("client-a", Role.IT_OPERATOR)
    stored = service.store_run(
        session, operator, "client-a", "DB1.client-a.test", _run({EMPTY_PASSWORDS: "pass"})
    )
    assert stored.asset.name == "Database"
    session.commit()
    before = (_count(session, AuditRunRecord), _count(session, CheckResultRecord))
    with pytest.raises(NotFound, match=r"asset 'web1\.client-b\.test' not found"):
        service.store_run(
            session, operator, "client-a", "web1.client-b.test", _run({EMPTY_PASSWORDS: "pass"})
        )
    session.rollback()
    assert (_count(session, AuditRunRecord), _count(session, CheckResultRecord)) == before


@pytest.mark.parametrize(
    ("slug", "role", "error"),
    [
        ("client-b", Role.ADMIN, NotFound),  # another client
        ("watchtower", Role.AUDITOR, NotFound),  # a firm granted nothing
        ("otherco", Role.ADMIN, NotFound),  # another MSP
        ("client-a", Role.EXECUTIVE, PermissionDenied),  # reads, never submits
        ("sentinel", Role.EXECUTIVE, PermissionDenied),
    ],
)
def test_who_may_not_submit(
    session: Session, world: World, slug: str, role: Role, error: type[Exception]
) -> None:
    with pytest.raises(error):
        service.store_run(
            session,
            world.actor(slug, role),
            "client-a",
            "Web server 1",
            _run({PASSWD_MODE: "pass"}),
        )


def test_an_auditor_collected_run_does_not_bar_its_auditor_from_verifying(
    session: Session, world: World, assessment: int
) -> None:
    auditor = world.actor("sentinel", Role.AUDITOR)
    stored = service.store_run(
        session, auditor, "client-a", "web1.client-a.test", _run({EMPTY_PASSWORDS: "pass"})
    )
    assert stored.run.collected_by is Collector.AUDITOR
    answer_id = _answer(session, assessment, "5.2")
    verdict = answers.verify_answer(session, auditor, answer_id, "saw it myself")
    assert verdict.verdict is AnswerState.VERIFIED
    snapshot_hashes = {e["sha256"] for e in verdict.snapshot["evidence"]}
    assert stored.run.digest in snapshot_hashes


def test_an_operator_run_makes_the_submitter_a_supplier_of_evidence(
    session: Session, world: World, assessment: int
) -> None:
    """The client's own auditor member submitted it: they may not verify what it backs."""
    internal = world.actor("client-a", Role.AUDITOR)
    stored = service.store_run(
        session, internal, "client-a", "Web server 1", _run({EMPTY_PASSWORDS: "pass"})
    )
    assert stored.run.collected_by is Collector.AUDITOR  # an auditor, even of the client itself
    operator = world.actor("client-a", Role.ADMIN)
    by_admin = service.store_run(
        session, operator, "client-a", "Web server 1", _run({EMPTY_PASSWORDS: "pass"})
    )
    assert by_admin.run.collected_by is Collector.OPERATOR
    with pytest.raises(PermissionDenied):
        answers.verify_answer(
            session,
            world.actor("client-a", Role.ADMIN),
            _answer(session, assessment, "5.2"),
            "mine",
        )


def test_suggestions_come_from_the_latest_run_of_each_asset(
    session: Session, world: World, assessment: int
) -> None:
    operator = world.actor("client-a", Role.IT_OPERATOR)
    service.store_run(
        session, operator, "client-a", "Web server 1", _run({EMPTY_PASSWORDS: "fail"})
    )
    service.store_run(  # the newer run of the same asset replaces the older one
        session, operator, "client-a", "Web server 1", _run({EMPTY_PASSWORDS: "pass"})
    )
    service.store_run(
        session,
        operator,
        "client-a",
        "Database",
        _run({EMPTY_PASSWORDS: "fail", PASSWD_MODE: "not_applicable"}),
    )
    session.commit()
    found = service.suggestions(session, world.actor("sentinel", Role.AUDITOR), assessment)
    rows = {row["control"]: row for row in service.suggestion_rows(found)}
    assert set(rows) == {"5.2"}  # the permissions check did not apply: it says nothing
    assert (rows["5.2"]["passed"], rows["5.2"]["failed"]) == (1, 1)
    assert rows["5.2"]["suggested_status"] == str(Status.PARTIALLY)
    assert rows["5.2"]["failing"] == [f"Database: {EMPTY_PASSWORDS}"]
    with pytest.raises(NotFound):
        service.suggestions(session, world.actor("client-b", Role.ADMIN), assessment)


def test_runs_list_show_fleet_and_drift_within_reach(session: Session, world: World) -> None:
    operator = world.actor("client-a", Role.IT_OPERATOR)
    first = service.store_run(
        session,
        operator,
        "client-a",
        "Web server 1",
        _run({EMPTY_PASSWORDS: "pass", PASSWD_MODE: "pass"}),
    ).run.id
    second = service.store_run(
        session,
        operator,
        "client-a",
        "Web server 1",
        _run({EMPTY_PASSWORDS: "fail", PASSWD_MODE: "pass"}),
    ).run.id
    session.commit()
    reader = world.actor("northwind", Role.ADMIN)
    runs, total = service.list_runs(session, reader, "client-a")
    assert total == 2 and [run.id for run, _ in runs] == [second, first]
    fleet = {row.asset.name: row.latest for row in service.fleet(session, reader, "client-a")}
    assert fleet["Database"] is None and fleet["Web server 1"] is not None
    assert fleet["Web server 1"].id == second
    view = service.get_run(session, reader, second)
    assert [r.check_id for r in view.results] == sorted([EMPTY_PASSWORDS, PASSWD_MODE])
    drift = service.compare_runs(session, reader, first, second)
    assert [(c.check_id, c.kind) for c in drift.changes] == [(EMPTY_PASSWORDS, "broke")]
    for outsider in (
        world.actor("client-b", Role.ADMIN),
        world.actor("watchtower", Role.AUDITOR),
        world.actor("otherco", Role.ADMIN),
    ):
        with pytest.raises(NotFound):
            service.get_run(session, outsider, first)
        with pytest.raises(NotFound):
            service.list_runs(session, outsider, "client-a")
        with pytest.raises(NotFound):
            service.compare_runs(session, outsider, first, second)
