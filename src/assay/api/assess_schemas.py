"""Request and response bodies of the assessment API: assessments, answers, verdicts, evidence
and spreadsheet imports. Like `schemas.py`, every request model rejects unknown fields, bounds
every field and documents one example (the tenant-isolation test sends it)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from assay.api.schemas import MAX_SLUG_CHARS, _request_config
from assay.assess.answers import MAX_TEXT_CHARS
from assay.assess.evidence import MAX_URL_CHARS, is_expired
from assay.assess.models import (
    Answer,
    AnswerState,
    Assessment,
    AssessmentState,
    Evidence,
    EvidenceKind,
    Independence,
    Status,
    Verification,
)
from assay.assess.scoring import Totals
from assay.assess.spreadsheet import ImportReport
from assay.assess.workflow import MAX_SCOPE_CHARS
from assay.assess.worksheet import (
    AnswerView,
    AssessmentSummary,
    EvidenceItem,
    GroupProgress,
    Item,
    Worksheet,
)
from assay.catalog.models import Framework
from assay.tenancy.models import Organization
from assay.tenancy.validation import MAX_NAME_CHARS

MAX_EMAIL_CHARS = 254
MAX_FRAMEWORK_KEY_CHARS = 63
MAX_LABEL_CHARS = 64
MAX_TARGETS = 2000
MAX_TITLE_CHARS = 200

# --- requests ------------------------------------------------------------------------------


class AssessmentCreate(BaseModel):
    """A new assessment of the organization against a framework (administrators of the client
    or of its MSP). CIS: give `target_ig`; CSF: a target profile with `target_maturity` for
    every subcategory and `targets` for exceptions."""

    model_config = _request_config(
        {"framework": "cis-controls-v8.1", "name": "2026 CIS review", "target_ig": 1}
    )

    framework: str = Field(min_length=1, max_length=MAX_FRAMEWORK_KEY_CHARS)
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    scope: str = Field(default="", max_length=MAX_SCOPE_CHARS)
    owner: str | None = Field(
        default=None, min_length=3, max_length=MAX_EMAIL_CHARS, description="The owner's email."
    )
    due_on: date | None = None
    target_ig: int | None = Field(default=None, ge=1, le=3)
    baseline: str | None = Field(default=None, min_length=1, max_length=MAX_SLUG_CHARS)
    target_maturity: int | None = Field(default=None, ge=0, le=5)
    targets: dict[str, int] | None = Field(
        default=None,
        max_length=MAX_TARGETS,
        description="Target maturity (0-5) per control label, overriding `target_maturity`.",
    )


class StateChange(BaseModel):
    """Move the assessment: draft -> in_progress -> in_review -> closed, in_review ->
    in_progress, closed -> in_progress (reopen). The policy says who may make each move."""

    model_config = _request_config({"state": "in_progress"})

    state: AssessmentState


class CloneRequest(BaseModel):
    """Start the next cycle: the answers are carried over as claimed (to verify again)."""

    model_config = _request_config({"name": "2027 CIS review"})

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)


class AnswerPut(BaseModel):
    """The answer for one control. `not_applicable` needs a justification. Changing a verified
    answer puts it back to claimed."""

    model_config = _request_config(
        {"status": "largely", "maturity": 3, "notes": "Inventory kept in the RMM tool."}
    )

    status: Status
    maturity: int | None = Field(default=None, ge=0, le=5)
    justification: str = Field(default="", max_length=MAX_TEXT_CHARS)
    notes: str = Field(default="", max_length=MAX_TEXT_CHARS)
    owner: str | None = Field(default=None, min_length=3, max_length=MAX_EMAIL_CHARS)
    implemented_by: str | None = Field(default=None, min_length=3, max_length=MAX_EMAIL_CHARS)


class VerdictIn(BaseModel):
    """An auditor's verdict; a rejection needs a comment saying what is missing."""

    model_config = _request_config({"comment": "Checked the asset inventory export."})

    comment: str = Field(default="", max_length=MAX_TEXT_CHARS)


class EvidenceLinkCreate(BaseModel):
    """A link as evidence: a document, a ticket, a dashboard (http or https)."""

    model_config = _request_config(
        {
            "url": "https://wiki.example.org/asset-inventory",
            "title": "Asset inventory",
            "collected_on": "2026-01-05",
        }
    )

    url: str = Field(min_length=1, max_length=MAX_URL_CHARS)
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    collected_on: date = Field(description="When the evidence was collected (not uploaded).")
    expires_on: date | None = Field(default=None, description="When it stops being valid.")


# --- responses -----------------------------------------------------------------------------


