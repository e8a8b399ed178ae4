"""The risk register of a client organization: create, change, delete, read and list risks,
accept them, and reopen risks whose acceptance expired.

Each call takes a Session and an Actor and is authorized through `tenancy.access`: reading
needs `risk.view`, changing `risk.manage`, accepting `risk.accept` (auth/policy.yaml: only the
client's executives and administrators, or its MSP's administrators). A risk out of the actor's
reach is not found. Every change writes an audit event in the caller's transaction. Inputs are
checked by `risk.inputs` (errors name the field) before anything is written.

Acceptances expire: `expire_acceptances` ends every acceptance whose expiry date has passed,
puts its risk back to `open` and records `risk.acceptance_expired`. The read paths (list, show,
simulations, portfolios, heat map) call it first, in the same transaction, so nobody reads an
acceptance that no longer holds; `assay risk expire` runs it for every organization (cron).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.assets.models import Asset
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.catalog.models import Control, Framework
from assay.db.base import utcnow
from assay.errors import Conflict, InvalidInput, PermissionDenied
from assay.risk import inputs
from assay.risk.estimates import FieldError
from assay.risk.inputs import ControlSpec, clean_text
from assay.risk.matrix import Level, matrix
from assay.risk.models import (
    AcceptanceEnd,
    EffectTarget,
    Risk,
    RiskAcceptance,
    RiskAsset,
    RiskControl,
    RiskStatus,
    Treatment,
)
from assay.tenancy.access import authorize_owner, authorize_slug
from assay.tenancy.models import Membership, Organization, OrgKind

MAX_ACCEPTANCE_DAYS = 3 * 365 + 1
"""An acceptance runs for at most three years (then the risk is decided again)."""
ACTIVE = (
    RiskStatus.OPEN,
    RiskStatus.MITIGATING,
    RiskStatus.ACCEPTED,
    RiskStatus.TRANSFERRED,
)
"""Statuses shown on the heat map: every risk not closed or avoided."""
CARRIED = (RiskStatus.OPEN, RiskStatus.MITIGATING, RiskStatus.ACCEPTED)
"""Statuses whose losses the organization bears: those a portfolio sums."""
_CHUNK = 500  # values per IN (...) query


def require_client(org: Organization) -> None:
    if org.kind is not OrgKind.CLIENT:
        raise InvalidInput(f"'{org.slug}' is not a client organization; risks belong to clients")


def organization_of(session: Session, risk_id: int) -> int | None:
    """The organization owning a risk (no authorization: to pick the acting membership)."""
    return session.scalar(select(Risk.organization_id).where(Risk.id == risk_id))


def load_risk(
    session: Session, actor: Actor, risk_id: int, action: str = "risk.view"
) -> tuple[Risk, Organization]:
    """The risk and its organization, once `action` is authorized there."""
    risk = session.get(Risk, risk_id)
    owner = risk.organization_id if risk is not None else None
    org, _ = authorize_owner(session, actor, action, owner, f"risk {risk_id} not found")
    assert risk is not None  # an owner was found
    return risk, org


# --- resolving references -------------------------------------------------------------------


def _owner(session: Session, org: Organization, owner: str | None) -> tuple[str | None, int | None]:
    """An owner that is the email of a member of the organization (or of its MSP) links that
    user; anything else is kept as free text."""
    if owner is None or "@" not in owner:
        return owner, None
    user = session.scalar(select(User).where(User.email == owner.strip().lower()))
    if user is None:
        return owner, None
    orgs = [org.id] + ([org.parent_id] if org.parent_id else [])
    member = session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id, Membership.organization_id.in_(orgs)
        )
    )
    return (user.email, user.id) if member is not None else (owner, None)


def _asset_ids(session: Session, org: Organization, refs: Sequence[int | str]) -> list[int]:
    ids = [ref for ref in refs if isinstance(ref, int)]
    names = [ref for ref in refs if isinstance(ref, str)]
    by_id: set[int] = set()
    by_name: dict[str, int] = {}
    if ids:
        by_id = set(
            session.scalars(
                select(Asset.id).where(Asset.organization_id == org.id, Asset.id.in_(ids))
            )
        )
    if names:
        named = select(Asset.name, Asset.id).where(
            Asset.organization_id == org.id, Asset.name.in_(names)
        )
        by_name = {name: asset_id for name, asset_id in session.execute(named)}
    found: list[int] = []
    for index, ref in enumerate(refs):
        asset_id = by_name.get(ref) if isinstance(ref, str) else (ref if ref in by_id else None)
        if asset_id is None:
            what = (
                f"no asset named {inputs.shown(ref)}" if isinstance(ref, str) else f"no asset {ref}"
            )
            raise FieldError(f"assets[{index}]", f"{what} in '{org.slug}'")
        if asset_id not in found:
            found.append(asset_id)
    return found


@dataclass(frozen=True)
class _ResolvedControl:
    spec: ControlSpec
    control_id: int


def _controls(session: Session, specs: Sequence[ControlSpec]) -> list[_ResolvedControl]:
    """Each spec's catalog control: an assessable control of a loaded framework (a CIS
    safeguard, a CSF subcategory, an SP 800-53 control...), not withdrawn."""
    frameworks: dict[str, Framework | None] = {}
    resolved = []
    for index, spec in enumerate(specs):
        where = f"controls[{index}]"
        if spec.framework not in frameworks:
            frameworks[spec.framework] = session.scalar(
                select(Framework).where(Framework.key == spec.framework)
            )
        framework = frameworks[spec.framework]
        if framework is None:
            raise FieldError(where, f"framework {inputs.shown(spec.framework)} is not loaded")
        control = session.scalar(
            select(Control).where(Control.framework_id == framework.id, Control.label == spec.label)
        )
        if control is None:
            raise FieldError(where, f"{framework.key} has no control {inputs.shown(spec.label)}")
        if control.withdrawn or control.level not in framework.assessable:
            raise FieldError(
                where,
                f"{spec.reference} is not an assessed control of {framework.key} "
                "(link the controls assessments answer: CIS safeguards, CSF subcategories...)",
            )
        resolved.append(_ResolvedControl(spec, control.id))
    return resolved


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetRef:
    id: int
    name: str


@dataclass(frozen=True)
class LinkedControl:
    """A control linked to a risk, as stored (its credit is computed by `risk.credit`)."""

    id: int
    control_id: int
    framework: str
    label: str
    title: str
    effect: EffectTarget
    low: float
    mode: float
    high: float

    @property
    def reference(self) -> str:
        return f"{self.framework}:{self.label}"


@dataclass(frozen=True)
class AcceptanceView:
    id: int
    accepted_by: str
    reason: str
    expires_on: date
    created_at: Any
    ended_at: Any
    ended_reason: AcceptanceEnd | None

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accepted_by": self.accepted_by,
            "reason": self.reason,
            "expires_on": self.expires_on.isoformat(),
            "created_at": self.created_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_reason": str(self.ended_reason) if self.ended_reason else None,
        }


def level_dict(likelihood: int | None, impact: int | None) -> dict[str, Any] | None:
    if likelihood is None or impact is None:
        return None
    chosen = matrix()
    level: Level = chosen.level(likelihood, impact)
    return {
        "likelihood": likelihood,
        "likelihood_name": chosen.likelihood_step(likelihood).name,
        "impact": impact,
        "impact_name": chosen.impact_step(impact).name,
        "level": level.value,
        "level_name": level.name,
    }


@dataclass(frozen=True)
class RiskView:
    """A risk with what it links to, as the interfaces show it."""

    risk: Risk
    organization: Organization
    assets: list[AssetRef] = field(default_factory=list)
    controls: list[LinkedControl] = field(default_factory=list)
    acceptances: list[AcceptanceView] = field(default_factory=list)

    @property
    def active_acceptance(self) -> AcceptanceView | None:
        return next((a for a in self.acceptances if a.active), None)

    def to_dict(self) -> dict[str, Any]:
        out = risk_dict(self.risk, self.organization.slug)
        out["assets"] = [{"id": a.id, "name": a.name} for a in self.assets]
        out["controls"] = [
            {
                "id": c.id,
                "control": c.reference,
                "framework": c.framework,
                "label": c.label,
                "title": c.title,
                "effect": str(c.effect),
                "min": c.low,
                "mode": c.mode,
                "max": c.high,
            }
            for c in self.controls
        ]
        out["acceptances"] = [a.to_dict() for a in self.acceptances]
        active = self.active_acceptance
        out["acceptance"] = active.to_dict() if active else None
        return out


def risk_dict(risk: Risk, org_slug: str) -> dict[str, Any]:
    """The risk's own fields as JSON-ready values."""
    return {
        "id": risk.id,
        "organization": org_slug,
        "title": risk.title,
        "threat_actor": risk.threat_actor,
        "threat_event": risk.threat_event,
        "weakness": risk.weakness,
        "description": risk.description,
        "owner": risk.owner,
        "owner_is_user": risk.owner_id is not None,
        "treatment": str(risk.treatment) if risk.treatment else None,
        "status": str(risk.status),
        "due_on": risk.due_on.isoformat() if risk.due_on else None,
        "inherent": level_dict(risk.inherent_likelihood, risk.inherent_impact),
        "residual": level_dict(risk.residual_likelihood, risk.residual_impact),
        "fair": risk.fair,
        "tolerance": risk.tolerance,
        "created_at": risk.created_at.isoformat(),
        "updated_at": risk.updated_at.isoformat(),
    }


