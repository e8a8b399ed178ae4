"""The policy: role permissions per relation, and separation-of-duties rules, read from policy.yaml.

Pure decisions, no I/O beyond reading the packaged policy file once. Services compute the
relation between actor and target and the object's involvement, then ask `POLICY.check`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from assay.auth.actor import Actor
from assay.errors import PermissionDenied
from assay.tenancy.models import Role


class Relation(StrEnum):
    SELF = "self"
    MANAGED = "managed"
    GRANTED = "granted"


class SodRule(BaseModel):
    """Whoever stands in one of `conflicts` to the object may not perform `action` on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    action: str
    conflicts: tuple[str, ...]
    reason: str


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    relations: list[Relation]
    actions: dict[str, dict[Role, list[Relation]]]
    separation_of_duties: list[SodRule]

    @model_validator(mode="after")
    def _rules_name_known_actions(self) -> PolicyDocument:
        for rule in self.separation_of_duties:
            if rule.action not in self.actions:
                raise ValueError(f"rule {rule.id} names unknown action {rule.action}")
        return self


class Policy:
    """Decides whether an actor may perform an action on a target in a given relation."""

    def __init__(self, document: PolicyDocument) -> None:
        self._grants = {
            action: {role: frozenset(rels) for role, rels in roles.items()}
            for action, roles in document.actions.items()
        }
        self._rules = document.separation_of_duties

    @property
    def actions(self) -> list[str]:
        return sorted(self._grants)

    @property
    def rules(self) -> list[SodRule]:
        return list(self._rules)

    def allows(self, role: Role | None, action: str, relation: Relation) -> bool:
        """True when `role` may perform `action` in `relation` (ignoring separation of duties)."""
        if action not in self._grants:
            raise KeyError(f"unknown action {action}")
        if role is None:
            return False
        return relation in self._grants[action].get(role, frozenset())

    def violated_rule(
        self, actor: Actor, action: str, involvement: Mapping[str, Collection[int]]
    ) -> SodRule | None:
        """The first separation-of-duties rule the actor would break, if any."""
        if actor.user_id is None:
            return None
        for rule in self._rules:
            if rule.action != action:
                continue
            if any(actor.user_id in involvement.get(name, ()) for name in rule.conflicts):
                return rule
        return None

    def check(
        self,
        actor: Actor,
        action: str,
        relation: Relation | None,
        involvement: Mapping[str, Collection[int]] | None = None,
    ) -> None:
        """Raise PermissionDenied unless the actor may perform the action.

        The system actor (local CLI operator) passes the role check; separation-of-duties rules
        apply to every user.
        """
        if not actor.is_system and (
            relation is None or not self.allows(actor.role, action, relation)
        ):
            raise PermissionDenied(f"role {actor.role} may not {action} here")
        rule = self.violated_rule(actor, action, involvement or {})
        if rule is not None:
            raise PermissionDenied(f"separation of duties ({rule.id}): {rule.reason}")

    def check_installation(self, actor: Actor, action: str) -> None:
        """Raise PermissionDenied unless the actor may perform an action on the installation as
        a whole (no target organization, so no relation): only the local operator may."""
        if action not in self._grants:
            raise KeyError(f"unknown action {action}")
        if not actor.is_system:
            raise PermissionDenied(
                f"{action} is reserved to the local operator (the `assay` command without --as)"
            )
        self.check(actor, action, None)


def load_policy(text: str) -> Policy:
    return Policy(PolicyDocument.model_validate(yaml.safe_load(text)))


@lru_cache(maxsize=1)
def packaged_policy() -> Policy:
    text = resources.files("assay.auth").joinpath("policy.yaml").read_text(encoding="utf-8")
    return load_policy(text)