class TotalsOut(BaseModel):
    """Framework totals (docs/scoring.md): percentages 0-100, the assurance gap in points."""

    claimed: float | None
    verified: float | None
    coverage: float | None
    assurance_gap: float | None
    assessed: int
    answered: int
    verified_count: int
    not_applicable: int

    @classmethod
    def of(cls, totals: Totals) -> TotalsOut:
        return cls(
            claimed=totals.claimed,
            verified=totals.verified,
            coverage=totals.coverage,
            assurance_gap=totals.assurance_gap,
            assessed=totals.assessed,
            answered=totals.answered,
            verified_count=totals.verified_count,
            not_applicable=totals.not_applicable,
        )


class AssessmentOut(BaseModel):
    id: int
    organization: str = Field(description="Slug of the assessed organization.")
    framework: str = Field(description="Key of the framework.")
    name: str
    scope: str
    state: AssessmentState
    target_ig: int | None
    owner_id: int | None
    due_on: date | None
    previous_id: int | None = Field(description="The assessment this one was cloned from.")
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, session: Session, assessment: Assessment) -> AssessmentOut:
        org = session.get(Organization, assessment.organization_id)
        framework = session.get(Framework, assessment.framework_id)
        assert org is not None and framework is not None
        return cls.build(assessment, org.slug, framework.key)

    @classmethod
    def build(cls, assessment: Assessment, org_slug: str, framework_key: str) -> AssessmentOut:
        return cls(
            id=assessment.id,
            organization=org_slug,
            framework=framework_key,
            name=assessment.name,
            scope=assessment.scope,
            state=assessment.state,
            target_ig=assessment.target_ig,
            owner_id=assessment.owner_id,
            due_on=assessment.due_on,
            previous_id=assessment.previous_id,
            created_at=assessment.created_at,
            updated_at=assessment.updated_at,
            closed_at=assessment.closed_at,
        )


class AssessmentSummaryOut(AssessmentOut):
    totals: TotalsOut

    @classmethod
    def of_summary(cls, org_slug: str, summary: AssessmentSummary) -> AssessmentSummaryOut:
        base = AssessmentOut.build(summary.assessment, org_slug, summary.framework)
        return cls(**base.model_dump(), totals=TotalsOut.of(summary.totals))


class AnswerOut(BaseModel):
    """An answer as stored (people by user id)."""

    id: int
    assessment_id: int
    control: str
    status: Status
    maturity: int | None
    justification: str
    notes: str
    owner_id: int | None
    implemented_by_id: int | None
    answered_by_id: int | None
    state: AnswerState
    state_changed_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, answer: Answer, control: str) -> AnswerOut:
        return cls(
            id=answer.id,
            assessment_id=answer.assessment_id,
            control=control,
            status=answer.status,
            maturity=answer.maturity,
            justification=answer.justification,
            notes=answer.notes,
            owner_id=answer.owner_id,
            implemented_by_id=answer.implemented_by_id,
            answered_by_id=answer.answered_by_id,
            state=answer.state,
            state_changed_at=answer.state_changed_at,
            updated_at=answer.updated_at,
        )


class VerdictOut(BaseModel):
    verdict: AnswerState
    comment: str
    independence: Independence
    verifier: str | None = Field(description="The auditor's email.")
    at: datetime


class AnswerDetailOut(BaseModel):
    """An answer with its people (by email), the verdict in force, and why it was re-opened
    when a verdict stopped holding."""

    id: int
    status: Status
    maturity: int | None
    justification: str
    notes: str
    owner: str | None
    implemented_by: str | None
    answered_by: str | None
    state: AnswerState
    state_changed_at: datetime
    updated_at: datetime
    verdict: VerdictOut | None
    reopened: str | None

    @classmethod
    def of(cls, view: AnswerView) -> AnswerDetailOut:
        verdict = view.verdict
        return cls(
            id=view.id,
            status=Status(view.status),
            maturity=view.maturity,
            justification=view.justification,
            notes=view.notes,
            owner=view.owner,
            implemented_by=view.implemented_by,
            answered_by=view.answered_by,
            state=AnswerState(view.state),
            state_changed_at=view.state_changed_at,
            updated_at=view.updated_at,
            verdict=VerdictOut(
                verdict=AnswerState(verdict.verdict),
                comment=verdict.comment,
                independence=Independence(verdict.independence),
                verifier=verdict.verifier,
                at=verdict.at,
            )
            if verdict is not None
            else None,
            reopened=view.reopened,
        )


