"""Evidence: uploaded files (content-addressed), links, and automated results, on answers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assay.assess.access import load_answer, load_assessment, require_open
from assay.assess.answers import reopen
from assay.assess.models import Answer, AnswerEvidence, Evidence, EvidenceKind
from assay.assess.storage import EvidenceStore, detect_media_type
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.config import settings
from assay.errors import InvalidInput, NotFound
from assay.tenancy.validation import clean_name

MAX_FILENAME_CHARS = 255
MAX_URL_CHARS = 2000


def store() -> EvidenceStore:
    return EvidenceStore(settings().data_dir / "evidence")


def clean_filename(name: str) -> str:
    """The original name, kept for display and download; refused if it could name a path."""
    value = unicodedata.normalize("NFC", name.strip())
    if not value:
        raise InvalidInput("the file needs a name")
    if "/" in value or "\\" in value or value in (".", ".."):
        raise InvalidInput(f"invalid file name '{value[:80]}': no path separators allowed")
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise InvalidInput("invalid file name: control characters are not allowed")
    if len(value) > MAX_FILENAME_CHARS:
        raise InvalidInput(f"file name must have at most {MAX_FILENAME_CHARS} characters")
    return value


def clean_url(url: str) -> str:
    value = url.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > MAX_URL_CHARS:
        raise InvalidInput("a link must be an http or https URL of at most 2000 characters")
    if re.search(r"\s", value):
        raise InvalidInput("a link must not contain spaces")
    return value


@dataclass(frozen=True)
class EvidenceDates:
    collected_on: date
    expires_on: date | None = None

    def check(self) -> None:
        if self.collected_on > date.today():
            raise InvalidInput("the collection date is in the future")
        if self.expires_on is not None and self.expires_on <= self.collected_on:
            raise InvalidInput("evidence must expire after it was collected")


def _attach(
    session: Session, actor: Actor, answer: Answer, evidence: Evidence, action: str
) -> Evidence:
    session.add(
        AnswerEvidence(
            answer_id=answer.id,
            evidence_id=evidence.id,
            organization_id=answer.organization_id,
            linked_by_id=actor.user_id,
        )
    )
    reopen(session, actor, answer, f"evidence added: {evidence.title}")
    session.flush()
    record(
        session,
        actor,
        action,
        organization_id=answer.organization_id,
        object_type="evidence",
        object_id=evidence.id,
        detail={
            "answer": answer.id,
            "kind": str(evidence.kind),
            "title": evidence.title,
            "sha256": evidence.sha256,
            "url": evidence.url,
            "collected_on": evidence.collected_on.isoformat(),
        },
    )
    return evidence


def _writable_answer(session: Session, actor: Actor, answer_id: int) -> Answer:
    answer, assessment = load_answer(session, actor, answer_id)
    load_assessment(session, actor, assessment.id, "evidence.attach")
    require_open(assessment)
    return answer


def add_file(
    session: Session,
    actor: Actor,
    answer_id: int,
    *,
    filename: str,
    stream: BinaryIO,
    dates: EvidenceDates,
    title: str | None = None,
) -> Evidence:
    """Upload a file as evidence for an answer; its media type is read from its content."""
    answer = _writable_answer(session, actor, answer_id)
    name = clean_filename(filename)
    dates.check()
    stored = store().put(stream, settings().max_evidence_bytes)
    evidence = Evidence(
        organization_id=answer.organization_id,
        kind=EvidenceKind.FILE,
        title=clean_name(title or name, "evidence title"),
        sha256=stored.sha256,
        size=stored.size,
        original_name=name,
        media_type=detect_media_type(stored.head),
        collected_on=dates.collected_on,
        expires_on=dates.expires_on,
        uploaded_by_id=actor.user_id,
    )
    session.add(evidence)
    session.flush()
    return _attach(session, actor, answer, evidence, "evidence.upload")


def add_link(
    session: Session,
    actor: Actor,
    answer_id: int,
    *,
    url: str,
    dates: EvidenceDates,
    title: str | None = None,
) -> Evidence:
    answer = _writable_answer(session, actor, answer_id)
    url = clean_url(url)
    dates.check()
    evidence = Evidence(
        organization_id=answer.organization_id,
        kind=EvidenceKind.LINK,
        title=clean_name(title or url, "evidence title")[:200],
        url=url,
        collected_on=dates.collected_on,
        expires_on=dates.expires_on,
        uploaded_by_id=actor.user_id,
    )
    session.add(evidence)
    session.flush()
    return _attach(session, actor, answer, evidence, "evidence.link")


def detach(session: Session, actor: Actor, answer_id: int, evidence_id: int) -> None:
    answer = _writable_answer(session, actor, answer_id)
    removed = session.execute(
        delete(AnswerEvidence).where(
            AnswerEvidence.answer_id == answer.id, AnswerEvidence.evidence_id == evidence_id
        )
    )
    if removed.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"evidence {evidence_id} is not attached to answer {answer.id}")
    reopen(session, actor, answer, f"evidence {evidence_id} removed")
    record(
        session,
        actor,
        "evidence.detach",
        organization_id=answer.organization_id,
        object_type="evidence",
        object_id=evidence_id,
        detail={"answer": answer.id},
    )


def list_for_answer(session: Session, actor: Actor, answer_id: int) -> list[Evidence]:
    answer, assessment = load_answer(session, actor, answer_id)
    load_assessment(session, actor, assessment.id, "evidence.view")
    query = (
        select(Evidence)
        .join(AnswerEvidence, AnswerEvidence.evidence_id == Evidence.id)
        .where(AnswerEvidence.answer_id == answer.id)
        .order_by(Evidence.id)
    )
    return list(session.scalars(query))


def open_file(session: Session, actor: Actor, evidence_id: int) -> tuple[Evidence, BinaryIO]:
    """The evidence row and its content, for a download (callers always send it as attachment)."""
    from assay.tenancy.access import authorize
    from assay.tenancy.models import Organization

    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.kind is not EvidenceKind.FILE or evidence.sha256 is None:
        raise NotFound(f"evidence file {evidence_id} not found")
    org = session.get(Organization, evidence.organization_id)
    assert org is not None
    try:
        authorize(session, actor, "evidence.view", org)
    except NotFound:
        raise NotFound(f"evidence file {evidence_id} not found") from None
    return evidence, store().open(evidence.sha256)


def is_expired(evidence: Evidence, today: date | None = None) -> bool:
    return evidence.expires_on is not None and evidence.expires_on < (today or date.today())
