"""Host audit runs: agents and auditors submit runs; people read runs, the fleet, drift between
two runs, and the answers the latest runs suggest for an assessment.

`POST /orgs/{slug}/audit-runs` is what `assay audit host --submit URL --token TOKEN` calls:
the token decides the organization and the role (an auditor's run is auditor-collected,
anyone else's operator-submitted), the asset must exist in that organization (by name or by
an identifier such as the host name), and the run is validated and its digest recomputed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession, StreamingActor
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of
from assay.api.params import AssessmentId, AuditRunId, OrgSlug, OtherAuditRunId
from assay.assets.models import Asset
from assay.audit import service
from assay.audit.models import AuditRunRecord, CheckResultRecord
from assay.audit.submission import SubmittedRun
from assay.auth.actor import Actor
from assay.db.engine import unit_of_work
from assay.errors import InvalidInput
from assay.transfer import read_json_body

router = APIRouter(tags=["host audits"], route_class=BoundedBodyRoute)

MAX_SUBMISSION_BYTES = 32 * 1024 * 1024


class AuditRunOut(BaseModel):
    id: int
    asset: str
    target: str
    collected_by: str = Field(description="auditor (auditor-collected) or operator (submitted)")
    via: str
    started_at: datetime
    seconds: float
    checks: int
    passed: int
    failed: int
    not_applicable: int
    errors: int
    digest: str = Field(description="SHA-256 of the results (recomputed by the server)")

    @classmethod
    def of(cls, run: AuditRunRecord, asset: Asset) -> AuditRunOut:
        return cls.model_validate(service.run_row(run, asset))


class LocationOut(BaseModel):
    path: str
    line: int | None = None


class CheckResultOut(BaseModel):
    check: str
    title: str
    severity: str
    status: str
    observed: str
    expected: str
    reason: str
    locations: list[LocationOut]

    @classmethod
    def of(cls, result: CheckResultRecord) -> CheckResultOut:
        return cls(
            check=result.check_id,
            title=result.title,
            severity=result.severity,
            status=result.status,
            observed=result.observed,
            expected=result.expected,
            reason=result.reason,
            locations=[LocationOut.model_validate(loc) for loc in result.locations],
        )


class AuditRunDetailOut(AuditRunOut):
    organization: str
    results: list[CheckResultOut]


class StoredRunOut(AuditRunOut):
    evidence_id: int
    linked_answers: int = Field(description="claimed or rejected answers the run now backs")
    verified_left: int = Field(description="verified answers left as verified")


class RunSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset: str = Field(min_length=1, max_length=500, description="asset name or identifier")
    run: dict[str, Any] = Field(description="the run as `assay audit host --json` prints it")


class FleetRowOut(BaseModel):
    asset: str
    kind: str
    criticality: str
    latest: AuditRunOut | None


class ChangeOut(BaseModel):
    check: str
    kind: str = Field(description="broke, fixed, changed, appeared or disappeared")
    before: str | None
    after: str | None


class RunDiffOut(BaseModel):
    before: AuditRunOut
    after: AuditRunOut
    counts: dict[str, int]
    changes: list[ChangeOut]


class SuggestionOut(BaseModel):
    control: str
    suggested_status: str
    passed: int
    failed: int
    run_count: int = Field(description="runs of audited assets that checked the control")
    runs: list[int] = Field(description="the newest of those runs (at most 20)")
    failing: list[str] = Field(description="failing checks (at most 20)")


class SuggestionsOut(BaseModel):
    assessment: int
    framework: str
    suggestions: list[SuggestionOut]


def _store(actor: Actor, slug: str, body: bytes) -> StoredRunOut:
    try:
        submission = RunSubmission.model_validate_json(body)
        run = SubmittedRun.model_validate(submission.run)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"invalid audit run: {where}: {first['msg']}") from None
    with unit_of_work() as session:
        stored = service.store_run(session, actor, slug, submission.asset, run)
        return StoredRunOut(
            **service.run_row(stored.run, stored.asset),
            evidence_id=stored.evidence_id,
            linked_answers=stored.linked_answers,
            verified_left=stored.verified_left,
        )


@router.post(
    "/orgs/{slug}/audit-runs",
    status_code=201,
    responses=problem_responses(403, 404, 413, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": RunSubmission.model_json_schema(by_alias=True)}
            },
        }
    },
)
async def submit_run(request: Request, actor: StreamingActor, slug: OrgSlug) -> StoredRunOut:
    """Store a finished run on an asset of the organization; it becomes evidence for the
    controls its checks reference in the organization's open assessments."""
    body = await read_json_body(request, max_bytes=MAX_SUBMISSION_BYTES)
    return await run_in_threadpool(_store, actor, slug, body)


@router.get("/orgs/{slug}/audit-runs", responses=problem_responses(403, 404))
def list_runs(
    session: DbSession,
    actor: CurrentActor,
    slug: OrgSlug,
    page: PageQuery,
    asset: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
) -> Page[AuditRunOut]:
    """The organization's runs, newest first (optionally of one asset)."""
    rows, total = service.list_runs(
        session, actor, slug, asset=asset, limit=page.limit, offset=page.offset
    )
    return page_of(AuditRunOut, (AuditRunOut.of(run, a) for run, a in rows), total, page)


@router.get("/orgs/{slug}/fleet", responses=problem_responses(403, 404))
def get_fleet(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, page: PageQuery
) -> Page[FleetRowOut]:
    """Every asset with its latest run, by asset name."""
    rows, total = service.fleet_page(session, actor, slug, limit=page.limit, offset=page.offset)
    items = (
        FleetRowOut(
            asset=row.asset.name,
            kind=str(row.asset.kind),
            criticality=str(row.asset.criticality),
            latest=AuditRunOut.of(row.latest, row.asset) if row.latest else None,
        )
        for row in rows
    )
    return page_of(FleetRowOut, items, total, page)


@router.get("/audit-runs/{run_id}", responses=problem_responses(404))
def get_run(session: DbSession, actor: CurrentActor, run_id: AuditRunId) -> AuditRunDetailOut:
    """One run with every result: what was observed, where, and what was expected."""
    view = service.get_run(session, actor, run_id)
    return AuditRunDetailOut(
        **service.run_row(view.run, view.asset),
        organization=view.organization.slug,
        results=[CheckResultOut.of(r) for r in view.results],
    )


@router.get("/audit-runs/{run_id}/diff/{other_run_id}", responses=problem_responses(404))
def diff_runs(
    session: DbSession, actor: CurrentActor, run_id: AuditRunId, other_run_id: OtherAuditRunId
) -> RunDiffOut:
    """Drift from this run to another: checks that broke, were fixed, or changed."""
    found = service.compare_runs(session, actor, run_id, other_run_id)
    return RunDiffOut(
        before=AuditRunOut.of(found.before.run, found.before.asset),
        after=AuditRunOut.of(found.after.run, found.after.asset),
        counts=found.counts,
        changes=[
            ChangeOut(check=c.check_id, kind=c.kind, before=c.before, after=c.after)
            for c in found.changes
        ],
    )


@router.get("/assessments/{assessment_id}/suggestions", responses=problem_responses(404))
def get_suggestions(
    session: DbSession, actor: CurrentActor, assessment_id: AssessmentId
) -> SuggestionsOut:
    """What the latest run of each audited asset suggests for the assessment's controls
    (suggestions only: answers still need a person, and verification an auditor)."""
    found = service.suggestions(session, actor, assessment_id)
    return SuggestionsOut(
        assessment=found.assessment.id,
        framework=found.framework_key,
        suggestions=[SuggestionOut(**row) for row in service.suggestion_rows(found)],
    )
