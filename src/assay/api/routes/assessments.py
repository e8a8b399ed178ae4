"""Assessments: the questionnaire, answers, independent verification, evidence, scores,
trend, and answers to and from spreadsheets.

Each route calls one service; the services decide who may do what (auth/policy.yaml). Uploads
(evidence files, spreadsheet imports) are `multipart/form-data` read as a stream with a hard
limit: the token is checked first, the body is then read into a temporary file (413 as soon as
it passes the limit, before anything is stored), and the service runs in one unit of work.
Downloads are always attachments, never rendered inline.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assay.api.assess_schemas import (
    AnswerOut,
    AnswerPut,
    AssessmentCreate,
    AssessmentDetailOut,
    AssessmentOut,
    AssessmentSummaryOut,
    CloneRequest,
    EvidenceLinkCreate,
    EvidenceOut,
    ImportReportOut,
    StateChange,
    VerdictIn,
    VerificationOut,
)
from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession, StreamingActor
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of, slice_list
from assay.api.params import (
    AnswerId,
    AssessmentId,
    ControlLabel,
    EvidenceId,
    OrgSlug,
    OtherAssessmentId,
)
from assay.assess import answers, compare, evidence, scoring, spreadsheet, workflow, worksheet
from assay.assess.answers import AnswerInput
from assay.assess.evidence import EvidenceDates
from assay.assess.workflow import NewAssessment
from assay.auth.actor import Actor
from assay.config import settings
from assay.db.engine import unit_of_work
from assay.errors import InvalidInput
from assay.transfer import Upload, attachment_headers, file_chunks, read_upload

router = APIRouter(tags=["assessments"], route_class=BoundedBodyRoute)

FILE_FIELD = "file"


def _multipart_body(description: str, fields: dict[str, Any], required: list[str]) -> Any:
    """OpenAPI for a multipart body read by the route itself (not parsed by FastAPI, so that it
    streams with a limit)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            FILE_FIELD: {"type": "string", "format": "binary"},
                            **fields,
                        },
                        "required": [FILE_FIELD, *required],
                    }
                }
            },
        }
    }


EVIDENCE_UPLOAD = _multipart_body(
    "The file (its media type is detected from the content) and its dates. "
    "Larger than the installation's evidence limit (ASSAY_MAX_EVIDENCE_MB, default 50): 413.",
    {
        "collected_on": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
        "expires_on": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
        "title": {"type": "string", "maxLength": 200},
    },
    ["collected_on"],
)
SPREADSHEET_UPLOAD = _multipart_body(
    "An XLSX workbook or a CSV file as exported by /export, edited. Every row is checked "
    "before anything is written; any problem refuses the whole file (422, every problem listed "
    "in `errors`, located by row).",
    {},
    [],
)
ATTACHMENT = {
    "description": "The file, as an attachment.",
    "content": {"application/octet-stream": {}},
}


# --- assessments ---------------------------------------------------------------------------


@router.get("/orgs/{slug}/assessments", responses=problem_responses(403, 404))
def list_assessments(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, page: PageQuery
) -> Page[AssessmentSummaryOut]:
    """The organization's assessments, newest first, each with its claimed and verified totals."""
    rows, total = worksheet.list_with_totals(
        session, actor, slug, limit=page.limit, offset=page.offset
    )
    items = (AssessmentSummaryOut.of_summary(slug, row) for row in rows)
    return page_of(AssessmentSummaryOut, items, total, page)


@router.post("/orgs/{slug}/assessments", status_code=201, responses=problem_responses(403, 404))
def create_assessment(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, body: AssessmentCreate
) -> AssessmentOut:
    """Create an assessment of a client organization against a framework (in draft)."""
    created = workflow.create_assessment(
        session,
        actor,
        NewAssessment(
            org_slug=slug,
            framework=body.framework,
            name=body.name,
            scope=body.scope,
            owner_email=body.owner,
            due_on=body.due_on,
            target_ig=body.target_ig,
            baseline=body.baseline,
            target_maturity=body.target_maturity,
            targets=body.targets,
        ),
    )
    return AssessmentOut.of(session, created)


@router.get("/assessments/{assessment_id}", responses=problem_responses(404))
def get_assessment(
    session: DbSession,
    actor: CurrentActor,
    assessment_id: AssessmentId,
    page: PageQuery,
    group: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Only controls under this top-level "
            "control (a CSF function such as `GV`, a CIS control such as `1`).",
        ),
    ] = None,
    state: Annotated[
        Literal["claimed", "verified", "rejected"] | None,
        Query(description="Only answers in this verification state."),
    ] = None,
) -> AssessmentDetailOut:
    """The assessment with its progress per group and a page of its controls, each with its
    answer (if any), the verdict in force, why it was re-opened, and its evidence."""
    sheet = worksheet.worksheet(
        session,
        actor,
        assessment_id,
        group=group,
        states=[state] if state else None,
        limit=page.limit,
        offset=page.offset,
    )
    return AssessmentDetailOut.of(sheet, page.limit, page.offset)


