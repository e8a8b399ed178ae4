"""Host audit runs in the database: store a run on an asset, turn it into evidence for the
mapped controls of the organization's open assessments, list runs, show the fleet, diff two
runs, and suggest answers from the latest results.

Every call takes a Session and an Actor; authorization goes through the policy
(`audit_run.view`, `audit_run.submit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.assess.access import load_assessment
from assay.assess.models import (
    Answer,
    AnswerEvidence,
    AnswerState,
    Assessment,
    AssessmentState,
    Evidence,
    EvidenceKind,
)
from assay.assets.models import Asset, AssetIdentifier
from assay.audit import diff as drift
from assay.audit.models import AuditRunRecord, CheckResultRecord, Collector
from assay.audit.submission import SubmittedRun
from assay.audit.suggest import FRAMEWORK_REFERENCES, Evaluated, Suggestion, suggest
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.catalog.models import Control, Framework
from assay.errors import NotFound
from assay.tenancy.access import authorize_owner, authorize_slug
from assay.tenancy.models import Organization, OrgKind, Role


@dataclass(frozen=True)
class StoredRun:
    run: AuditRunRecord
    asset: Asset
    evidence_id: int
    linked_answers: int  # claimed or rejected answers the run now backs
    verified_left: int  # verified answers it would back: left as they are (see docs/checks.md)


@dataclass(frozen=True)
class RunView:
    run: AuditRunRecord
    asset: Asset
    organization: Organization
    results: list[CheckResultRecord]


@dataclass(frozen=True)
class FleetRow:
    asset: Asset
    latest: AuditRunRecord | None


@dataclass(frozen=True)
class RunDiff:
    before: RunView
    after: RunView
    changes: list[drift.Change]

    @property
    def counts(self) -> dict[str, int]:
        return drift.summary(self.changes)


@dataclass
class AssessmentSuggestions:
    assessment: Assessment
    framework_key: str
    by_control: dict[str, Suggestion] = field(default_factory=dict)


# --- references: which controls each check speaks for -----------------------------------------


def check_references() -> dict[str, dict[str, list[str]]]:
    """`{check_id: {"cis": [...], "csf": [...]}}` for the packaged checks."""
    from assay.audit.loader import builtin_checks

    return {
        check.id: {"cis": list(check.references.cis), "csf": list(check.references.csf)}
        for check in builtin_checks()
    }


# --- assets ------------------------------------------------------------------------------------


def find_asset(session: Session, org: Organization, ref: str) -> Asset:
    """An asset of `org` by name, else by an identifier (hostname, FQDN, address, cloud id)."""
    asset = session.scalar(
        select(Asset).where(Asset.organization_id == org.id, Asset.name == ref.strip())
    )
    if asset is not None:
        return asset
    by_identifier = (
        select(Asset)
        .join(AssetIdentifier, AssetIdentifier.asset_id == Asset.id)
        .where(
            AssetIdentifier.organization_id == org.id,
            AssetIdentifier.value == ref.strip().lower(),
        )
        .order_by(Asset.id)
        .limit(1)
    )
    asset = session.scalar(by_identifier)
    if asset is None:
        raise NotFound(f"asset '{ref}' not found in organization '{org.slug}'")
    return asset


# --- storing a run -----------------------------------------------------------------------------


def collector_of(actor: Actor) -> Collector:
    """Auditors (of the client, or of a granted firm) collect; everyone else submits."""
    if actor.role is Role.AUDITOR or actor.org_kind is OrgKind.AUDITOR:
        return Collector.AUDITOR
    return Collector.OPERATOR


def store_run(
    session: Session, actor: Actor, org_slug: str, asset_ref: str, run: SubmittedRun
) -> StoredRun:
    """Store a finished run on an asset of the organization, with its results; make it
    evidence for the controls its checks reference; audit it. All in the caller's
    transaction."""
    org = authorize_slug(session, actor, "audit_run.submit", org_slug)
    if org.kind is not OrgKind.CLIENT:
        raise NotFound(f"organization '{org_slug}' has no assets to audit")
    asset = find_asset(session, org, asset_ref)
    digest = run.results_digest
    record_ = AuditRunRecord(
        organization_id=org.id,
        asset_id=asset.id,
        target=run.target,
        collected_by=collector_of(actor),
        submitted_by_id=actor.user_id,
        via=str(actor.via),
        started_at=run.started_at,
        seconds=run.seconds,
        checks=len(run.results),
        passed=run.count("pass"),
        failed=run.count("fail"),
        not_applicable=run.count("not_applicable"),
        errors=run.count("error"),
        digest=digest,
    )
    session.add(record_)
    session.flush()
    session.add_all(
        CheckResultRecord(
            run_id=record_.id,
            organization_id=org.id,
            check_id=r.id,
            title=r.title,
            severity=r.severity,
            status=r.status,
            observed=r.observed,
            expected=r.expected,
            reason=r.reason,
            locations=[loc.model_dump() for loc in r.locations],
        )
        for r in run.results
    )
    evidence = Evidence(
        organization_id=org.id,
        kind=EvidenceKind.AUDIT_RESULT,
        title=f"Host audit of {asset.name}: {record_.passed} of {record_.checks} checks pass"[:200],
        sha256=digest,
        url=f"/audit-runs/{record_.id}",
        collected_on=run.started_at.date(),
        uploaded_by_id=actor.user_id,
        audit_run_id=record_.id,
        collected_by=str(record_.collected_by),
    )
    session.add(evidence)
    session.flush()
    evaluated = {r.id for r in run.results if r.status in ("pass", "fail")}
    linked, verified_left = _link_evidence(session, org, evidence, evaluated)
    record(
        session,
        actor,
        "audit_run.store",
        organization_id=org.id,
        object_type="audit_run",
        object_id=record_.id,
        detail={
            "asset": asset.name,
            "target": run.target,
            "collected_by": str(record_.collected_by),
            "checks": record_.checks,
            "failed": record_.failed,
            "digest": digest,
            "evidence": evidence.id,
            "linked_answers": linked,
        },
    )
    return StoredRun(record_, asset, evidence.id, linked, verified_left)


def _mapped_control_ids(session: Session, evaluated: set[str]) -> dict[str, set[int]]:
    """Control ids per framework key for the controls the evaluated checks reference."""
    references = check_references()
    labels: dict[str, set[str]] = {key: set() for key in FRAMEWORK_REFERENCES}
    for check_id in evaluated:
        refs = references.get(check_id)
        if refs is None:
            continue
        for key, kind in FRAMEWORK_REFERENCES.items():
            labels[key].update(refs.get(kind, []))
    found: dict[str, set[int]] = {}
    for key, wanted in labels.items():
        if not wanted:
            continue
        rows = session.execute(
            select(Control.id)
            .join(Framework, Framework.id == Control.framework_id)
            .where(Framework.key == key, Control.label.in_(wanted))
        )
        found[key] = {row[0] for row in rows}
    return found


def _link_evidence(
    session: Session, org: Organization, evidence: Evidence, evaluated: set[str]
) -> tuple[int, int]:
    """Link the run's evidence to the answers of mapped controls in the organization's open
    assessments. Verified answers are left alone: new evidence would send them back to
    claimed on every scheduled run; the auditor sees the newer run in the suggestions."""
    control_ids = set().union(*_mapped_control_ids(session, evaluated).values())
    if not control_ids:
        return 0, 0
    answers = session.execute(
        select(Answer.id, Answer.state)
        .join(Assessment, Assessment.id == Answer.assessment_id)
        .where(
            Answer.organization_id == org.id,
            Assessment.state != AssessmentState.CLOSED,
            Answer.control_id.in_(control_ids),
        )
    ).all()
    linked = verified = 0
    for answer_id, state in answers:
        if state is AnswerState.VERIFIED:
            verified += 1
            continue
        session.add(
            AnswerEvidence(
                answer_id=answer_id,
                evidence_id=evidence.id,
                organization_id=org.id,
                linked_by_id=None,
            )
        )
        linked += 1
    session.flush()
    return linked, verified


# --- reading -----------------------------------------------------------------------------------


def _client(session: Session, actor: Actor, org_slug: str) -> Organization:
    org = authorize_slug(session, actor, "audit_run.view", org_slug)
    if org.kind is not OrgKind.CLIENT:
        raise NotFound(f"organization '{org_slug}' has no audit runs")
    return org


def list_runs(
    session: Session,
    actor: Actor,
    org_slug: str,
    *,
    asset: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[AuditRunRecord, Asset]], int]:
    """An organization's runs, newest first, optionally of one asset."""
    org = _client(session, actor, org_slug)
    query = (
        select(AuditRunRecord, Asset)
        .join(Asset, Asset.id == AuditRunRecord.asset_id)
        .where(AuditRunRecord.organization_id == org.id)
    )
    if asset is not None:
        query = query.where(AuditRunRecord.asset_id == find_asset(session, org, asset).id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(AuditRunRecord.id.desc()).limit(limit).offset(offset)
    ).all()
    return [(run, found) for run, found in rows], total


