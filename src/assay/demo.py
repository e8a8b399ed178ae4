"""The demo world: an MSP with two clients, an auditor firm, one user per role, and assessments
in several states; on request, many generated clients for benchmarks. Idempotent."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.accounts.secrets import generate_password
from assay.accounts.service import new_user, set_password
from assay.assess.answers import (
    AnswerInput,
    answer_control,
    reject_answer,
    verify_answer,
)
from assay.assess.evidence import EvidenceDates, add_link
from assay.assess.models import (
    Answer,
    AnswerEvidence,
    AnswerState,
    Assessment,
    AssessmentState,
    Evidence,
    EvidenceKind,
    Independence,
    Status,
    Verification,
)
from assay.assess.workflow import (
    NewAssessment,
    assessed_controls,
    change_state,
    clone_assessment,
    create_assessment,
)
from assay.auditlog.service import record
from assay.auth.actor import Actor, Via
from assay.catalog.models import Baseline, BaselineControl, Control, Framework
from assay.catalog.service import get_framework
from assay.db.base import Base, utcnow
from assay.errors import InvalidInput, NotFound
from assay.tenancy.access import active_grant_exists, actor_in, org_by_slug
from assay.tenancy.models import AuditorGrant, Membership, Organization, OrgKind, Role
from assay.tenancy.service import add_member, create_org, grant_auditor

MSP = ("northwind-it", "Northwind IT", "msp", None)
ORGS = (
    MSP,
    ("contoso-dental", "Contoso Dental", "client", "northwind-it"),
    ("fabrikam-logistics", "Fabrikam Logistics", "client", "northwind-it"),
    ("sentinel-assurance", "Sentinel Assurance", "auditor", None),
)
GRANTS = (("contoso-dental", "sentinel-assurance"),)
USERS = (
    ("admin@northwind.example", "Nadia Admin", "northwind-it", Role.ADMIN),
    ("ops@northwind.example", "Omar Operator", "northwind-it", Role.IT_OPERATOR),
    ("auditor@sentinel.example", "Ada Auditor", "sentinel-assurance", Role.AUDITOR),
    ("ceo@contoso.example", "Chris Executive", "contoso-dental", Role.EXECUTIVE),
)


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    organization: str
    role: Role
    password: str


def seed_demo(session: Session, actor: Actor) -> list[DemoUser]:
    """Create what is missing of the demo world and give every demo user a fresh password."""
    for slug, name, kind, parent in ORGS:
        exists = session.scalar(select(Organization.id).where(Organization.slug == slug))
        if exists is None:
            create_org(session, actor, slug=slug, name=name, kind=kind, parent_slug=parent)
    for client, auditor in GRANTS:
        if not active_grant_exists(
            session, org_by_slug(session, client).id, org_by_slug(session, auditor).id
        ):
            grant_auditor(session, actor, client, auditor)
    users: list[DemoUser] = []
    for email, name, org_slug, role in USERS:
        password = generate_password()
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = new_user(session, actor, email=email, name=name, password=password)
        else:
            set_password(session, actor, email, password)
        org = org_by_slug(session, org_slug)
        membership = session.scalar(
            select(Membership).where(
                Membership.organization_id == org.id, Membership.user_id == user.id
            )
        )
        if membership is None or membership.role != role:
            add_member(session, actor, org_slug, email, role.value)
        users.append(DemoUser(email, name, org_slug, role, password))
    return users


# --- assessments -----------------------------------------------------------------------------
#
# Filled through the services, as the demo people would through the CLI, so that every answer,
# piece of evidence and verdict is in the audit trail. Deterministic: a seeded generator.

CIS = "cis-controls-v8.1"
CSF = "nist-csf-2.0"
ADMIN = "admin@northwind.example"
OPERATOR = "ops@northwind.example"
AUDITOR = "auditor@sentinel.example"

# status -> (lowest, highest) maturity claimed with it
MATURITY = {
    Status.NOT_IMPLEMENTED: (0, 1),
    Status.PARTIALLY: (1, 2),
    Status.LARGELY: (2, 3),
    Status.FULLY: (3, 5),
}
REJECTIONS = (
    "The linked page is a policy draft; show that the control operates (logs, reports).",
    "Evidence is older than the assessment period; provide a current export.",
    "Covers the office network only; the clinic sites are in scope too.",
    "Screenshot does not show which systems are covered.",
)


def _rng(seed: str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose


def _user_actor(session: Session, email: str, org_slug: str, via: Via) -> Actor:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return actor_in(session, user.id, user.email, via, org_slug)


def _assessed(session: Session, assessment: Assessment) -> list[tuple[str, str]]:
    framework = session.get(Framework, assessment.framework_id)
    assert framework is not None
    query = (
        select(Control.label, Control.title)
        .where(Control.id.in_(assessed_controls(assessment, framework)))
        .order_by(Control.position)
    )
    return [(label, title) for label, title in session.execute(query)]


def _pick_status(rng: random.Random, strength: float) -> Status:
    """A status for a control; `strength` (0-1) moves the mix towards fully implemented."""
    weights = [
        (Status.FULLY, 0.15 + 0.4 * strength),
        (Status.LARGELY, 0.25),
        (Status.PARTIALLY, 0.25 - 0.1 * strength),
        (Status.NOT_IMPLEMENTED, 0.25 - 0.2 * strength),
        (Status.NOT_APPLICABLE, 0.03),
    ]
    return rng.choices([s for s, _ in weights], [w for _, w in weights])[0]


def _pick_maturity(rng: random.Random, status: Status) -> int | None:
    bounds = MATURITY.get(status)
    return None if bounds is None else rng.randint(*bounds)


def _answer(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    label: str,
    status: Status,
    maturity: int | None,
) -> Answer:
    return answer_control(
        session,
        actor,
        assessment.id,
        label,
        AnswerInput(
            status=status.value,
            maturity=maturity,
            justification=(
                "No such systems in scope (no wireless / no in-house software)."
                if status is Status.NOT_APPLICABLE
                else ""
            ),
            owner_email=OPERATOR,
            implemented_by_email=OPERATOR if status is not Status.NOT_IMPLEMENTED else None,
        ),
    )


def _link(
    session: Session,
    actor: Actor,
    answer_id: int,
    label: str,
    title: str,
    host: str,
    rng: random.Random,
) -> None:
    today = date.today()
    collected = today - timedelta(days=rng.randint(5, 300))
    expires = collected + timedelta(days=rng.choice((90, 180, 365))) if rng.random() < 0.4 else None
    add_link(
        session,
        actor,
        answer_id,
        url=f"https://{host}/security/{label.lower().replace('.', '-')}",
        dates=EvidenceDates(collected, expires),
        title=f"{title}: runbook and latest report",
    )


def _answer_all(
    session: Session,
    operator: Actor,
    assessment: Assessment,
    rng: random.Random,
    *,
    strength: float,
    answered: float,
    with_evidence: float,
    host: str,
) -> list[str]:
    """The operator answers a share of the controls, most with an evidence link."""
    done: list[str] = []
    for label, title in _assessed(session, assessment):
        if rng.random() > answered:
            continue
        status = _pick_status(rng, strength)
        given = _answer(session, operator, assessment, label, status, _pick_maturity(rng, status))
        if status is not Status.NOT_APPLICABLE and rng.random() < with_evidence:
            _link(session, operator, given.id, label, title, host, rng)
        done.append(label)
    return done


def _answers_of(session: Session, assessment: Assessment) -> dict[str, Answer]:
    query = (
        select(Control.label, Answer)
        .join(Answer, Answer.control_id == Control.id)
        .where(Answer.assessment_id == assessment.id)
    )
    return {label: answer for label, answer in session.execute(query)}


def _review(
    session: Session,
    auditor: Actor,
    assessment: Assessment,
    labels: list[str],
    rng: random.Random,
    *,
    verify: float,
    reject: float,
) -> tuple[int, int]:
    """The auditor verifies a share of the answers and rejects a few, with comments. Answers
    without evidence are never verified; some of them are rejected for it."""
    verified = rejected = 0
    given = _answers_of(session, assessment)
    with_evidence = set(
        session.scalars(
            select(AnswerEvidence.answer_id).where(
                AnswerEvidence.answer_id.in_([a.id for a in given.values()])
            )
        )
    )
    for label in labels:
        answer = given[label]
        evidenced = answer.status is Status.NOT_APPLICABLE or answer.id in with_evidence
        roll = rng.random()
        if roll < reject or (not evidenced and roll < 3 * reject):
            comment = rng.choice(REJECTIONS) if evidenced else "No evidence attached."
            reject_answer(session, auditor, answer.id, comment)
            rejected += 1
        elif evidenced and roll < reject + verify:
            verify_answer(session, auditor, answer.id, "Checked the linked evidence on site.")
            verified += 1
    return verified, rejected


def _has_assessment(session: Session, slug: str) -> bool:
    org = org_by_slug(session, slug)
    found = session.scalar(select(Assessment.id).where(Assessment.organization_id == org.id))
    return found is not None


def seed_assessments(session: Session, via: Via = Via.CLI) -> list[str]:
    """Assessments for the demo clients, each only when that client has none yet.

    Contoso Dental (audited by Sentinel): a CIS v8.1 IG1 assessment in review, answered by the
    MSP's operator and partly verified, partly rejected by the Sentinel auditor; a closed CSF 2.0
    assessment (target maturity 3) and its next cycle in progress with some changes.
    Fabrikam Logistics: a draft CIS assessment with a few answers. Then the clients' asset
    registers (`seed_assets`) and risk registers (`assay.risk.demo`). Returns one line per
    assessment or register created.
    """
    lines: list[str] = []
    today = date.today()
    if not _has_assessment(session, "contoso-dental"):
        admin = _user_actor(session, ADMIN, "contoso-dental", via)
        ops = _user_actor(session, OPERATOR, "contoso-dental", via)
        auditor = _user_actor(session, AUDITOR, "contoso-dental", via)
        host = "wiki.contoso-dental.example"

        rng = _rng("contoso-csf-2025")
        csf = create_assessment(
            session,
            admin,
            NewAssessment(
                org_slug="contoso-dental",
                framework=CSF,
                name="CSF 2.0 profile 2025",
                scope="Practice management system, imaging workstations, office network.",
                owner_email=OPERATOR,
                due_on=today - timedelta(days=60),
                target_maturity=3,
            ),
        )
        change_state(session, admin, csf.id, "in_progress")
        labels = _answer_all(
            session, ops, csf, rng, strength=0.35, answered=0.95, with_evidence=0.6, host=host
        )
        change_state(session, admin, csf.id, "in_review")
        _review(session, auditor, csf, labels, rng, verify=0.6, reject=0.08)
        change_state(session, auditor, csf.id, "closed")
        lines.append(f"contoso-dental: assessment {csf.id} {csf.name} (closed)")

        nxt = clone_assessment(session, admin, csf.id, "CSF 2.0 profile 2026")
        nxt.due_on = today + timedelta(days=90)
        change_state(session, admin, nxt.id, "in_progress")
        improved = regressed = 0
        carried = _answers_of(session, nxt)
        for label in labels:
            roll = rng.random()
            old = carried[label]
            if roll < 0.15 and old.status in (Status.NOT_IMPLEMENTED, Status.PARTIALLY):
                status = Status.LARGELY if old.status is Status.PARTIALLY else Status.PARTIALLY
            elif roll < 0.22 and old.status in (Status.LARGELY, Status.PARTIALLY):
                status = Status.FULLY
            elif roll > 0.94 and old.status in (Status.FULLY, Status.LARGELY):
                status = Status.PARTIALLY
            else:
                continue
            better = list(Status).index(status) > list(Status).index(old.status)
            improved, regressed = improved + better, regressed + (not better)
            _answer(session, ops, nxt, label, status, _pick_maturity(rng, status))
        _review(session, auditor, nxt, labels[:30], rng, verify=0.5, reject=0.05)
        lines.append(
            f"contoso-dental: assessment {nxt.id} {nxt.name} (in progress, cloned from {csf.id}: "
            f"{improved} improved, {regressed} regressed)"
        )

        rng = _rng("contoso-cis-2026")
        cis = create_assessment(
            session,
            admin,
            NewAssessment(
                org_slug="contoso-dental",
                framework=CIS,
                name="CIS Controls IG1 2026",
                scope="All clinic sites: workstations, servers, cloud email, backups.",
                owner_email=OPERATOR,
                due_on=today + timedelta(days=30),
                target_ig=1,
            ),
        )
        change_state(session, admin, cis.id, "in_progress")
        labels = _answer_all(
            session, ops, cis, rng, strength=0.6, answered=0.9, with_evidence=0.85, host=host
        )
        change_state(session, admin, cis.id, "in_review")
        verified, rejected = _review(session, auditor, cis, labels, rng, verify=0.4, reject=0.12)
        lines.append(
            f"contoso-dental: assessment {cis.id} {cis.name} (in review: {len(labels)} answered, "
            f"{verified} verified, {rejected} rejected)"
        )
    if not _has_assessment(session, "fabrikam-logistics"):
        admin = _user_actor(session, ADMIN, "fabrikam-logistics", via)
        ops = _user_actor(session, OPERATOR, "fabrikam-logistics", via)
        rng = _rng("fabrikam-cis-2026")
        draft = create_assessment(
            session,
            admin,
            NewAssessment(
                org_slug="fabrikam-logistics",
                framework=CIS,
                name="CIS Controls IG2 2026",
                scope="Warehouse and fleet systems.",
                owner_email=OPERATOR,
                due_on=today + timedelta(days=120),
                target_ig=2,
            ),
        )
        for label, title in _assessed(session, draft)[:8]:
            status = _pick_status(rng, 0.4)
            given = _answer(session, ops, draft, label, status, _pick_maturity(rng, status))
            if status is not Status.NOT_APPLICABLE and rng.random() < 0.5:
                _link(session, ops, given.id, label, title, "wiki.fabrikam.example", rng)
        lines.append(f"fabrikam-logistics: assessment {draft.id} {draft.name} (draft, 8 answered)")
    lines.extend(seed_assets(session, via))
    lines.extend(seed_risks(session, via))
    lines.extend(seed_audits(session, via))
    return lines


def seed_audits(session: Session, via: Via = Via.CLI) -> list[str]:
    """Host audit runs on the demo clients' servers (see `assay.audit.demo`)."""
    from assay.audit.demo import seed_audit_runs

    people = {"operator": OPERATOR, "auditor": AUDITOR}
    return seed_audit_runs(session, lambda who, slug: _user_actor(session, people[who], slug, via))