@router.post("/assessments/{assessment_id}/state", responses=problem_responses(403, 404, 409))
def change_state(
    session: DbSession, actor: CurrentActor, assessment_id: AssessmentId, body: StateChange
) -> AssessmentOut:
    """Start, submit for review, send back, close or reopen the assessment."""
    changed = workflow.change_state(session, actor, assessment_id, body.state.value)
    return AssessmentOut.of(session, changed)


@router.post(
    "/assessments/{assessment_id}/clone", status_code=201, responses=problem_responses(403, 404)
)
def clone_assessment(
    session: DbSession, actor: CurrentActor, assessment_id: AssessmentId, body: CloneRequest
) -> AssessmentOut:
    """Start the next cycle: same scope and targets, answers carried over as claimed."""
    return AssessmentOut.of(
        session, workflow.clone_assessment(session, actor, assessment_id, body.name)
    )


# --- answers and verdicts ------------------------------------------------------------------


@router.put(
    "/assessments/{assessment_id}/answers/{control}", responses=problem_responses(403, 404, 409)
)
def answer_control(
    session: DbSession,
    actor: CurrentActor,
    assessment_id: AssessmentId,
    control: ControlLabel,
    body: AnswerPut,
) -> AnswerOut:
    """Answer one control (its label, URL-encoded: `1.1`, `GV.OC-01`, `AC-2%281%29`)."""
    answer = answers.answer_control(
        session,
        actor,
        assessment_id,
        control,
        AnswerInput(
            status=body.status.value,
            maturity=body.maturity,
            justification=body.justification,
            notes=body.notes,
            owner_email=body.owner,
            implemented_by_email=body.implemented_by,
        ),
    )
    return AnswerOut.of(answer, control.strip())


@router.post("/answers/{answer_id}/verify", responses=problem_responses(403, 404, 409))
def verify_answer(
    session: DbSession, actor: CurrentActor, answer_id: AnswerId, body: VerdictIn
) -> VerificationOut:
    """Verify an answer (auditors who did not answer, implement or supply evidence for it)."""
    return VerificationOut.of(answers.verify_answer(session, actor, answer_id, body.comment))


@router.post("/answers/{answer_id}/reject", responses=problem_responses(403, 404, 409))
def reject_answer(
    session: DbSession, actor: CurrentActor, answer_id: AnswerId, body: VerdictIn
) -> VerificationOut:
    """Reject an answer, saying in the comment what is missing."""
    return VerificationOut.of(answers.reject_answer(session, actor, answer_id, body.comment))


# --- evidence ------------------------------------------------------------------------------


@router.get("/answers/{answer_id}/evidence", responses=problem_responses(404))
def list_evidence(
    session: DbSession, actor: CurrentActor, answer_id: AnswerId, page: PageQuery
) -> Page[EvidenceOut]:
    """Evidence attached to an answer, oldest first."""
    rows, total = slice_list(evidence.list_for_answer(session, actor, answer_id), page)
    return page_of(EvidenceOut, map(EvidenceOut.of, rows), total, page)


def _date(upload: Upload, name: str, *, required: bool) -> date | None:
    value = upload.optional(name)
    if value is None:
        if required:
            raise InvalidInput(f"{name} is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)") from None


def _add_file(actor: Actor, answer_id: int, upload: Upload) -> EvidenceOut:
    if upload.file is None:
        raise InvalidInput(f"send the file in the '{FILE_FIELD}' field")
    collected_on = _date(upload, "collected_on", required=True)
    assert collected_on is not None
    dates = EvidenceDates(collected_on, _date(upload, "expires_on", required=False))
    with unit_of_work() as session:
        added = evidence.add_file(
            session,
            actor,
            answer_id,
            filename=upload.filename or "",
            stream=upload.file,
            dates=dates,
            title=upload.optional("title"),
        )
        return EvidenceOut.of(added)


@router.post(
    "/answers/{answer_id}/evidence",
    status_code=201,
    openapi_extra=EVIDENCE_UPLOAD,
    responses=problem_responses(403, 404, 409, 413, 415),
)
async def upload_evidence(
    request: Request, actor: StreamingActor, answer_id: AnswerId
) -> EvidenceOut:
    """Attach a file to an answer, stored by its SHA-256 in the data directory."""
    limits = settings()
    with await read_upload(
        request,
        file_field=FILE_FIELD,
        max_file_bytes=limits.max_evidence_bytes,
        max_field_chars=limits.max_form_field_chars,
    ) as upload:
        return await run_in_threadpool(_add_file, actor, answer_id, upload)