def organization_of_run(session: Session, run_id: int) -> int | None:
    """The organization id of a run, or None. Not an authorization: interfaces use it to pick
    which of a user's memberships acts on the run; `get_run` then decides."""
    return session.scalar(select(AuditRunRecord.organization_id).where(AuditRunRecord.id == run_id))


def get_run(session: Session, actor: Actor, run_id: int) -> RunView:
    """One run with its results (out of reach: not found)."""
    run = session.get(AuditRunRecord, run_id)
    owner = run.organization_id if run is not None else None
    org, _ = authorize_owner(
        session, actor, "audit_run.view", owner, f"audit run {run_id} not found"
    )
    assert run is not None  # an owner was found
    asset = session.get(Asset, run.asset_id)
    if asset is None:  # pragma: no cover - foreign key
        raise NotFound(f"audit run {run_id} not found")
    results = list(
        session.scalars(
            select(CheckResultRecord)
            .where(CheckResultRecord.run_id == run.id)
            .order_by(CheckResultRecord.check_id)
        )
    )
    return RunView(run, asset, org, results)


def fleet(session: Session, actor: Actor, org_slug: str) -> list[FleetRow]:
    """Every asset of the organization with its latest run (None when never audited)."""
    return _fleet_rows(session, _client(session, actor, org_slug))


