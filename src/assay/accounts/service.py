"""Users, sign-in with throttling, web sessions and personal API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from assay.accounts.models import ApiToken, LoginFailure, User, WebSession
from assay.accounts.secrets import hash_password, new_token, token_hash, verify_password
from assay.auditlog.service import record
from assay.auth.actor import Actor, Via
from assay.auth.policy import Relation, packaged_policy
from assay.config import settings
from assay.db.base import utcnow
from assay.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    Throttled,
)
from assay.tenancy.access import actor_for_membership, authorize, org_by_slug
from assay.tenancy.models import Membership
from assay.tenancy.validation import clean_name

MAX_EMAIL_CHARS = 254
MAX_TOKEN_NAME_CHARS = 100
MAX_TOKEN_DAYS = 3650


def clean_email(email: str) -> str:
    value = email.strip().lower()
    local, at, domain = value.partition("@")
    if len(value) > MAX_EMAIL_CHARS or not at or not local or "." not in domain or " " in value:
        raise InvalidInput(f"invalid email address '{value[:80]}'")
    return value


def create_user(session: Session, actor: Actor, *, email: str, name: str, password: str) -> User:
    """Create a user account. The password is hashed with argon2id and never recorded.

    A free-standing user belongs to no organization, so the policy allows it to the local
    operator only; org admins create users through `tenancy.service.add_member`, which
    authorizes `user.create` on the organization first.
    """
    packaged_policy().check_installation(actor, "user.create")
    return new_user(session, actor, email=email, name=name, password=password)


def new_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    password: str,
    organization_id: int | None = None,
) -> User:
    """Create a user without authorization checks (callers must have authorized already).

    `organization_id` names the organization the account was created for, in the audit trail."""
    email = clean_email(email)
    name = clean_name(name)
    password_hash = hash_password(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"user '{email}' already exists")
    user = User(email=email, name=name, password_hash=password_hash)
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "user.create",
        organization_id=organization_id,
        object_type="user",
        object_id=user.id,
        detail={"email": email, "name": name},
    )
    return user


def set_password(session: Session, actor: Actor, email: str, password: str) -> User:
    """Replace a user's password (the policy allows it to the local operator only: the CLI and
    the demo). Authorized before the user is looked up, so a refusal tells nothing about it."""
    packaged_policy().check_installation(actor, "user.set_password")
    user = get_user(session, email)
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    record(
        session,
        actor,
        "user.password_reset",
        organization_id=None,
        object_type="user",
        object_id=user.id,
        detail={"email": user.email},
    )
    return user


def get_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"user '{email.strip()[:MAX_EMAIL_CHARS]}' not found")
    return user


def list_users(
    session: Session, actor: Actor, *, limit: int = 100, offset: int = 0
) -> tuple[list[User], int]:
    """Every account of the installation (across organizations: the local operator only)."""
    packaged_policy().check_installation(actor, "user.list")
    total = session.scalar(select(func.count()).select_from(User)) or 0
    rows = session.scalars(select(User).order_by(User.email).limit(limit).offset(offset))
    return list(rows), total


# --- sign-in -------------------------------------------------------------------------------


def _recent_failures(
    session: Session, column: InstrumentedAttribute[str], value: str, since: datetime
) -> int:
    query = (
        select(func.count())
        .select_from(LoginFailure)
        .where(column == value, LoginFailure.at >= since)
    )
    return session.scalar(query) or 0


def check_throttle(session: Session, email: str, client: str, via: Via) -> None:
    """Refuse sign-in while an email (or a client address) has too many recent failures.

    The refusal is audited; the caller commits it like a failed sign-in."""
    config = settings()
    since = utcnow() - timedelta(minutes=config.login_window_minutes)
    by_email = _recent_failures(session, LoginFailure.email, email, since)
    by_client = _recent_failures(session, LoginFailure.client, client, since)
    if by_email >= config.login_max_failures or by_client >= 4 * config.login_max_failures:
        record(
            session,
            Actor.system(f"anonymous@{client[:64]}", via),
            "auth.login_throttled",
            organization_id=None,
            object_type="user",
            detail={"email": email, "client": client[:64]},
        )
        raise Throttled(
            f"too many failed sign-ins; try again in {config.login_window_minutes} minutes"
        )


def authenticate(session: Session, email: str, password: str, *, client: str, via: Via) -> User:
    """Check credentials. A failure is counted and audited; the caller must commit either way."""
    email = email.strip().lower()[:MAX_EMAIL_CHARS]
    check_throttle(session, email, client, via)
    user = session.scalar(select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginFailure(email=email, client=client[:64]))
        record(
            session,
            Actor.system(f"anonymous@{client[:64]}", via),
            "auth.login_failed",
            organization_id=None,
            object_type="user",
            object_id=user.id if user else None,
            detail={"email": email, "client": client[:64]},
        )
        raise AuthenticationFailed("wrong email or password")
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    record(
        session,
        Actor(user.id, user.email, None, None, None, via),
        "auth.login",
        organization_id=None,
        object_type="user",
        object_id=user.id,
        detail={"client": client[:64]},
    )
    return user


def start_web_session(session: Session, user: User) -> str:
    """Create a browser session and return the secret for its cookie (only its hash is kept)."""
    raw = new_token()
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    expires = now + timedelta(hours=settings().session_hours)
    session.add(WebSession(token_hash=token_hash(raw), user_id=user.id, expires_at=expires))
    session.flush()
    return raw


def user_for_web_session(session: Session, raw: str | None) -> User | None:
    if not raw or len(raw) > 200:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(raw)))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def end_web_session(session: Session, raw: str | None) -> User | None:
    """Sign out: delete the session row and audit it. Returns the user it belonged to."""
    user = user_for_web_session(session, raw)
    if raw:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(raw)))
    if user is not None:
        record(
            session,
            Actor(user.id, user.email, None, None, None, Via.WEB),
            "auth.logout",
            organization_id=None,
            object_type="user",
            object_id=user.id,
            detail={},
        )
    return user


# --- API tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token; `secret` exists only here and is never stored."""

    token: ApiToken
    secret: str


