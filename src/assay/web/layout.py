"""What the frame of every signed-in page shows: who is signed in, the organization switcher and
the tabs of the current organization."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.auth.actor import Actor, Via
from assay.tenancy.access import actor_for_slug, reachable_orgs
from assay.tenancy.models import Organization, OrgKind
from assay.web.permissions import permitted
from assay.web.session import Visitor


@dataclass(frozen=True)
class OrgChoice:
    slug: str
    name: str
    kind: OrgKind


@dataclass(frozen=True)
class Tab:
    label: str
    href: str
    active: bool


@dataclass(frozen=True)
class Chrome:
    """The header of a signed-in page."""

    email: str
    name: str
    csrf_token: str
    orgs: list[OrgChoice]
    current: str | None
    section: str | None = None  # the header link to mark as current ("catalogs")


# The switcher lists the user's own organizations and the first clients they reach; an MSP's
# other clients are a page away, on its overview.
SWITCHER_REACHED = 40


def chrome_for(
    db: Session, visitor: Visitor, current: str | None = None, *, section: str | None = None
) -> Chrome:
    reachable = reachable_orgs(
        db, visitor.user.id, visitor.user.email, Via.WEB, limit=SWITCHER_REACHED
    )
    orgs = [OrgChoice(org.slug, org.name, org.kind) for org, _actor in reachable]
    if current is not None and all(choice.slug != current for choice in orgs):
        # the page's own organization, reached beyond the first ones (and only if reached)
        user = visitor.user
        if actor_for_slug(db, user.id, user.email, Via.WEB, current) is not None:
            shown = db.scalar(select(Organization).where(Organization.slug == current))
            if shown is not None:
                orgs.append(OrgChoice(shown.slug, shown.name, shown.kind))
    return Chrome(visitor.user.email, visitor.user.name, visitor.csrf_token, orgs, current, section)


def org_tabs(db: Session, actor: Actor, org: Organization, active: str) -> list[Tab]:
    """Tabs of an organization's pages; a tab shows only when the policy lets the actor in."""
    base = f"/orgs/{org.slug}"
    tabs = [Tab("Overview", base, active == "overview")]
    if permitted(db, actor, "member.view", org):
        tabs.append(Tab("Members", f"{base}/members", active == "members"))
    if permitted(db, actor, "audit.view", org):
        tabs.append(Tab("Audit trail", f"{base}/audit", active == "audit"))
    if _shows_assessments(db, actor, org):
        tabs.insert(1, Tab("Assessments", f"{base}/assessments", active == "assessments"))
    if org.kind is OrgKind.CLIENT and permitted(db, actor, "asset.view", org):
        after = 2 if len(tabs) > 1 and tabs[1].label == "Assessments" else 1
        tabs.insert(after, Tab("Assets", f"{base}/assets", active == "assets"))
    if org.kind is OrgKind.CLIENT and permitted(db, actor, "audit_run.view", org):
        after = next((i + 1 for i, tab in enumerate(tabs) if tab.label == "Assets"), len(tabs))
        tabs.insert(after, Tab("Host audits", f"{base}/audits", active == "audits"))
    if _shows_risks(db, actor, org):
        after = max(
            (i + 1 for i, tab in enumerate(tabs) if tab.label in ("Assets", "Host audits")),
            default=2 if len(tabs) > 1 and tabs[1].label == "Assessments" else 1,
        )
        tabs.insert(after, Tab("Risks", f"{base}/risks", active == "risks"))
    return tabs


def _shows_risks(db: Session, actor: Actor, org: Organization) -> bool:
    """A client's risk register; for an MSP, the portfolio of its clients' risks."""
    return org.kind is not OrgKind.AUDITOR and permitted(db, actor, "risk.view", org)


def _shows_assessments(db: Session, actor: Actor, org: Organization) -> bool:
    """A client's assessments; for an MSP or an auditor firm, the overview of its clients'."""
    if org.kind is OrgKind.CLIENT:
        return permitted(db, actor, "assessment.view", org)
    return org.id == actor.organization_id