# --- asset registers -------------------------------------------------------------------------

# Imported as a CSV file, as an MSP would bring its inventory in.
DEMO_ASSETS = {
    "contoso-dental": """\
name,kind,criticality,data_classification,identifiers,tags,description
web1,host,high,confidential,hostname:web1.contoso-dental.example;ip:10.10.1.11,dmz;portal,\
Patient portal web server (nginx) at clinic site A.
web2,host,high,confidential,hostname:web2.contoso-dental.example;ip:10.10.1.12,dmz;portal,\
Patient portal web server (nginx) at clinic site B.
pms-db,data_store,critical,restricted,hostname:pms-db.contoso-dental.local;ip:10.10.2.20,\
phi;backup,Practice management database: patient records and the imaging index.
Microsoft 365,saas,high,confidential,cloud_id:contoso-dental.onmicrosoft.com,email,\
"Mail, calendars and documents."
fw-hq,network_device,critical,internal,hostname:fw-hq.contoso-dental.local;ip:10.10.0.1,\
perimeter,Perimeter firewall of the head office.
""",
    "fabrikam-logistics": """\
name,kind,criticality,data_classification,identifiers,tags,description
www,host,medium,public,fqdn:www.fabrikam.example;ip:192.0.2.10,dmz,Public website.
tms-app,application,high,confidential,url:https://tms.fabrikam.example/,operations,\
Transport management system.
tms-db,data_store,critical,confidential,hostname:tms-db;ip:10.20.2.5,operations;backup,\
Database of the transport management system.
Salesforce,saas,medium,confidential,cloud_id:00D5e000000abcd,crm,Customer relationships.
fw-warehouse,network_device,high,internal,hostname:fw-warehouse;ip:10.20.0.1,perimeter,\
Firewall of the main warehouse.
""",
}


