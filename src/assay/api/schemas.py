"""Request and response bodies of the API, with the field limits that turn oversized input
into a 422 before any service runs. Every request model carries one example; the example is
what the documentation shows and what the tenant-isolation test sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.accounts.models import ApiToken, User
from assay.accounts.service import MAX_EMAIL_CHARS, MAX_TOKEN_DAYS, MAX_TOKEN_NAME_CHARS
from assay.auditlog.models import AuditEvent
from assay.tenancy.models import AuditorGrant, Membership, Organization, OrgKind, Role
from assay.tenancy.validation import MAX_NAME_CHARS

MAX_SLUG_CHARS = 63


def _request_config(example: dict[str, Any]) -> ConfigDict:
    """Request bodies reject unknown fields and document one valid example."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


# --- requests ------------------------------------------------------------------------------


class OrgCreate(BaseModel):
    """A new client organization under an MSP the caller administers."""

    model_config = _request_config(
        {"slug": "client-new", "name": "Client New Ltd", "parent": "northwind"}
    )

    slug: str = Field(min_length=1, max_length=MAX_SLUG_CHARS)
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    parent: str = Field(min_length=1, max_length=MAX_SLUG_CHARS, description="The MSP's slug.")


class MemberAdd(BaseModel):
    """Give a user a role in the organization (or change their role there).

    With `name`, a user that does not exist yet is created; its generated password is returned
    once in the response.
    """

    model_config = _request_config(
        {"email": "new.person@example.test", "role": "it_operator", "name": "New Person"}
    )

    email: str = Field(min_length=3, max_length=MAX_EMAIL_CHARS)
    role: Role
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)


class GrantCreate(BaseModel):
    """Let an auditor firm see and audit this client organization."""

    model_config = _request_config({"auditor": "sentinel"})

    auditor: str = Field(min_length=1, max_length=MAX_SLUG_CHARS, description="The firm's slug.")


class TokenCreate(BaseModel):
    """A personal API token for the caller, acting in the caller's organization."""

    model_config = _request_config({"name": "ci pipeline", "expires_in_days": 90})

    name: str = Field(min_length=1, max_length=MAX_TOKEN_NAME_CHARS)
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_TOKEN_DAYS)


# --- responses -----------------------------------------------------------------------------


class OrgOut(BaseModel):
    id: int
    slug: str
    name: str
    kind: OrgKind
    parent: str | None = Field(description="Slug of the MSP a client belongs to.")
    created_at: datetime

    @classmethod
    def of(cls, org: Organization) -> OrgOut:
        return cls(
            id=org.id,
            slug=org.slug,
            name=org.name,
            kind=org.kind,
            parent=org.parent.slug if org.parent is not None else None,
            created_at=org.created_at,
        )


class UserOut(BaseModel):
    id: int
    email: str
    name: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, name=user.name)


class MeOut(BaseModel):
    """Who the bearer token stands for."""

    user: UserOut
    organization: OrgOut
    role: Role


class MemberOut(BaseModel):
    id: int = Field(description="The membership id (used to remove the member).")
    user: UserOut
    role: Role
    created_at: datetime

    @classmethod
    def of(cls, membership: Membership, user: User) -> MemberOut:
        return cls(
            id=membership.id,
            user=UserOut.of(user),
            role=membership.role,
            created_at=membership.created_at,
        )


class NewMemberOut(MemberOut):
    initial_password: str | None = Field(
        default=None,
        description="Set only when the user was created by this request; never shown again.",
    )


class GrantOut(BaseModel):
    id: int
    client: str = Field(description="Slug of the client organization.")
    auditor: str = Field(description="Slug of the auditor firm.")
    auditor_name: str
    granted_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, grant: AuditorGrant) -> GrantOut:
        return cls(
            id=grant.id,
            client=grant.organization.slug,
            auditor=grant.auditor_org.slug,
            auditor_name=grant.auditor_org.name,
            granted_at=grant.granted_at,
            revoked_at=grant.revoked_at,
        )


class TokenOut(BaseModel):
    """A token's metadata; the secret itself is never stored and never listed."""

    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    user_id: int
    organization_id: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            user_id=token.user_id,
            organization_id=token.organization_id,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenIssued(BaseModel):
    """A new token: `secret` is shown in this response only."""

    token: TokenOut
    secret: str = Field(description="Send as 'Authorization: Bearer <secret>'. Shown once.")


class AuditEventOut(BaseModel):
    id: int
    occurred_at: datetime
    actor_user_id: int | None
    actor_label: str
    via: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]
    hash: str
    prev_hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=event.id,
            occurred_at=event.occurred_at,
            actor_user_id=event.actor_user_id,
            actor_label=event.actor_label,
            via=event.via,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            detail=event.detail,
            hash=event.hash,
            prev_hash=event.prev_hash,
        )
