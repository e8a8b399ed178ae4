"""The Actor every service call carries: a user acting through a membership, or the system."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from assay.tenancy.kinds import OrgKind, Role


class Via(StrEnum):
    WEB = "web"
    API = "api"
    CLI = "cli"


@dataclass(frozen=True)
class Actor:
    """Who acts, in which organization, with which role, and through which interface.

    `organization_id` and `role` come from the membership the user acts through. The system actor
    (a local operator running the CLI with direct access to the database) has neither.
    """

    user_id: int | None
    label: str
    organization_id: int | None
    org_kind: OrgKind | None
    role: Role | None
    via: Via

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @classmethod
    def system(cls, label: str, via: Via = Via.CLI) -> Actor:
        return cls(None, label, None, None, None, via)
