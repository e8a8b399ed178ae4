"""Assessment pages: an organization's assessments, the questionnaire, the auditor's review
queue and the dashboard with its charts; forms to answer, upload evidence, verify or reject,
and move the assessment along.

An assessment page acts as the visitor's membership that reaches the assessment's organization
(the same one the organization switcher would use there); the service called next decides what
that actor may do, and an assessment out of reach is simply not found. What a page *offers*
(buttons, forms) is asked of the same policy (web/permissions.py), for display only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from assay.assess import answers, evidence, scoring, spreadsheet, workflow, worksheet
from assay.assess.answers import AnswerInput
from assay.assess.evidence import EvidenceDates
from assay.assess.models import AssessmentState, Status
from assay.assess.workflow import TRANSITIONS, NewAssessment
from assay.auth.actor import Actor
from assay.catalog import service as catalog
from assay.config import settings
from assay.db.engine import unit_of_work
from assay.errors import AssayError, InvalidInput, NotFound
from assay.report import charts
from assay.tenancy import service as tenancy
from assay.tenancy.models import Organization, OrgKind
from assay.transfer import Upload, attachment_headers, file_chunks
from assay.web.forms import Form, signed_in_form, signed_in_upload
from assay.web.layout import chrome_for, org_tabs
from assay.web.paging import PAGE_SIZE, Pager
from assay.web.params import PageNumber, RowId
from assay.web.permissions import permitted
from assay.web.session import Visitor, require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)

SECTION = "assessments"
# An MSP overview scores only the clients it shows; its chart shows the same page.
CLIENTS_PER_PAGE = 25
FILE_FIELD = "file"
MAX_GROUP_CHARS = 64
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

NOTICES = {
    "created": "The assessment has been created. Start it when the questionnaire is ready.",
    "answered": "The answer has been saved.",
    "uploaded": "The evidence has been attached.",
    "removed": "The evidence has been removed from the answer.",
    "verified": "The answer has been verified.",
    "rejected": "The answer has been rejected; the comment tells what is missing.",
    "cloned": "The next cycle has been created from the previous assessment.",
    "in_progress": "The assessment is in progress.",
    "in_review": "The assessment has been submitted for review.",
    "closed": "The assessment has been closed; reopen it to change anything.",
}
STATUS_LABELS = {
    Status.NOT_IMPLEMENTED: "Not implemented",
    Status.PARTIALLY: "Partially implemented",
    Status.LARGELY: "Largely implemented",
    Status.FULLY: "Fully implemented",
    Status.NOT_APPLICABLE: "Not applicable",
}
STATE_LABELS = {
    AssessmentState.DRAFT: "Draft",
    AssessmentState.IN_PROGRESS: "In progress",
    AssessmentState.IN_REVIEW: "In review",
    AssessmentState.CLOSED: "Closed",
}
# (from, to) -> the button that makes the move
MOVES = {
    (AssessmentState.DRAFT, AssessmentState.IN_PROGRESS): "Start",
    (AssessmentState.IN_PROGRESS, AssessmentState.IN_REVIEW): "Submit for review",
    (AssessmentState.IN_REVIEW, AssessmentState.IN_PROGRESS): "Send back",
    (AssessmentState.IN_REVIEW, AssessmentState.CLOSED): "Close",
    (AssessmentState.CLOSED, AssessmentState.IN_PROGRESS): "Reopen",
}
ChartName = Literal["radar", "functions", "derived", "groups", "heatmap"]
GroupQuery = Annotated[str | None, Query(min_length=1, max_length=MAX_GROUP_CHARS)]


@dataclass(frozen=True)
class Move:
    state: str
    label: str


# --- who acts --------------------------------------------------------------------------------


def assessment_actor(db: Session, visitor: Visitor, assessment_id: int) -> Actor:
    org_id = worksheet.organization_of(db, assessment_id=assessment_id)
    return visitor.actor_owning(db, org_id, f"assessment {assessment_id} not found")


def assessment_path(assessment_id: int, page: str = "", **query: str | None) -> str:
    path = f"/assessments/{assessment_id}" + (f"/{page}" if page else "")
    kept = {key: value for key, value in query.items() if value}
    return path + ("?" + urlencode(kept) if kept else "")


def _visitor_actor(request: Request, assessment_id: int) -> tuple[Visitor, Actor]:
    """Sign-in and actor checks of an upload, in a short transaction of their own (the
    database is not held while the file streams in)."""
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        return visitor, assessment_actor(db, visitor, assessment_id)


# --- an organization's assessments -----------------------------------------------------------


def assessments_page(
    request: Request,
    slug: str,
    *,
    page: int = 1,
    status: int = 200,
    error: AssayError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        org = tenancy.get_org(db, actor, slug)
        rows: list[worksheet.AssessmentSummary] = []
        total = 0
        overview: list[worksheet.ClientOverview] = []
        size = PAGE_SIZE
        if org.kind is OrgKind.CLIENT:
            rows, total = worksheet.list_with_totals(
                db, actor, org.slug, limit=PAGE_SIZE, offset=Pager.offset_of(page)
            )
        else:
            size = CLIENTS_PER_PAGE
            overview, total = worksheet.clients_overview(
                db, actor, org.slug, limit=size, offset=Pager.offset_of(page, size)
            )
        can_create = org.kind is OrgKind.CLIENT and permitted(db, actor, "assessment.manage", org)
        context = {
            "chrome": chrome_for(db, visitor, org.slug, section=SECTION),
            "tabs": org_tabs(db, actor, org, "assessments"),
            "org": org,
            "rows": rows,
            "overview": overview,
            "has_chart": any(client.assessments for client in overview),
            "pager": Pager(page, size, total),
            "can_create": can_create,
            "frameworks": catalog.list_frameworks(db) if can_create else [],
            "state_labels": STATE_LABELS,
            "error": error,
            "values": values or {},
        }
    return render(request, "assessment_list.html", context, status=status)


@router.get("/orgs/{slug}/assessments")
def show_assessments(request: Request, slug: str, page: PageNumber = 1) -> Response:
    return assessments_page(request, slug, page=page)


def _optional_int(form: Form, name: str, label: str) -> int | None:
    value = form.optional(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 3:
        raise InvalidInput(f"{label} must be a whole number")
    return int(value)


def _optional_date(value: str | None, label: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{label} must be a date (YYYY-MM-DD)") from None


@router.post("/orgs/{slug}/assessments")
def create_assessment(
    request: Request, slug: str, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            created = workflow.create_assessment(
                db,
                actor,
                NewAssessment(
                    org_slug=slug,
                    framework=form.get("framework").strip(),
                    name=form.get("name"),
                    scope=form.get("scope"),
                    due_on=_optional_date(form.optional("due_on"), "due date"),
                    target_ig=_optional_int(form, "target_ig", "target implementation group"),
                    target_maturity=_optional_int(form, "target_maturity", "target maturity"),
                ),
            )
            target = assessment_path(created.id, done="created")
    except AssayError as exc:
        values = form.keep("framework", "name", "scope", "due_on", "target_ig", "target_maturity")
        return assessments_page(request, slug, status=exc.status, error=exc, values=values)
    return RedirectResponse(target, status_code=303)


@router.get("/orgs/{slug}/assessments/overview.svg")
def clients_chart(request: Request, slug: str, page: PageNumber = 1) -> Response:
    """The chart of one page of clients, the same page the overview table shows."""
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        overview, _ = worksheet.clients_overview(
            db,
            actor,
            slug,
            limit=CLIENTS_PER_PAGE,
            offset=Pager.offset_of(page, CLIENTS_PER_PAGE),
        )
    return _svg(charts.clients_chart(overview))


# --- the questionnaire -----------------------------------------------------------------------


def _moves(db: Session, actor: Actor, org: Organization, state: AssessmentState) -> list[Move]:
    """The state buttons the policy would allow this actor (display only)."""
    return [
        Move(str(target), MOVES[(state, target)])
        for target, action in TRANSITIONS[state].items()
        if permitted(db, actor, action, org)
    ]


def assessment_frame(
    db: Session, visitor: Visitor, actor: Actor, sheet: worksheet.Worksheet, active: str
) -> dict[str, Any]:
    """What every assessment page shows around its content."""
    org = sheet.organization
    state = sheet.assessment.state
    is_open = state is not AssessmentState.CLOSED
    return {
        "chrome": chrome_for(db, visitor, org.slug, section=SECTION),
        "sheet": sheet,
        "org": org,
        "active": active,
        "state_label": STATE_LABELS[state],
        "moves": _moves(db, actor, org, state),
        "can_answer": is_open and permitted(db, actor, "answer.submit", org),
        "can_attach": is_open and permitted(db, actor, "evidence.attach", org),
        "can_review": permitted(db, actor, "answer.verify", org),
        "can_clone": permitted(db, actor, "assessment.manage", org),
        "can_view_evidence": permitted(db, actor, "evidence.view", org),
        "is_open": is_open,
        "status_labels": {str(k): v for k, v in STATUS_LABELS.items()},
    }


def questionnaire_page(
    request: Request,
    assessment_id: int,
    *,
    group: str | None = None,
    control: str | None = None,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = assessment_actor(db, visitor, assessment_id)
        sheet = worksheet.worksheet(
            db, actor, assessment_id, group=group, control=control, first_group=True
        )
        context = {
            **assessment_frame(db, visitor, actor, sheet, "questionnaire"),
            "today": date.today().isoformat(),
            "error": error,
            "notice": notice,
        }
    return render(request, "assessment.html", context, status=status)


@router.get("/assessments/{assessment_id}")
def show_questionnaire(
    request: Request,
    assessment_id: RowId,
    group: GroupQuery = None,
    control: GroupQuery = None,
    done: str | None = None,
) -> Response:
    """One group's controls (`group`, or the group of `control`, else the first group)."""
    return questionnaire_page(
        request, assessment_id, group=group, control=control, notice=NOTICES.get(done or "")
    )