def fleet_page(
    session: Session, actor: Actor, org_slug: str, *, limit: int = 50, offset: int = 0
) -> tuple[list[FleetRow], int]:
    """One page of the fleet, by asset name, and the number of assets in the whole fleet.
    Paged in SQL: only the page's assets and their latest runs are read."""
    org = _client(session, actor, org_slug)
    count = select(func.count()).select_from(Asset).where(Asset.organization_id == org.id)
    total = session.scalar(count) or 0
    return _fleet_rows(session, org, limit=limit, offset=offset), total


def _fleet_rows(
    session: Session, org: Organization, *, limit: int | None = None, offset: int = 0
) -> list[FleetRow]:
    """The organization's assets by name (all, or one page), each with its latest run."""
    query = select(Asset).where(Asset.organization_id == org.id).order_by(Asset.name, Asset.id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    assets = list(session.scalars(query))
    if not assets:
        return []
    latest = select(func.max(AuditRunRecord.id)).where(AuditRunRecord.organization_id == org.id)
    if limit is not None:  # one page (at most MAX_LIMIT assets): only their runs
        latest = latest.where(AuditRunRecord.asset_id.in_([asset.id for asset in assets]))
    runs = {
        run.asset_id: run
        for run in session.scalars(
            select(AuditRunRecord).where(
                AuditRunRecord.id.in_(latest.group_by(AuditRunRecord.asset_id))
            )
        )
    }
    return [FleetRow(asset, runs.get(asset.id)) for asset in assets]


def previous_run(session: Session, run: AuditRunRecord) -> AuditRunRecord | None:
    """The run of the same asset just before this one (the caller has authorized `run`)."""
    return session.scalar(
        select(AuditRunRecord)
        .where(
            AuditRunRecord.organization_id == run.organization_id,
            AuditRunRecord.asset_id == run.asset_id,
            AuditRunRecord.id < run.id,
        )
        .order_by(AuditRunRecord.id.desc())
        .limit(1)
    )


def compare_runs(session: Session, actor: Actor, before_id: int, after_id: int) -> RunDiff:
    """Drift from one run to another (both must be visible to the actor)."""
    before, after = get_run(session, actor, before_id), get_run(session, actor, after_id)
    changes = drift.diff(
        {r.check_id: r.status for r in before.results},
        {r.check_id: r.status for r in after.results},
    )
    return RunDiff(before, after, changes)


def suggestions(session: Session, actor: Actor, assessment_id: int) -> AssessmentSuggestions:
    """What the latest run of each audited asset says of the assessment's controls."""
    assessment, _ = load_assessment(session, actor, assessment_id)
    framework = session.get(Framework, assessment.framework_id)
    key = framework.key if framework is not None else ""
    found = AssessmentSuggestions(assessment, key)
    if key not in FRAMEWORK_REFERENCES:
        return found
    latest = (
        select(func.max(AuditRunRecord.id))
        .where(AuditRunRecord.organization_id == assessment.organization_id)
        .group_by(AuditRunRecord.asset_id)
    )
    rows = session.execute(
        select(
            CheckResultRecord.check_id,
            CheckResultRecord.status,
            CheckResultRecord.run_id,
            Asset.name,
        )
        .join(AuditRunRecord, AuditRunRecord.id == CheckResultRecord.run_id)
        .join(Asset, Asset.id == AuditRunRecord.asset_id)
        .where(
            CheckResultRecord.run_id.in_(latest),
            CheckResultRecord.status.in_(("pass", "fail")),
        )
    ).all()
    results = [Evaluated(check_id, status, run_id, name) for check_id, status, run_id, name in rows]
    found.by_control = suggest(results, check_references(), key)
    return found


SUGGESTION_LIST_CAP = 20
"""At most this many run ids and failing checks per suggested control (the counts are whole)."""


def suggestion_rows(found: AssessmentSuggestions) -> list[dict[str, Any]]:
    """Suggestions as plain rows, by control label (for JSON and tables); the newest runs first."""
    return [
        {
            "control": label,
            "suggested_status": str(s.status),
            "passed": s.passed,
            "failed": s.failed,
            "run_count": len(s.runs),
            "runs": sorted(s.runs, reverse=True)[:SUGGESTION_LIST_CAP],
            "failing": s.failing[:SUGGESTION_LIST_CAP],
        }
        for label, s in sorted(found.by_control.items(), key=lambda item: _label_key(item[0]))
    ]


def _label_key(label: str) -> list[tuple[int, int, str]]:
    parts = label.replace("-", ".").split(".")
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]


def run_row(run: AuditRunRecord, asset: Asset) -> Mapping[str, Any]:
    """A run's header as plain data."""
    return {
        "id": run.id,
        "asset": asset.name,
        "target": run.target,
        "collected_by": str(run.collected_by),
        "via": run.via,
        "started_at": run.started_at.isoformat(),
        "seconds": round(run.seconds, 3),
        "checks": run.checks,
        "passed": run.passed,
        "failed": run.failed,
        "not_applicable": run.not_applicable,
        "errors": run.errors,
        "digest": run.digest,
    }