@router.post(
    "/answers/{answer_id}/evidence/links",
    status_code=201,
    responses=problem_responses(403, 404, 409),
)
def add_evidence_link(
    session: DbSession, actor: CurrentActor, answer_id: AnswerId, body: EvidenceLinkCreate
) -> EvidenceOut:
    """Attach a link (http or https) to an answer."""
    added = evidence.add_link(
        session,
        actor,
        answer_id,
        url=body.url,
        dates=EvidenceDates(body.collected_on, body.expires_on),
        title=body.title,
    )
    return EvidenceOut.of(added)


@router.delete(
    "/answers/{answer_id}/evidence/{evidence_id}",
    status_code=204,
    responses=problem_responses(403, 404, 409),
)
def detach_evidence(
    session: DbSession, actor: CurrentActor, answer_id: AnswerId, evidence_id: EvidenceId
) -> Response:
    """Detach evidence from an answer (a verified answer goes back to claimed)."""
    evidence.detach(session, actor, answer_id, evidence_id)
    return Response(status_code=204)


@router.get(
    "/evidence/{evidence_id}/download",
    response_class=StreamingResponse,
    responses={200: ATTACHMENT, **problem_responses(404)},
)
def download_evidence(
    session: DbSession, actor: CurrentActor, evidence_id: EvidenceId
) -> StreamingResponse:
    """An evidence file, always as an attachment under its original name."""
    found, handle = evidence.open_file(session, actor, evidence_id)
    name = found.original_name or f"evidence-{found.id}"
    return StreamingResponse(file_chunks(handle), headers=attachment_headers(name, found.size))


# --- scores, trend, spreadsheets -------------------------------------------------------------


@router.get(
    "/assessments/{assessment_id}/score",
    responses={
        200: {"description": "Every figure of docs/scoring.md (claimed and verified)."},
        **problem_responses(404),
    },
)
def score_assessment(
    session: DbSession, actor: CurrentActor, assessment_id: AssessmentId
) -> dict[str, Any]:
    """Scores per control, group, implementation group and framework, claimed and verified,
    with coverage, assurance gap, gaps to target, blind spots and derived CSF coverage."""
    return scoring.score_assessment(session, actor, assessment_id).to_dict()


@router.get(
    "/assessments/{assessment_id}/compare/{other_id}",
    responses={
        200: {"description": "Control by control: improved, regressed, changed state."},
        **problem_responses(404, 422),
    },
)
def compare_assessments(
    session: DbSession,
    actor: CurrentActor,
    assessment_id: AssessmentId,
    other_id: OtherAssessmentId,
) -> dict[str, Any]:
    """Trend between two assessments of one organization and framework (this one first)."""
    return compare.compare_assessments(session, actor, assessment_id, other_id).to_dict()


@router.get(
    "/assessments/{assessment_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "The answers, as an attachment.",
            "content": {media: {} for media in spreadsheet.MEDIA_TYPES.values()},
        },
        **problem_responses(404),
    },
)
def export_answers(
    session: DbSession,
    actor: CurrentActor,
    assessment_id: AssessmentId,
    format: Annotated[
        Literal["xlsx", "csv"], Query(description="xlsx (default) or csv (UTF-8 with a BOM).")
    ] = "xlsx",
) -> Response:
    """The answers as a spreadsheet to fill in and import back."""
    data = spreadsheet.export_answers(session, actor, assessment_id, format)
    headers = attachment_headers(
        f"assessment-{assessment_id}-answers.{format}",
        len(data),
        media_type=spreadsheet.MEDIA_TYPES[format],
    )
    return Response(data, headers=headers)


def _import(actor: Actor, assessment_id: int, upload: Upload) -> ImportReportOut:
    if upload.file is None:
        raise InvalidInput(f"send the spreadsheet in the '{FILE_FIELD}' field")
    with unit_of_work() as session:
        report = spreadsheet.import_answers(
            session, actor, assessment_id, upload.file.read(), upload.filename or "upload"
        )
        return ImportReportOut.of(report)


@router.post(
    "/assessments/{assessment_id}/import",
    openapi_extra=SPREADSHEET_UPLOAD,
    responses=problem_responses(403, 404, 409, 413, 415),
)
async def import_answers(
    request: Request, actor: StreamingActor, assessment_id: AssessmentId
) -> ImportReportOut:
    """Apply an answers spreadsheet: every row, or none."""
    with await read_upload(
        request,
        file_field=FILE_FIELD,
        max_file_bytes=spreadsheet.MAX_INPUT_BYTES,
        max_field_chars=settings().max_form_field_chars,
    ) as upload:
        return await run_in_threadpool(_import, actor, assessment_id, upload)