def seed_risks(session: Session, via: Via = Via.CLI) -> list[str]:
    """The demo clients' risk registers (see `assay.risk.demo`)."""
    from assay.risk.demo import seed_risks as seed

    return seed(session, via)


def seed_assets(session: Session, via: Via = Via.CLI) -> list[str]:
    """An asset register for each demo client that has none yet, imported by the MSP's
    operator."""
    from assay.assets.importing import import_assets
    from assay.assets.models import Asset

    lines: list[str] = []
    for slug, text in DEMO_ASSETS.items():
        org = org_by_slug(session, slug)
        if session.scalar(select(Asset.id).where(Asset.organization_id == org.id).limit(1)):
            continue
        ops = _user_actor(session, OPERATOR, slug, via)
        report = import_assets(session, ops, slug, text.encode(), f"{slug}-assets.csv")
        lines.append(f"{slug}: {len(report.created)} assets in the register")
    return lines


# --- benchmark clients -----------------------------------------------------------------------
#
# `assay demo --clients N`: N more clients of the demo MSP, each with a complete CIS v8.1 IG3
# assessment, written with bulk inserts (one INSERT ... executemany per table and batch) and one
# `demo.generate` audit event per client, so the chain stays valid.

GENERATED_PREFIX = "demo-client-"
GENERATED_BATCH = 50
GENERATED_STATES = (
    (AssessmentState.IN_PROGRESS, 0.45),
    (AssessmentState.IN_REVIEW, 0.35),
    (AssessmentState.CLOSED, 0.15),
    (AssessmentState.DRAFT, 0.05),
)