def linked_controls(session: Session, risk_ids: Collection[int]) -> dict[int, list[LinkedControl]]:
    """The controls of each risk, in a stable order (framework, label, effect)."""
    found: dict[int, list[LinkedControl]] = {risk_id: [] for risk_id in risk_ids}
    ids = sorted(found)
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(RiskControl, Control.label, Control.title, Framework.key)
            .join(Control, Control.id == RiskControl.control_id)
            .join(Framework, Framework.id == Control.framework_id)
            .where(RiskControl.risk_id.in_(ids[start : start + _CHUNK]))
        )
        for link, label, title, key in session.execute(query):
            found[link.risk_id].append(
                LinkedControl(
                    id=link.id,
                    control_id=link.control_id,
                    framework=key,
                    label=label,
                    title=title,
                    effect=link.effect,
                    low=link.reduction_min,
                    mode=link.reduction_mode,
                    high=link.reduction_max,
                )
            )
    order = list(EffectTarget)
    for links in found.values():
        links.sort(key=lambda c: (c.framework, c.label, order.index(c.effect)))
    return found


def _view(session: Session, risk: Risk, org: Organization) -> RiskView:
    assets = session.execute(
        select(Asset.id, Asset.name)
        .join(RiskAsset, RiskAsset.asset_id == Asset.id)
        .where(RiskAsset.risk_id == risk.id)
        .order_by(func.lower(Asset.name), Asset.id)
    )
    acceptances = session.execute(
        select(RiskAcceptance, User.email)
        .join(User, User.id == RiskAcceptance.accepted_by_id)
        .where(RiskAcceptance.risk_id == risk.id)
        .order_by(RiskAcceptance.id.desc())
    )
    return RiskView(
        risk=risk,
        organization=org,
        assets=[AssetRef(asset_id, name) for asset_id, name in assets],
        controls=linked_controls(session, [risk.id])[risk.id],
        acceptances=[
            AcceptanceView(
                a.id, email, a.reason, a.expires_on, a.created_at, a.ended_at, a.ended_reason
            )
            for a, email in acceptances
        ],
    )


