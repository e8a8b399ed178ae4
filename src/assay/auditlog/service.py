"""Writing, listing and verifying audit events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from assay.auditlog.chain import GENESIS_HASH, change_digest, event_hash, hashed_fields
from assay.auditlog.models import AuditEvent
from assay.auth.actor import Actor
from assay.auth.policy import packaged_policy
from assay.db.base import utcnow
from assay.tenancy.access import authorize_slug
from assay.tenancy.models import Organization

_CHAIN_LOCK_KEY = 0x4153_5341  # "ASSA": serializes chain appends on PostgreSQL


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    organization_id: int | None,
    object_type: str,
    object_id: object | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = prev or GENESIS_HASH
    payload = dict(detail or {})
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        via=str(actor.via),
        organization_id=organization_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=payload,
        digest=change_digest(payload),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, _fields(event))
    session.add(event)
    session.flush()
    return event


def _fields(event: AuditEvent) -> dict[str, Any]:
    return hashed_fields(
        occurred_at=event.occurred_at,
        actor_user_id=event.actor_user_id,
        actor_label=event.actor_label,
        via=event.via,
        organization_id=event.organization_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        digest=event.digest,
    )


def list_events(
    session: Session,
    actor: Actor,
    *,
    org_slug: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """Events newest first. Users must name an organization they may audit; the system sees all."""
    query = select(AuditEvent)
    if org_slug is not None:
        org = authorize_slug(session, actor, "audit.view", org_slug)
        query = query.where(AuditEvent.organization_id == org.id)
    elif not actor.is_system:
        own = session.get(Organization, actor.organization_id)
        if own is None:
            return [], 0
        authorize_slug(session, actor, "audit.view", own.slug)
        query = query.where(AuditEvent.organization_id == own.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset))
    return list(rows), total


@dataclass(frozen=True)
class ChainReport:
    """Outcome of walking the whole chain.

    `head` is the hash of the last event verified (the genesis hash of an empty chain).
    A chain cannot show that its newest events were deleted: compare `head` (and `checked`)
    with a value kept elsewhere to detect truncation."""

    checked: int
    first_bad_id: int | None = None
    problem: str | None = None
    head: str = GENESIS_HASH

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None


def verify_chain(session: Session, actor: Actor, batch: int = 1000) -> ChainReport:
    """Recompute every digest and hash in order; report the first event that does not match.

    The chain spans every organization, so the policy allows this to the local operator only."""
    packaged_policy().check_installation(actor, "audit_log.verify")
    expected_prev = GENESIS_HASH
    checked = 0
    rows = session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)
    )
    for event in rows.scalars():
        problem = None
        if event.prev_hash != expected_prev:
            problem = "previous-hash link broken (event removed or reordered)"
        elif change_digest(event.detail) != event.digest:
            problem = "change detail does not match its digest"
        elif event_hash(event.prev_hash, _fields(event)) != event.hash:
            problem = "event hash does not match its content"
        if problem is not None:
            return ChainReport(checked, event.id, problem, head=expected_prev)
        expected_prev = event.hash
        checked += 1
    return ChainReport(checked, head=expected_prev)