def generated_slug(number: int) -> str:
    return f"{GENERATED_PREFIX}{number:04d}"


@dataclass(frozen=True)
class _Context:
    msp_id: int
    auditor_org_id: int
    admin_id: int
    operator_id: int
    auditor_id: int
    framework_id: int
    baseline_id: int
    controls: list[tuple[int, str, str, list[int]]]  # id, label, title, implementation groups


def _generation_context(session: Session) -> _Context:
    def user_id(email: str) -> int:
        found = session.scalar(select(User.id).where(User.email == email))
        if found is None:
            raise NotFound(f"demo user {email} missing: run `assay demo` first")
        return found

    framework = get_framework(session, CIS)
    baseline_id = session.scalar(
        select(Baseline.id).where(Baseline.framework_id == framework.id, Baseline.key == "ig3")
    )
    if baseline_id is None:
        raise NotFound(f"baseline ig3 not found in {CIS}")
    rows = session.execute(
        select(Control.id, Control.label, Control.title, Control.properties)
        .join(BaselineControl, BaselineControl.control_id == Control.id)
        .where(BaselineControl.baseline_id == baseline_id, Control.withdrawn.is_(False))
        .order_by(Control.position)
    ).all()
    return _Context(
        msp_id=org_by_slug(session, MSP[0]).id,
        auditor_org_id=org_by_slug(session, "sentinel-assurance").id,
        admin_id=user_id(ADMIN),
        operator_id=user_id(OPERATOR),
        auditor_id=user_id(AUDITOR),
        framework_id=framework.id,
        baseline_id=baseline_id,
        controls=[
            (cid, label, title, list((props or {}).get("implementation-groups", [1, 2, 3])))
            for cid, label, title, props in rows
        ],
    )


