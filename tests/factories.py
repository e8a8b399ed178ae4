"""Builders for test data. Users share one precomputed argon2 hash so worlds build fast."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.accounts.secrets import hash_password
from assay.auth.actor import Actor, Via
from assay.db.engine import unit_of_work
from assay.tenancy.access import actor_for_membership
from assay.tenancy.models import AuditorGrant, Membership, Organization, OrgKind, Role

PASSWORD = "correct-horse-battery-staple"
SYSTEM = Actor.system("cli:test")


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)


def make_org(
    session: Session, slug: str, kind: OrgKind, parent: Organization | None = None
) -> Organization:
    org = Organization(
        slug=slug,
        name=slug.replace("-", " ").title(),
        kind=kind,
        parent_id=parent.id if parent else None,
    )
    session.add(org)
    session.flush()
    return org


def make_user(session: Session, email: str, name: str | None = None) -> User:
    user = User(email=email, name=name or email.split("@")[0], password_hash=password_hash())
    session.add(user)
    session.flush()
    return user


def make_member(session: Session, org: Organization, user: User, role: Role) -> Membership:
    membership = Membership(organization_id=org.id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    return membership


@dataclass
class World:
    """Two MSPs with clients, a granted and an ungranted auditor firm, a user per role in each."""

    orgs: dict[str, Organization] = field(default_factory=dict)
    users: dict[tuple[str, Role], User] = field(default_factory=dict)
    memberships: dict[tuple[str, Role], Membership] = field(default_factory=dict)

    def user(self, slug: str, role: Role) -> User:
        return self.users[(slug, role)]

    def actor(self, slug: str, role: Role, via: Via = Via.API) -> Actor:
        membership = self.memberships[(slug, role)]
        membership.organization = self.orgs[slug]
        return actor_for_membership(membership, self.users[(slug, role)].email, via)


def build_world(session: Session) -> World:
    world = World()
    msp = make_org(session, "northwind", OrgKind.MSP)
    world.orgs["northwind"] = msp
    world.orgs["client-a"] = make_org(session, "client-a", OrgKind.CLIENT, msp)
    world.orgs["client-b"] = make_org(session, "client-b", OrgKind.CLIENT, msp)
    world.orgs["sentinel"] = make_org(session, "sentinel", OrgKind.AUDITOR)
    world.orgs["watchtower"] = make_org(session, "watchtower", OrgKind.AUDITOR)
    world.orgs["otherco"] = make_org(session, "otherco", OrgKind.MSP)
    world.orgs["client-z"] = make_org(session, "client-z", OrgKind.CLIENT, world.orgs["otherco"])
    for slug, org in world.orgs.items():
        for role in Role:
            user = make_user(session, f"{role.value.replace('_', '-')}@{slug}.test")
            world.users[(slug, role)] = user
            world.memberships[(slug, role)] = make_member(session, org, user, role)
    session.add(
        AuditorGrant(
            organization_id=world.orgs["client-a"].id, auditor_org_id=world.orgs["sentinel"].id
        )
    )
    session.flush()
    return world


# --- catalogs ------------------------------------------------------------------------------

# A small catalog in the shape of NIST SP 800-53 (labels with parentheses), with a crosswalk to
# CSF 2.0 so that CIS Controls reach it only in two hops (CIS -> CSF -> this).
MINI_CATALOG_KEY = "test-sp800-53-mini"
MINI_CATALOG_YAML = b"""\
format: assay/framework/v1
id: test-sp800-53-mini
name: Test Security Controls
version: "5"
levels: [family, control, enhancement]
controls:
  - id: AC
    kind: family
    title: Access Control
    controls:
      - id: AC-2
        kind: control
        title: Account Management
        description: Manage system accounts through their whole life.
        controls:
          - id: AC-2(1)
            kind: enhancement
            title: Automated System Account Management
          - id: AC-2(10)
            kind: enhancement
            title: Shared and Group Account Credential Change
            withdrawn: true
baselines:
  - id: low
    name: Low impact
    controls: [AC-2]
"""
MINI_MAPPING_YAML = b"""\
format: assay/mapping/v1
id: test-sp800-53-mini--nist-csf-2.0
name: Test controls to CSF 2.0
version: "1"
source_framework: test-sp800-53-mini
target_framework: nist-csf-2.0
mappings:
  - {source: AC-2, target: PR.AA-01, relationship: intersects-with}
  - {source: AC-2(1), target: PR.AA-01, relationship: subset-of}