def get_risk(session: Session, actor: Actor, risk_id: int) -> RiskView:
    """A risk with its assets, controls and acceptances (expired acceptances ended first)."""
    risk, org = load_risk(session, actor, risk_id)
    expire_acceptances(session, actor, [org.id])
    return _view(session, risk, org)


def list_risks(
    session: Session,
    actor: Actor,
    org_slug: str,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Risk], int]:
    """A page of the register (highest inherent level first, then newest) and the total."""
    org = authorize_slug(session, actor, "risk.view", org_slug)
    require_client(org)
    expire_acceptances(session, actor, [org.id])
    query = select(Risk).where(Risk.organization_id == org.id)
    if status is not None:
        query = query.where(Risk.status == inputs.parse_choice("status", RiskStatus, status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(
        (Risk.inherent_likelihood * Risk.inherent_impact).desc(), Risk.id.desc()
    )
    return list(session.scalars(ordered.limit(limit).offset(offset))), total


# --- writing --------------------------------------------------------------------------------


def _audit_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Treatment | RiskStatus | EffectTarget):
        return str(value)
    return value


def _spec_dict(spec: ControlSpec) -> dict[str, Any]:
    return {
        "control": spec.reference,
        "effect": str(spec.effect),
        "min": spec.low,
        "mode": spec.mode,
        "max": spec.high,
    }


def _link_controls(risk: Risk, session: Session, controls: Sequence[_ResolvedControl]) -> None:
    for resolved in controls:
        session.add(
            RiskControl(
                organization_id=risk.organization_id,
                risk_id=risk.id,
                control_id=resolved.control_id,
                effect=resolved.spec.effect,
                reduction_min=resolved.spec.low,
                reduction_mode=resolved.spec.mode,
                reduction_max=resolved.spec.high,
            )
        )


def _link_assets(risk: Risk, session: Session, asset_ids: Iterable[int]) -> None:
    for asset_id in asset_ids:
        session.add(
            RiskAsset(risk_id=risk.id, asset_id=asset_id, organization_id=risk.organization_id)
        )


COLUMNS = (
    *inputs.TEXT_FIELDS,
    "owner",
    "treatment",
    "status",
    "due_on",
    *inputs.STEP_FIELDS,
    "fair",
    "tolerance",
)


def create_risk(session: Session, actor: Actor, org_slug: str, data: Mapping[str, object]) -> Risk:
    """Add a risk to a client's register. Required: title, inherent likelihood and impact;
    status defaults to open and can never be `accepted` here (that takes an acceptance)."""
    org = authorize_slug(session, actor, "risk.manage", org_slug)
    require_client(org)
    cleaned = inputs.clean_fields(data, partial=False)
    if cleaned.get("status") is RiskStatus.ACCEPTED:
        raise FieldError("status", "a risk becomes accepted only through an acceptance")
    owner, owner_id = _owner(session, org, cleaned.get("owner"))
    asset_ids = _asset_ids(session, org, cleaned.get("assets", []))
    controls = _controls(session, cleaned.get("controls", []))
    now = utcnow()
    risk = Risk(
        organization_id=org.id,
        title=cleaned["title"],
        threat_actor=cleaned.get("threat_actor", ""),
        threat_event=cleaned.get("threat_event", ""),
        weakness=cleaned.get("weakness", ""),
        description=cleaned.get("description", ""),
        owner=owner,
        owner_id=owner_id,
        treatment=cleaned.get("treatment"),
        status=cleaned.get("status") or RiskStatus.OPEN,
        due_on=cleaned.get("due_on"),
        inherent_likelihood=cleaned["inherent_likelihood"],
        inherent_impact=cleaned["inherent_impact"],
        residual_likelihood=cleaned.get("residual_likelihood"),
        residual_impact=cleaned.get("residual_impact"),
        fair=cleaned.get("fair"),
        tolerance=cleaned.get("tolerance"),
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(risk)
    session.flush()
    _link_assets(risk, session, asset_ids)
    _link_controls(risk, session, controls)
    session.flush()
    detail = {column: _audit_value(getattr(risk, column)) for column in COLUMNS}
    detail["assets"] = asset_ids
    detail["controls"] = [_spec_dict(c.spec) for c in controls]
    record(
        session,
        actor,
        "risk.create",
        organization_id=org.id,
        object_type="risk",
        object_id=risk.id,
        detail=detail,
    )
    return risk


def _end_active(
    session: Session, risk: Risk, reason: AcceptanceEnd, *, except_id: int | None = None
) -> list[int]:
    """End the risk's active acceptance(s); their ids."""
    query = select(RiskAcceptance.id).where(
        RiskAcceptance.risk_id == risk.id, RiskAcceptance.ended_at.is_(None)
    )
    ended = [a for a in session.scalars(query) if a != except_id]
    if ended:
        session.execute(
            update(RiskAcceptance)
            .where(RiskAcceptance.id.in_(ended))
            .values(ended_at=utcnow(), ended_reason=reason)
        )
    return ended


def update_risk(
    session: Session, actor: Actor, risk_id: int, changes: Mapping[str, object]
) -> Risk:
    """Change the fields given (assets and controls replace the whole list). A risk leaves
    `accepted` by any other status (its acceptance is then revoked), never enters it here."""
    risk, org = load_risk(session, actor, risk_id, "risk.manage")
    expire_acceptances(session, actor, [org.id])
    cleaned = inputs.clean_fields(changes, partial=True)
    status = cleaned.get("status")
    if status is RiskStatus.ACCEPTED and risk.status is not RiskStatus.ACCEPTED:
        raise FieldError("status", "a risk becomes accepted only through an acceptance")
    if "owner" in cleaned:
        cleaned["owner"], cleaned["owner_id"] = _owner(session, org, cleaned["owner"])
    asset_ids = _asset_ids(session, org, cleaned["assets"]) if "assets" in cleaned else None
    controls = _controls(session, cleaned["controls"]) if "controls" in cleaned else None
    changed: dict[str, Any] = {}
    for column in (*COLUMNS, "owner_id"):
        if column in cleaned and getattr(risk, column) != cleaned[column]:
            old = getattr(risk, column)
            changed[column] = [_audit_value(old), _audit_value(cleaned[column])]
            setattr(risk, column, cleaned[column])
    changed.pop("owner_id", None)
    if asset_ids is not None:
        before = list(
            session.scalars(select(RiskAsset.asset_id).where(RiskAsset.risk_id == risk.id))
        )
        if set(before) != set(asset_ids):
            changed["assets"] = [sorted(before), sorted(asset_ids)]
            session.execute(delete(RiskAsset).where(RiskAsset.risk_id == risk.id))
            _link_assets(risk, session, asset_ids)
    if controls is not None:
        before_controls = [
            {
                "control": c.reference,
                "effect": str(c.effect),
                "min": c.low,
                "mode": c.mode,
                "max": c.high,
            }
            for c in linked_controls(session, [risk.id])[risk.id]
        ]
        after_controls = [_spec_dict(c.spec) for c in controls]
        key = _control_key
        if sorted(before_controls, key=key) != sorted(after_controls, key=key):
            changed["controls"] = [before_controls, after_controls]
            session.execute(delete(RiskControl).where(RiskControl.risk_id == risk.id))
            _link_controls(risk, session, controls)
    if not changed:
        return risk
    risk.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "risk.update",
        organization_id=org.id,
        object_type="risk",
        object_id=risk.id,
        detail={"changes": changed},
    )
    if "status" in changed and changed["status"][0] == RiskStatus.ACCEPTED.value:
        for acceptance_id in _end_active(session, risk, AcceptanceEnd.REVOKED):
            record(
                session,
                actor,
                "risk.acceptance_revoked",
                organization_id=org.id,
                object_type="risk",
                object_id=risk.id,
                detail={"acceptance": acceptance_id, "status": changed["status"][1]},
            )
    return risk


def _control_key(item: Mapping[str, Any]) -> tuple[str, str]:
    return (str(item["control"]), str(item["effect"]))


def delete_risk(session: Session, actor: Actor, risk_id: int) -> None:
    """Remove a risk with its links and acceptances (the audit trail records what it was)."""
    risk, org = load_risk(session, actor, risk_id, "risk.manage")
    view = _view(session, risk, org)
    detail = view.to_dict()
    for key in ("id", "organization", "created_at", "updated_at", "owner_is_user"):
        detail.pop(key, None)
    session.delete(risk)
    session.flush()
    record(
        session,
        actor,
        "risk.delete",
        organization_id=org.id,
        object_type="risk",
        object_id=risk_id,
        detail=detail,
    )


# --- acceptance -----------------------------------------------------------------------------


def parse_expiry(value: object, today: date) -> date:
    expires = inputs.parse_date("expires_on", value)
    if expires <= today:
        raise FieldError("expires_on", f"must be after today ({today.isoformat()})")
    latest = today + timedelta(days=MAX_ACCEPTANCE_DAYS)
    if expires > latest:
        raise FieldError(
            "expires_on",
            f"must be at most three years ahead (by {latest.isoformat()}): decide again then",
        )
    return expires


def accept_risk(
    session: Session,
    actor: Actor,
    risk_id: int,
    reason: object,
    expires_on: object,
    *,
    today: date | None = None,
) -> RiskAcceptance:
    """Accept a risk until `expires_on` (after today, at most three years ahead) for a stated
    reason. Only a named user with `risk.accept`: an executive of the client or an
    administrator of it or its MSP. Accepting again supersedes the acceptance in force."""
    risk, org = load_risk(session, actor, risk_id, "risk.accept")
    if actor.is_system or actor.user_id is None:
        raise PermissionDenied(
            "a risk is accepted by a named person (an executive of the client or an "
            "administrator): act as that user"
        )
    day = today or date.today()
    expire_acceptances(session, actor, [org.id], today=day)
    session.refresh(risk, with_for_update=True)  # one acceptance at a time per risk
    text = clean_text("reason", reason, inputs.MAX_REASON_CHARS)
    if not text:
        raise FieldError("reason", "must not be empty: say why the risk is acceptable")
    expires = parse_expiry(expires_on, day)
    if risk.status in (RiskStatus.CLOSED, RiskStatus.AVOIDED):
        raise Conflict(f"risk {risk.id} is {risk.status}: there is nothing to accept")
    previous = risk.status
    acceptance = RiskAcceptance(
        organization_id=org.id,
        risk_id=risk.id,
        accepted_by_id=actor.user_id,
        reason=text,
        expires_on=expires,
        created_at=utcnow(),
    )
    session.add(acceptance)
    session.flush()
    superseded = _end_active(session, risk, AcceptanceEnd.SUPERSEDED, except_id=acceptance.id)
    risk.status = RiskStatus.ACCEPTED
    risk.treatment = Treatment.ACCEPT
    risk.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "risk.accept",
        organization_id=org.id,
        object_type="risk",
        object_id=risk.id,
        detail={
            "acceptance": acceptance.id,
            "reason": text,
            "expires_on": expires.isoformat(),
            "previous_status": str(previous),
            "superseded": superseded,
        },
    )
    return acceptance