def generate_clients(
    session: Session,
    actor: Actor,
    count: int,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Make sure demo-client-0001 .. demo-client-N exist, each with a full CIS v8.1 IG3
    assessment; existing ones are skipped. Returns the slugs created. `progress(k)` is called
    after every k clients handled."""
    if count < 0:
        raise InvalidInput("the number of clients must not be negative")
    wanted = [generated_slug(n) for n in range(1, count + 1)]
    existing = set(
        session.scalars(
            select(Organization.slug).where(Organization.slug.startswith(GENERATED_PREFIX))
        )
    )
    missing = [slug for slug in wanted if slug not in existing]
    if progress is not None and len(wanted) > len(missing):
        progress(len(wanted) - len(missing))
    if not missing:
        return []
    context = _generation_context(session)
    for start in range(0, len(missing), GENERATED_BATCH):
        batch = missing[start : start + GENERATED_BATCH]
        _generate_batch(session, actor, context, batch)
        if progress is not None:
            progress(len(batch))
    return missing


def _bulk(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One Core INSERT, executed for many parameter sets (executemany)."""
    table = model.__table__
    assert isinstance(table, Table)
    if rows:
        session.execute(insert(table), rows)


@dataclass
class _Planned:
    """One generated answer, with its evidence link and the auditor's verdict, if any."""

    client: int
    control_id: int
    row: dict[str, Any]
    evidence: dict[str, Any] | None = None
    verdict: AnswerState | None = None


def _plan_client(
    ctx: _Context, client: int, slug: str, org_id: int, assessment_id: int, state: AssessmentState
) -> list[_Planned]:
    """153 answers for one client: a mix of statuses and maturities (IG1 hygiene more often in
    place), evidence links on most implemented controls, and verdicts as far as the state of
    the assessment suggests an auditor has got."""
    rng = _rng(f"{slug}/answers")
    now = utcnow()
    today = date.today()
    strength = rng.random()
    audited = {
        AssessmentState.DRAFT: 0.0,
        AssessmentState.IN_PROGRESS: rng.uniform(0.0, 0.3),
        AssessmentState.IN_REVIEW: rng.uniform(0.3, 0.8),
        AssessmentState.CLOSED: rng.uniform(0.6, 0.95),
    }[state]
    rejecting = rng.uniform(0.02, 0.1) if audited else 0.0
    planned: list[_Planned] = []
    for control_id, label, title, groups in ctx.controls:
        status = _pick_status(rng, min(1.0, strength + (0.25 if 1 in groups else -0.15)))
        claimed = now - timedelta(days=rng.randint(1, 140), minutes=rng.randint(0, 1439))
        item = _Planned(
            client,
            control_id,
            {
                "organization_id": org_id,
                "assessment_id": assessment_id,
                "control_id": control_id,
                "status": status,
                "maturity": _pick_maturity(rng, status),
                "justification": (
                    "Not present in this environment." if status is Status.NOT_APPLICABLE else ""
                ),
                "notes": "",
                "owner_id": ctx.operator_id,
                "implemented_by_id": None if status is Status.NOT_IMPLEMENTED else ctx.operator_id,
                "answered_by_id": ctx.operator_id,
                "contributor_ids": [ctx.operator_id],
                "state": AnswerState.CLAIMED,
                "state_changed_at": claimed,
                "claimed_at": claimed,
                "updated_at": claimed,
            },
        )
        if status not in (Status.NOT_APPLICABLE, Status.NOT_IMPLEMENTED) and rng.random() < 0.65:
            collected = today - timedelta(days=rng.randint(3, 400))
            item.evidence = {
                "organization_id": org_id,
                "kind": EvidenceKind.LINK,
                "title": f"{title}: report",
                "url": f"https://wiki.northwind.example/{slug}/cis-{label}",
                "collected_on": collected,
                "expires_on": collected + timedelta(days=365) if rng.random() < 0.5 else None,
                "uploaded_by_id": ctx.operator_id,
                "uploaded_at": claimed,
            }
        roll = rng.random()
        if roll < rejecting:
            item.verdict = AnswerState.REJECTED
        elif roll < audited and (item.evidence is not None or status is Status.NOT_APPLICABLE):
            item.verdict = AnswerState.VERIFIED
        if item.verdict is not None:
            item.row["state"] = item.verdict
            item.row["state_changed_at"] = claimed + timedelta(days=rng.randint(1, 20))
        planned.append(item)
    return planned


def _verification(
    ctx: _Context, item: _Planned, answer_id: int, evidence_id: int | None
) -> dict[str, Any]:
    """The verdict row, with the snapshot the service would have taken."""
    row, ev = item.row, item.evidence
    content = {
        "answer": {
            "status": str(row["status"]),
            "maturity": row["maturity"],
            "justification": row["justification"],
            "notes": row["notes"],
            "owner_id": row["owner_id"],
            "implemented_by_id": row["implemented_by_id"],
        },
        "evidence": []
        if ev is None
        else [
            {
                "id": evidence_id,
                "kind": str(EvidenceKind.LINK),
                "sha256": None,
                "url": ev["url"],
                "collected_on": ev["collected_on"].isoformat(),
                "expires_on": ev["expires_on"].isoformat() if ev["expires_on"] else None,
            }
        ],
    }
    verified = item.verdict is AnswerState.VERIFIED
    return {
        "organization_id": row["organization_id"],
        "answer_id": answer_id,
        "verifier_id": ctx.auditor_id,
        "verdict": item.verdict,
        "comment": "Checked the linked report." if verified else REJECTIONS[answer_id % 4],
        "independence": Independence.EXTERNAL,
        "snapshot": content,
        "snapshot_digest": hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
        "created_at": row["state_changed_at"],
    }


def _generate_batch(session: Session, actor: Actor, ctx: _Context, slugs: list[str]) -> None:
    now = utcnow()
    today = date.today()
    _bulk(
        session,
        Organization,
        [
            {
                "slug": slug,
                "name": f"Demo Client {slug.removeprefix(GENERATED_PREFIX)}",
                "kind": OrgKind.CLIENT,
                "parent_id": ctx.msp_id,
                "created_at": now,
            }
            for slug in slugs
        ],
    )
    by_slug = dict(
        session.execute(
            select(Organization.slug, Organization.id).where(Organization.slug.in_(slugs))
        ).all()
    )
    org_ids = [by_slug[slug] for slug in slugs]
    _bulk(
        session,
        AuditorGrant,
        [
            {
                "organization_id": org_id,
                "auditor_org_id": ctx.auditor_org_id,
                "granted_by_id": ctx.admin_id,
                "granted_at": now,
            }
            for org_id in org_ids
        ],
    )
    states: list[AssessmentState] = []
    rows: list[dict[str, Any]] = []
    for slug, org_id in zip(slugs, org_ids, strict=True):
        rng = _rng(f"{slug}/assessment")
        state = rng.choices([s for s, _ in GENERATED_STATES], [w for _, w in GENERATED_STATES])[0]
        states.append(state)
        rows.append(
            {
                "organization_id": org_id,
                "framework_id": ctx.framework_id,
                "baseline_id": ctx.baseline_id,
                "name": "CIS Controls IG3 2026",
                "scope": "Generated for benchmarks.",
                "owner_id": ctx.operator_id,
                "due_on": today + timedelta(days=rng.randint(-30, 120)),
                "state": state,
                "target_ig": 3,
                "created_by_id": ctx.admin_id,
                "created_at": now - timedelta(days=150),
                "updated_at": now,
                "closed_at": now if state is AssessmentState.CLOSED else None,
            }
        )
    _bulk(session, Assessment, rows)
    by_org = dict(
        session.execute(
            select(Assessment.organization_id, Assessment.id).where(
                Assessment.organization_id.in_(org_ids)
            )
        ).all()
    )
    assessment_ids = [by_org[org_id] for org_id in org_ids]
    planned = [
        item
        for client, (slug, org_id, assessment_id, state) in enumerate(
            zip(slugs, org_ids, assessment_ids, states, strict=True)
        )
        for item in _plan_client(ctx, client, slug, org_id, assessment_id, state)
    ]
    _bulk(session, Answer, [item.row for item in planned])
    answer_ids = {
        (assessment_id, control_id): answer_id
        for answer_id, assessment_id, control_id in session.execute(
            select(Answer.id, Answer.assessment_id, Answer.control_id).where(
                Answer.assessment_id.in_(assessment_ids)
            )
        )
    }
    _bulk(session, Evidence, [item.evidence for item in planned if item.evidence is not None])
    evidence_ids = dict(
        session.execute(
            select(Evidence.url, Evidence.id).where(
                Evidence.organization_id.in_(org_ids), Evidence.kind == EvidenceKind.LINK
            )
        ).all()
    )
    links: list[dict[str, Any]] = []
    verdicts: list[dict[str, Any]] = []
    counts: Counter[tuple[int, str]] = Counter()
    for item in planned:
        answer_id = answer_ids[(item.row["assessment_id"], item.control_id)]
        evidence_id = evidence_ids[item.evidence["url"]] if item.evidence else None
        if evidence_id is not None:
            links.append(
                {
                    "answer_id": answer_id,
                    "evidence_id": evidence_id,
                    "organization_id": item.row["organization_id"],
                    "linked_by_id": ctx.operator_id,
                    "linked_at": item.row["claimed_at"],
                }
            )
            counts[(item.client, "evidence")] += 1
        if item.verdict is not None:
            verdicts.append(_verification(ctx, item, answer_id, evidence_id))
            counts[(item.client, str(item.verdict))] += 1
    _bulk(session, AnswerEvidence, links)
    _bulk(session, Verification, verdicts)
    for client, (slug, org_id, assessment_id) in enumerate(
        zip(slugs, org_ids, assessment_ids, strict=True)
    ):
        record(
            session,
            actor,
            "demo.generate",
            organization_id=org_id,
            object_type="organization",
            object_id=org_id,
            detail={
                "slug": slug,
                "assessment": assessment_id,
                "state": str(states[client]),
                "answers": len(ctx.controls),
                "evidence": counts[(client, "evidence")],
                "verified": counts[(client, str(AnswerState.VERIFIED))],
                "rejected": counts[(client, str(AnswerState.REJECTED))],
            },
        )