def create_token(
    session: Session,
    actor: Actor,
    *,
    user_email: str,
    org_slug: str,
    name: str,
    expires_in_days: int | None = None,
) -> IssuedToken:
    """Issue a personal token for a user acting in one organization where they are a member."""
    name = clean_name(name, "token name")
    if len(name) > MAX_TOKEN_NAME_CHARS:
        raise InvalidInput(f"token name must have at most {MAX_TOKEN_NAME_CHARS} characters")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"expiry must be between 1 and {MAX_TOKEN_DAYS} days")
    user = get_user(session, user_email)
    org = org_by_slug(session, org_slug)
    if not actor.is_system and actor.user_id != user.id:
        raise NotFound(f"user '{user_email}' not found")
    membership = session.scalar(
        select(Membership).where(
            Membership.organization_id == org.id, Membership.user_id == user.id
        )
    )
    if membership is None:
        if actor.is_system:
            raise InvalidInput(f"{user.email} is not a member of '{org.slug}'")
        raise NotFound(f"organization '{org.slug}' not found")
    if not actor.is_system:
        authorize(
            session, actor_for_membership(membership, actor.label, actor.via), "token.create", org
        )
    raw = new_token()
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        organization_id=org.id,
        user_id=user.id,
        name=name,
        prefix=raw[:12],
        token_hash=token_hash(raw),
        expires_at=expires,
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        "token.create",
        organization_id=org.id,
        object_type="api_token",
        object_id=token.id,
        detail={
            "user": user.email,
            "name": name,
            "prefix": token.prefix,
            "expires_at": expires.isoformat() if expires else None,
        },
    )
    return IssuedToken(token, raw)


def _token_scope(actor: Actor) -> list[ColumnElement[bool]]:
    """Tokens an actor may see or revoke: all for the system, an org's for its admin, else own."""
    if actor.is_system:
        return []
    own = ApiToken.user_id == actor.user_id
    if (
        actor.role is not None
        and actor.organization_id is not None
        and packaged_policy().allows(actor.role, "token.manage_all", Relation.SELF)
    ):
        return [or_(own, ApiToken.organization_id == actor.organization_id)]
    return [own, ApiToken.organization_id == actor.organization_id]


def list_tokens(
    session: Session,
    actor: Actor,
    *,
    user_email: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ApiToken], int]:
    query = select(ApiToken).where(*_token_scope(actor))
    if user_email is not None:
        query = query.where(ApiToken.user_id == get_user(session, user_email).id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ApiToken.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id, *_token_scope(actor)))
    if token is None:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is not None:
        raise Conflict(f"token {token_id} is already revoked")
    token.revoked_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "token.revoke",
        organization_id=token.organization_id,
        object_type="api_token",
        object_id=token.id,
        detail={"prefix": token.prefix},
    )
    return token


def actor_for_token(session: Session, raw: str) -> Actor:
    """Resolve a bearer token to the actor it stands for, or raise AuthenticationFailed."""
    if not raw or len(raw) > 200:
        raise AuthenticationFailed("invalid API token")
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    now = utcnow()
    if token is None:
        raise AuthenticationFailed("invalid API token")
    if token.revoked_at is not None:
        raise AuthenticationFailed("API token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthenticationFailed("API token has expired")
    membership = session.scalar(
        select(Membership).where(
            Membership.organization_id == token.organization_id, Membership.user_id == token.user_id
        )
    )
    user = session.get(User, token.user_id)
    if membership is None or user is None or not user.is_active:
        raise AuthenticationFailed("API token's membership no longer exists")
    token.last_used_at = now
    return actor_for_membership(membership, user.email, Via.API)