def expire_acceptances(
    session: Session,
    actor: Actor,
    org_ids: Collection[int] | None = None,
    *,
    today: date | None = None,
) -> list[int]:
    """End every acceptance (of `org_ids`, or all) whose expiry date has passed, reopen its
    risk and record `risk.acceptance_expired` (by the system, through the actor's interface).
    Returns the ids of the risks reopened. Concurrent callers end each acceptance once."""
    day = today or date.today()
    query = select(RiskAcceptance).where(
        RiskAcceptance.ended_at.is_(None), RiskAcceptance.expires_on < day
    )
    ids = sorted(set(org_ids)) if org_ids is not None else None
    due: list[RiskAcceptance] = []
    if ids is None:
        due = list(session.scalars(query.order_by(RiskAcceptance.id)))
    else:
        for start in range(0, len(ids), _CHUNK):
            chunk = query.where(RiskAcceptance.organization_id.in_(ids[start : start + _CHUNK]))
            due.extend(session.scalars(chunk.order_by(RiskAcceptance.id)))
    reopened: list[int] = []
    system = Actor.system("system:acceptance-expiry", actor.via)
    for acceptance in due:
        ended = session.execute(
            update(RiskAcceptance)
            .where(RiskAcceptance.id == acceptance.id, RiskAcceptance.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=AcceptanceEnd.EXPIRED)
            .execution_options(synchronize_session=False)
        )
        if getattr(ended, "rowcount", 0) != 1:
            continue  # another transaction ended it first
        session.refresh(acceptance)
        risk = session.get(Risk, acceptance.risk_id)
        was = risk.status if risk is not None else None
        if risk is not None and risk.status is RiskStatus.ACCEPTED:
            risk.status = RiskStatus.OPEN
            risk.updated_at = utcnow()
            reopened.append(risk.id)
        session.flush()
        record(
            session,
            system,
            "risk.acceptance_expired",
            organization_id=acceptance.organization_id,
            object_type="risk",
            object_id=acceptance.risk_id,
            detail={
                "acceptance": acceptance.id,
                "expires_on": acceptance.expires_on.isoformat(),
                "status": [str(was), str(risk.status) if risk is not None else None],
                "noticed_by": actor.label,
            },
        )
    return reopened