"""


def load_catalogs(engine: Engine | None = None) -> None:
    """Load the built-in catalogs (CSF 2.0, CIS v8.1 and their crosswalk) and commit them."""
    with unit_of_work(engine) as session:
        sync_catalogs(session)


_BUILTIN_ROWS: dict[str, list[dict[str, Any]]] = {}
"""What `sync_builtin` wrote into an empty database, by table, kept once per test process."""


def sync_catalogs(session: Session) -> None:
    """`sync_builtin` into `session`. Into a database with no catalog and no audit event yet
    (every test starts with one), the rows the first real load of this process wrote are
    inserted again as they were, ids and audit chain included: the same result in a tenth of the
    time (loading the catalogs costs 0.1 s on SQLite and 0.3 s on PostgreSQL a test)."""
    from sqlalchemy import func, insert, select

    from assay.auditlog.models import AuditEvent
    from assay.catalog.models import Framework
    from assay.catalog.service import sync_builtin
    from assay.db.registry import Base

    empty = all(
        session.scalar(select(func.count()).select_from(model)) == 0
        for model in (Framework, AuditEvent)
    )
    if not empty:
        sync_builtin(session, SYSTEM)
        return
    if not _BUILTIN_ROWS:
        sync_builtin(session, SYSTEM)
        session.flush()
        for table in Base.metadata.sorted_tables:
            if table.name in _CATALOG_TABLES:
                rows = session.execute(select(table).order_by(*table.primary_key.columns))
                _BUILTIN_ROWS[table.name] = [dict(row._mapping) for row in rows]
        return
    for table in Base.metadata.sorted_tables:
        if _BUILTIN_ROWS.get(table.name):
            session.execute(insert(table), _BUILTIN_ROWS[table.name])


_CATALOG_TABLES = frozenset(
    {
        "frameworks",
        "controls",
        "control_ancestors",
        "baselines",
        "baseline_controls",
        "mapping_sets",
        "mappings",
        "audit_events",
    }
)


def load_mini_catalog(engine: Engine | None = None) -> None:
    """Import the small SP 800-53-shaped catalog above and its crosswalk to CSF 2.0 (which
    must be loaded already), as an operator would with `assay catalog import`."""
    from assay.catalog.service import import_file

    with unit_of_work(engine) as session:
        import_file(session, SYSTEM, MINI_CATALOG_YAML, "test-sp800-53-mini.yaml")
        import_file(session, SYSTEM, MINI_MAPPING_YAML, "test-sp800-53-mini--csf.yaml")


# --- assessments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentObjects:
    """Ids of a CIS v8.1 IG1 assessment of one client: the assessment, its next cycle, the
    answer to 1.1 (by the client's IT operator) and a file attached to it (by the same)."""

    assessment_id: int
    next_id: int
    answer_id: int
    evidence_id: int


def make_assessment(
    session: Session,
    world: World,
    slug: str,
    *,
    name: str = "2026 CIS review",
    notes: str = "",
    filename: str = "inventory.txt",
) -> AssessmentObjects:
    """Build (and commit) an assessment of `slug` through the services; catalogs must be
    loaded. The next cycle is cloned before anything else changes the first."""
    import io
    from datetime import date

    from assay.assess import answers, evidence, workflow

    admin = world.actor("northwind", Role.ADMIN)
    operator = world.actor(slug, Role.IT_OPERATOR)
    first = workflow.create_assessment(
        session,
        admin,
        workflow.NewAssessment(
            org_slug=slug, framework="cis-controls-v8.1", name=name, target_ig=1
        ),
    )
    answer = answers.answer_control(
        session, operator, first.id, "1.1", answers.AnswerInput("fully", 3, notes=notes)
    )
    stored = evidence.add_file(
        session,
        operator,
        answer.id,
        filename=filename,
        stream=io.BytesIO(f"{slug} evidence".encode()),
        dates=evidence.EvidenceDates(date(2026, 1, 5)),
    )
    second = workflow.clone_assessment(session, admin, first.id, f"{name} (next cycle)")
    session.commit()
    return AssessmentObjects(first.id, second.id, answer.id, stored.id)


# --- assets and host audit runs -----------------------------------------------------------------


def make_asset(session: Session, world: World, slug: str, name: str, hostname: str) -> Any:
    """A host asset of `slug` with its host name as identifier (flushed, not committed)."""
    from assay.assets.models import (
        Asset,
        AssetIdentifier,
        AssetKind,
        Criticality,
        DataClassification,
        IdentifierKind,
    )

    org = world.orgs[slug]
    asset = Asset(
        organization_id=org.id,
        name=name,
        kind=AssetKind.HOST,
        criticality=Criticality.HIGH,
        data_classification=DataClassification.INTERNAL,
        tags=[],
    )
    session.add(asset)
    session.flush()
    session.add(
        AssetIdentifier(
            asset_id=asset.id, organization_id=org.id, kind=IdentifierKind.HOSTNAME, value=hostname
        )
    )
    session.flush()
    return asset


def run_document(statuses: dict[str, str], target: str = "ssh:root@web1:22") -> dict[str, Any]:
    """A finished run as `assay audit host --json` prints it, with these check statuses."""
    return {
        "target": target,
        "started_at": "2026-11-20T09:00:00+00:00",
        "seconds": 1.2,
        "results": [
            {
                "id": check_id,
                "area": check_id.split(".")[0],
                "title": check_id,
                "severity": "high",
                "status": status,
                "observed": f"observed for {check_id}",
                "expected": "as expected",
                "reason": "not there" if status == "not_applicable" else "",
                "locations": [{"path": "/etc/shadow", "line": 2}],
            }
            for check_id, status in statuses.items()
        ],
    }


def make_audit_runs(
    session: Session, world: World, slug: str, asset_name: str, hostname: str
) -> tuple[int, int]:
    """An asset of `slug` with two runs by its IT operator, the second with a regression;
    committed. Returns both run ids."""
    from assay.audit import service
    from assay.audit.submission import SubmittedRun

    make_asset(session, world, slug, asset_name, hostname)
    operator = world.actor(slug, Role.IT_OPERATOR)
    ids = []
    for status in ("pass", "fail"):
        run = SubmittedRun.model_validate(run_document({"accounts.no_empty_passwords": status}))
        ids.append(service.store_run(session, operator, slug, asset_name, run).run.id)
    session.commit()
    return ids[0], ids[1]