class EvidenceOut(BaseModel):
    id: int
    kind: EvidenceKind
    title: str
    original_name: str | None
    size: int | None
    media_type: str | None = Field(description="Detected from the content, never the name.")
    url: str | None
    collected_on: date
    expires_on: date | None
    expired: bool
    uploaded_at: datetime
    download: str | None = Field(description="Where to download a file (always an attachment).")

    @classmethod
    def of(cls, evidence: Evidence) -> EvidenceOut:
        return cls(
            id=evidence.id,
            kind=evidence.kind,
            title=evidence.title,
            original_name=evidence.original_name,
            size=evidence.size,
            media_type=evidence.media_type,
            url=evidence.url,
            collected_on=evidence.collected_on,
            expires_on=evidence.expires_on,
            expired=is_expired(evidence),
            uploaded_at=evidence.uploaded_at,
            download=_download(evidence.id, str(evidence.kind)),
        )

    @classmethod
    def of_item(cls, item: EvidenceItem) -> EvidenceOut:
        return cls(
            id=item.id,
            kind=EvidenceKind(item.kind),
            title=item.title,
            original_name=item.original_name,
            size=item.size,
            media_type=item.media_type,
            url=item.url,
            collected_on=item.collected_on,
            expires_on=item.expires_on,
            expired=item.expired,
            uploaded_at=item.uploaded_at,
            download=_download(item.id, item.kind),
        )


def _download(evidence_id: int, kind: str) -> str | None:
    return f"/api/v1/evidence/{evidence_id}/download" if kind == EvidenceKind.FILE else None


class VerificationOut(BaseModel):
    id: int
    answer_id: int
    verdict: AnswerState
    comment: str
    independence: Independence = Field(
        description="internal: an auditor of the organization; external: a granted firm."
    )
    verifier_id: int
    snapshot_digest: str = Field(description="SHA-256 of the answer and evidence verified.")
    created_at: datetime

    @classmethod
    def of(cls, verification: Verification) -> VerificationOut:
        return cls(
            id=verification.id,
            answer_id=verification.answer_id,
            verdict=verification.verdict,
            comment=verification.comment,
            independence=verification.independence,
            verifier_id=verification.verifier_id,
            snapshot_digest=verification.snapshot_digest,
            created_at=verification.created_at,
        )


class ControlItemOut(BaseModel):
    control: str
    title: str
    group: str = Field(description="The top-level control it belongs to (function, control).")
    section: str | None = Field(description="Its parent, when that is not the group.")
    target: int | None = Field(description="Target maturity, when the assessment sets one.")
    answer: AnswerDetailOut | None
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, item: Item) -> ControlItemOut:
        return cls(
            control=item.label,
            title=item.title,
            group=item.group,
            section=item.section[0] if item.section else None,
            target=item.target,
            answer=AnswerDetailOut.of(item.answer) if item.answer else None,
            evidence=[EvidenceOut.of_item(e) for e in item.evidence],
        )


class GroupOut(BaseModel):
    label: str
    title: str
    assessed: int
    answered: int
    verified: int

    @classmethod
    def of(cls, group: GroupProgress) -> GroupOut:
        return cls(
            label=group.label,
            title=group.title,
            assessed=group.assessed,
            answered=group.answered,
            verified=group.verified,
        )


class ControlPage(BaseModel):
    items: list[ControlItemOut]
    total: int
    limit: int
    offset: int


class AssessmentDetailOut(BaseModel):
    """The assessment, its progress per top-level group and one page of its controls."""

    assessment: AssessmentOut
    baseline: str | None
    owner: str | None = Field(description="The owner's email.")
    assessed: int
    answered: int
    verified: int
    groups: list[GroupOut]
    controls: ControlPage

    @classmethod
    def of(cls, sheet: Worksheet, limit: int, offset: int) -> AssessmentDetailOut:
        return cls(
            assessment=AssessmentOut.build(
                sheet.assessment, sheet.organization.slug, sheet.framework.key
            ),
            baseline=sheet.baseline,
            owner=sheet.owner,
            assessed=sheet.assessed,
            answered=sheet.answered,
            verified=sheet.verified,
            groups=[GroupOut.of(g) for g in sheet.groups],
            controls=ControlPage(
                items=[ControlItemOut.of(i) for i in sheet.items],
                total=sheet.total,
                limit=limit,
                offset=offset,
            ),
        )


class ImportReportOut(BaseModel):
    """What an import did; `controls` are the labels of the answers created or changed."""

    file: str
    format: str
    rows: int
    created: int
    changed: int
    unchanged: int
    skipped: int
    controls: list[str]

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        return cls(
            file=report.file,
            format=report.format,
            rows=report.rows,
            created=report.created,
            changed=report.changed,
            unchanged=report.unchanged,
            skipped=report.skipped,
            controls=list(report.controls),
        )