def _back(assessment_id: int, form_back: str, group: str | None, done: str, anchor: str) -> str:
    """Where a form returns to: the review queue, or the questionnaire at the control."""
    if form_back == "review":
        return assessment_path(assessment_id, "review", done=done)
    target = assessment_path(assessment_id, group=group, done=done)
    return target + (f"#control-{quote(anchor, safe='')}" if anchor else "")


def _failed(
    request: Request, assessment_id: int, back: str, group: str | None, exc: AssayError
) -> Response:
    """Show the page the form came from again, with the error."""
    if back == "review":
        return review_page(request, assessment_id, status=exc.status, error=exc)
    return questionnaire_page(request, assessment_id, group=group, status=exc.status, error=exc)


def _group(value: str | None) -> str | None:
    return value[:MAX_GROUP_CHARS] if value else None


@router.post("/assessments/{assessment_id}/answers")
def answer_control(
    request: Request, assessment_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    group, label = _group(form.optional("group")), form.get("control").strip()
    try:
        with unit_of_work() as db:
            actor = assessment_actor(db, require_visitor(db, request), assessment_id)
            answers.answer_control(
                db,
                actor,
                assessment_id,
                label,
                AnswerInput(
                    status=form.get("status"),
                    maturity=_optional_int(form, "maturity", "maturity"),
                    justification=form.get("justification"),
                    notes=form.get("notes"),
                ),
            )
    except AssayError as exc:
        return _failed(request, assessment_id, "", group, exc)
    return RedirectResponse(_back(assessment_id, "", group, "answered", label), status_code=303)


def _add_file(actor: Actor, answer_id: int, upload: Upload) -> None:
    if upload.file is None or not upload.filename:
        raise InvalidInput("choose a file to upload")
    collected_on = _optional_date(upload.optional("collected_on"), "collection date")
    if collected_on is None:
        raise InvalidInput("give the date the evidence was collected")
    dates = EvidenceDates(collected_on, _optional_date(upload.optional("expires_on"), "expiry"))
    with unit_of_work() as db:
        evidence.add_file(
            db,
            actor,
            answer_id,
            filename=upload.filename,
            stream=upload.file,
            dates=dates,
            title=upload.optional("title"),
        )


@router.post("/assessments/{assessment_id}/answers/{answer_id}/evidence")
async def upload_evidence(request: Request, assessment_id: RowId, answer_id: RowId) -> Response:
    _visitor, actor = await run_in_threadpool(_visitor_actor, request, assessment_id)
    upload = await signed_in_upload(
        request, file_field=FILE_FIELD, max_file_bytes=settings().max_evidence_bytes
    )
    with upload:
        group, label = _group(upload.optional("group")), upload.get("control").strip()
        try:
            await run_in_threadpool(_add_file, actor, answer_id, upload)
        except AssayError as exc:
            return await run_in_threadpool(_failed, request, assessment_id, "", group, exc)
    return RedirectResponse(_back(assessment_id, "", group, "uploaded", label), status_code=303)


@router.post(
    "/assessments/{assessment_id}/answers/{answer_id}/evidence/{evidence_id}/remove",
)
def remove_evidence(
    request: Request,
    assessment_id: RowId,
    answer_id: RowId,
    evidence_id: RowId,
    form: Annotated[Form, Depends(signed_in_form)],
) -> Response:
    group, label = _group(form.optional("group")), form.get("control").strip()
    try:
        with unit_of_work() as db:
            actor = assessment_actor(db, require_visitor(db, request), assessment_id)
            evidence.detach(db, actor, answer_id, evidence_id)
    except AssayError as exc:
        return _failed(request, assessment_id, "", group, exc)
    return RedirectResponse(_back(assessment_id, "", group, "removed", label), status_code=303)


def _judge(
    request: Request, assessment_id: int, answer_id: int, form: Form, verdict: str
) -> Response:
    back, group = form.get("back"), _group(form.optional("group"))
    try:
        with unit_of_work() as db:
            actor = assessment_actor(db, require_visitor(db, request), assessment_id)
            if verdict == "verified":
                answers.verify_answer(db, actor, answer_id, form.get("comment"))
            else:
                answers.reject_answer(db, actor, answer_id, form.get("comment"))
    except AssayError as exc:
        return _failed(request, assessment_id, back, group, exc)
    label = form.get("control").strip()
    return RedirectResponse(_back(assessment_id, back, group, verdict, label), status_code=303)


@router.post("/assessments/{assessment_id}/answers/{answer_id}/verify")
def verify_answer(
    request: Request,
    assessment_id: RowId,
    answer_id: RowId,
    form: Annotated[Form, Depends(signed_in_form)],
) -> Response:
    return _judge(request, assessment_id, answer_id, form, "verified")


@router.post("/assessments/{assessment_id}/answers/{answer_id}/reject")
def reject_answer(
    request: Request,
    assessment_id: RowId,
    answer_id: RowId,
    form: Annotated[Form, Depends(signed_in_form)],
) -> Response:
    return _judge(request, assessment_id, answer_id, form, "rejected")


@router.post("/assessments/{assessment_id}/state")
def change_state(
    request: Request, assessment_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    state = form.get("state").strip()
    try:
        with unit_of_work() as db:
            actor = assessment_actor(db, require_visitor(db, request), assessment_id)
            workflow.change_state(db, actor, assessment_id, state)
    except AssayError as exc:
        return questionnaire_page(request, assessment_id, status=exc.status, error=exc)
    return RedirectResponse(assessment_path(assessment_id, done=state), status_code=303)


@router.post("/assessments/{assessment_id}/clone")
def clone_assessment(
    request: Request, assessment_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = assessment_actor(db, require_visitor(db, request), assessment_id)
            clone = workflow.clone_assessment(db, actor, assessment_id, form.optional("name"))
            target = assessment_path(clone.id, done="cloned")
    except AssayError as exc:
        return questionnaire_page(request, assessment_id, status=exc.status, error=exc)
    return RedirectResponse(target, status_code=303)


# --- files -----------------------------------------------------------------------------------


@router.get("/evidence/{evidence_id}/download")
def download_evidence(request: Request, evidence_id: RowId) -> Response:
    """Always an attachment under the original name, never rendered (web/transfer.py)."""
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        org_id = worksheet.organization_of(db, evidence_id=evidence_id)
        actor = visitor.actor_owning(db, org_id, f"evidence file {evidence_id} not found")
        found, handle = evidence.open_file(db, actor, evidence_id)
    name = found.original_name or f"evidence-{found.id}"
    return StreamingResponse(file_chunks(handle), headers=attachment_headers(name, found.size))


@router.get("/assessments/{assessment_id}/export")
def export_answers(
    request: Request, assessment_id: RowId, format: Literal["xlsx", "csv"] = "xlsx"
) -> Response:
    with unit_of_work() as db:
        actor = assessment_actor(db, require_visitor(db, request), assessment_id)
        data = spreadsheet.export_answers(db, actor, assessment_id, format)
    headers = attachment_headers(
        f"assessment-{assessment_id}-answers.{format}",
        len(data),
        media_type=spreadsheet.MEDIA_TYPES[format],
    )
    return Response(data, headers=headers)


def _import(actor: Actor, assessment_id: int, upload: Upload) -> spreadsheet.ImportReport:
    if upload.file is None or not upload.filename:
        raise InvalidInput("choose a spreadsheet to import")
    with unit_of_work() as db:
        return spreadsheet.import_answers(
            db, actor, assessment_id, upload.file.read(), upload.filename
        )


@router.post("/assessments/{assessment_id}/import")
async def import_answers(request: Request, assessment_id: RowId) -> Response:
    _visitor, actor = await run_in_threadpool(_visitor_actor, request, assessment_id)
    upload = await signed_in_upload(
        request, file_field=FILE_FIELD, max_file_bytes=spreadsheet.MAX_INPUT_BYTES
    )
    with upload:
        try:
            report = await run_in_threadpool(_import, actor, assessment_id, upload)
        except spreadsheet.ImportRejected as exc:
            shown = "; ".join(exc.problems[:10])
            more = len(exc.problems) - 10
            message = f"{exc.file}: {shown}" + (f" (and {more} more)" if more > 0 else "")
            error = InvalidInput(message)
            return await run_in_threadpool(_failed, request, assessment_id, "", None, error)
        except AssayError as exc:
            return await run_in_threadpool(_failed, request, assessment_id, "", None, exc)
    notice = (
        f"Imported {report.file}: {report.created} answers created, {report.changed} changed, "
        f"{report.unchanged} unchanged, {report.skipped} rows skipped."
    )
    return await run_in_threadpool(questionnaire_page, request, assessment_id, notice=notice)


# --- the review queue ------------------------------------------------------------------------


def review_page(
    request: Request,
    assessment_id: int,
    *,
    page: int = 1,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = assessment_actor(db, visitor, assessment_id)
        sheet = worksheet.worksheet(
            db,
            actor,
            assessment_id,
            states=["claimed"],
            limit=PAGE_SIZE,
            offset=Pager.offset_of(page),
            with_involvement=True,
        )
        frame = assessment_frame(db, visitor, actor, sheet, "review")
        org = sheet.organization
        judgeable = {
            item.answer.id
            for item in sheet.items
            if item.answer is not None
            and frame["is_open"]
            and permitted(db, actor, "answer.verify", org, item.answer.involvement)
        }
        context = {
            **frame,
            "judgeable": judgeable,
            "pager": Pager(page, PAGE_SIZE, sheet.total),
            "error": error,
            "notice": notice,
        }
    return render(request, "assessment_review.html", context, status=status)


@router.get("/assessments/{assessment_id}/review")
def show_review(
    request: Request, assessment_id: RowId, page: PageNumber = 1, done: str | None = None
) -> Response:
    return review_page(request, assessment_id, page=page, notice=NOTICES.get(done or ""))


# --- the dashboard ---------------------------------------------------------------------------


@router.get("/assessments/{assessment_id}/dashboard")
def show_dashboard(request: Request, assessment_id: RowId) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = assessment_actor(db, visitor, assessment_id)
        score = scoring.score_assessment(db, actor, assessment_id)
        sheet = worksheet.worksheet(db, actor, assessment_id, limit=0)
        level, groups = charts.heatmap_groups(score)
        context = {
            **assessment_frame(db, visitor, actor, sheet, "dashboard"),
            "score": score,
            "level": level,
            "groups": groups,
            "charts": {
                "radar": score.framework == charts.CSF_KEY and bool(score.levels.get("function")),
                "functions": score.framework == charts.CSF_KEY
                and 2 <= len(score.levels.get("function", [])) <= charts.MAX_BAR_GROUPS,
                "derived": score.derived is not None
                and len(score.derived.levels.get("function", [])) >= 3,
                "groups": bool(score.implementation_groups),
                "heatmap": bool(groups),
            },
            "has_targets": score.totals.maturity.target is not None,
            "reason_counts": {
                reason: sum(1 for spot in score.blind_spots if reason in spot.reasons)
                for reason in scoring.BLIND_SPOT_REASONS
            },
            "reason_labels": {
                "unanswered": "unanswered",
                "no_evidence": "no evidence",
                "expired_evidence": "evidence expired",
                "stale_claim": f"claimed, unverified > {scoring.STALE_AFTER_DAYS} days",
            },
        }
    return render(request, "assessment_dashboard.html", context)


def _svg(data: bytes | None) -> Response:
    if data is None:
        raise NotFound("there is no such chart for this assessment")
    headers = {"Content-Security-Policy": SVG_POLICY, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/svg+xml", headers=headers)


@router.get("/assessments/{assessment_id}/charts/{chart}.svg")
def show_chart(request: Request, assessment_id: RowId, chart: ChartName) -> Response:
    with unit_of_work() as db:
        actor = assessment_actor(db, require_visitor(db, request), assessment_id)
        score = scoring.score_assessment(db, actor, assessment_id)
    return _svg(charts.CHARTS[chart](score))
