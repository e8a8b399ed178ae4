"""Every role x every assessment action, on one's own work and on others' work.

Expected outcomes come from the rules in docs/scoring.md and auth/policy.yaml: client and MSP
people do the work, auditors (client auditors, granted firms) verify it, nobody verifies their
own work, IT operators never verify, executives only read.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy.orm import Session

from assay.assess import answers, evidence, workflow
from assay.assess.models import AnswerState, AssessmentState
from assay.errors import NotFound, PermissionDenied
from assay.tenancy.models import Role
from tests.assess.conftest import AssessWorld

ACTORS = [
    (slug, role)
    for slug in ("client-a", "northwind", "sentinel", "watchtower", "client-b")
    for role in Role
]

# (slug, role) -> the actions it may take on client-a's assessment, on others' work
ALLOWED: dict[tuple[str, Role], set[str]] = {
    ("client-a", Role.ADMIN): {"answer", "evidence", "close", "reopen"},
    ("client-a", Role.IT_OPERATOR): {"answer", "evidence"},
    ("client-a", Role.AUDITOR): {"evidence", "verify", "reject", "close"},
    ("client-a", Role.EXECUTIVE): set(),
    ("northwind", Role.ADMIN): {"answer", "evidence", "close", "reopen"},
    ("northwind", Role.IT_OPERATOR): {"answer", "evidence"},
    ("northwind", Role.AUDITOR): set(),
    ("northwind", Role.EXECUTIVE): set(),
    ("sentinel", Role.ADMIN): set(),
    ("sentinel", Role.IT_OPERATOR): set(),
    ("sentinel", Role.AUDITOR): {"evidence", "verify", "reject", "close"},
    ("sentinel", Role.EXECUTIVE): set(),
}
INVISIBLE = {("watchtower", role) for role in Role} | {("client-b", role) for role in Role}
ACTIONS = ["answer", "evidence", "verify", "reject", "close", "reopen"]


def prepare(session: Session, aw: AssessWorld, author: tuple[str, Role]) -> int:
    """An answered control (by `author`, with evidence), in an assessment under review."""
    world = aw.world
    actor = world.actor(*author)
    answer = answers.answer_control(
        session, actor, aw.assessment.id, "1.1", answers.AnswerInput(status="fully", maturity=3)
    )
    evidence.add_link(
        session,
        actor,
        answer.id,
        url="https://wiki.example.org/inventory",
        dates=evidence.EvidenceDates(date(2026, 1, 5)),
    )
    admin = world.actor("northwind", Role.ADMIN)
    workflow.change_state(session, admin, aw.assessment.id, "in_progress")
    workflow.change_state(session, admin, aw.assessment.id, "in_review")
    session.commit()
    return answer.id


def attempt(
    session: Session, aw: AssessWorld, who: tuple[str, Role], action: str, answer_id: int
) -> None:
    actor = aw.world.actor(*who)
    assessment_id = aw.assessment.id
    if action == "answer":
        answers.answer_control(
            session, actor, assessment_id, "1.1", answers.AnswerInput(status="largely", maturity=2)
        )
    elif action == "evidence":
        evidence.add_file(
            session,
            actor,
            answer_id,
            filename="scan.txt",
            stream=io.BytesIO(b"evidence text"),
            dates=evidence.EvidenceDates(date(2026, 1, 6)),
        )
    elif action == "verify":
        answers.verify_answer(session, actor, answer_id, "checked")
    elif action == "reject":
        answers.reject_answer(session, actor, answer_id, "not enough")
    elif action == "close":
        workflow.change_state(session, actor, assessment_id, "closed")
    elif action == "reopen":
        workflow.change_state(
            session, aw.world.actor("northwind", Role.ADMIN), assessment_id, "closed"
        )
        workflow.change_state(session, actor, assessment_id, "in_progress")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    "who", ACTORS, ids=lambda w: f"{w[0]}-{w[1].value}" if isinstance(w, tuple) else str(w)
)
def test_on_others_work(
    session: Session, aw: AssessWorld, who: tuple[str, Role], action: str
) -> None:
    answer_id = prepare(session, aw, ("client-a", Role.IT_OPERATOR))
    if who in INVISIBLE:
        with pytest.raises(NotFound):
            attempt(session, aw, who, action, answer_id)
    elif action in ALLOWED[who]:
        attempt(session, aw, who, action, answer_id)
    else:
        with pytest.raises(PermissionDenied):
            attempt(session, aw, who, action, answer_id)


@pytest.mark.parametrize("relation", ["answered", "implemented", "evidence"])
@pytest.mark.parametrize("verdict", ["verify", "reject"])
@pytest.mark.parametrize("auditor", [("client-a", Role.AUDITOR), ("sentinel", Role.AUDITOR)])
def test_nobody_judges_their_own_work(
    session: Session, aw: AssessWorld, relation: str, verdict: str, auditor: tuple[str, Role]
) -> None:
    world = aw.world
    operator = world.actor("client-a", Role.IT_OPERATOR)
    auditor_actor = world.actor(*auditor)
    own = auditor_actor if relation == "answered" else operator
    if relation == "answered":  # an auditor cannot answer by policy; make them a contributor
        answer = answers.answer_control(
            session, operator, aw.assessment.id, "1.1", answers.AnswerInput(status="fully")
        )
        answer.contributor_ids = [*answer.contributor_ids, auditor_actor.user_id or 0]
    else:
        implemented = world.user(*auditor).email if relation == "implemented" else None
        if implemented and auditor[0] == "sentinel":
            implemented = None  # a firm's auditor is no member of the client: use evidence instead
            relation = "evidence"
        answer = answers.answer_control(
            session,
            own,
            aw.assessment.id,
            "1.1",
            answers.AnswerInput(status="fully", implemented_by_email=implemented),
        )
    if relation == "evidence":
        evidence.add_link(
            session,
            auditor_actor,
            answer.id,
            url="https://evidence.example.org/x",
            dates=evidence.EvidenceDates(date(2026, 1, 5)),
        )
    session.commit()
    judge = answers.verify_answer if verdict == "verify" else answers.reject_answer
    with pytest.raises(PermissionDenied, match="separation of duties"):
        judge(session, auditor_actor, answer.id, "mine")


def test_verification_records_independence_and_snapshot(session: Session, aw: AssessWorld) -> None:
    answer_id = prepare(session, aw, ("client-a", Role.IT_OPERATOR))
    internal = answers.verify_answer(
        session, aw.world.actor("client-a", Role.AUDITOR), answer_id, "ok"
    )
    assert internal.independence == "internal"
    assert internal.snapshot["answer"]["status"] == "fully"
    assert internal.snapshot["evidence"][0]["url"] == "https://wiki.example.org/inventory"
    external = answers.reject_answer(
        session, aw.world.actor("sentinel", Role.AUDITOR), answer_id, "no proof"
    )
    assert external.independence == "external"
    session.commit()
    assert internal.invalidated_at is not None


def test_changes_put_a_verified_answer_back_to_claimed(session: Session, aw: AssessWorld) -> None:
    answer_id = prepare(session, aw, ("client-a", Role.IT_OPERATOR))
    operator = aw.world.actor("client-a", Role.IT_OPERATOR)
    auditor = aw.world.actor("sentinel", Role.AUDITOR)
    verdict = answers.verify_answer(session, auditor, answer_id, "ok")
    same = answers.answer_control(
        session, operator, aw.assessment.id, "1.1", answers.AnswerInput(status="fully", maturity=3)
    )
    assert same.state is AnswerState.VERIFIED  # nothing changed, nothing re-opened
    changed = answers.answer_control(
        session, operator, aw.assessment.id, "1.1", answers.AnswerInput(status="fully", maturity=4)
    )
    assert changed.state is AnswerState.CLAIMED
    assert verdict.invalidated_reason == "answer changed: maturity"
    answers.verify_answer(session, auditor, answer_id, "ok again")
    evidence.add_file(
        session,
        operator,
        answer_id,
        filename="export.csv",
        stream=io.BytesIO(b"a,b\n1,2\n"),
        dates=evidence.EvidenceDates(date(2026, 1, 7)),
    )
    assert changed.state is AnswerState.CLAIMED
    session.commit()


def test_closed_assessment_is_locked(session: Session, aw: AssessWorld) -> None:
    answer_id = prepare(session, aw, ("client-a", Role.IT_OPERATOR))
    workflow.change_state(
        session, aw.world.actor("northwind", Role.ADMIN), aw.assessment.id, "closed"
    )
    assert aw.assessment.state is AssessmentState.CLOSED
    from assay.errors import Conflict

    with pytest.raises(Conflict, match="closed"):
        answers.answer_control(
            session,
            aw.world.actor("client-a", Role.IT_OPERATOR),
            aw.assessment.id,
            "1.1",
            answers.AnswerInput(status="partially"),
        )
    with pytest.raises(Conflict, match="closed"):
        answers.verify_answer(session, aw.world.actor("sentinel", Role.AUDITOR), answer_id, "late")
