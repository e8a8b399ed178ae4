"""The policy file: role permissions per relation and separation-of-duties rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.auth.actor import Actor, Via
from assay.auth.policy import Relation, load_policy, packaged_policy
from assay.errors import PermissionDenied
from assay.tenancy.models import OrgKind, Role


def actor(role: Role, user_id: int = 7) -> Actor:
    return Actor(user_id, "u@example.org", 1, OrgKind.CLIENT, role, Via.API)


POLICY = packaged_policy()


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_view_its_own_org(role: Role) -> None:
    assert POLICY.allows(role, "org.view", Relation.SELF)


@pytest.mark.parametrize("role", [Role.IT_OPERATOR, Role.AUDITOR, Role.EXECUTIVE])
def test_only_admins_manage_members(role: Role) -> None:
    assert not POLICY.allows(role, "member.manage", Relation.SELF)
    assert POLICY.allows(Role.ADMIN, "member.manage", Relation.SELF)


def test_auditor_firm_cannot_manage_members_of_granted_client() -> None:
    assert not POLICY.allows(Role.ADMIN, "member.manage", Relation.GRANTED)


def test_only_msp_admins_manage_grants() -> None:
    assert POLICY.allows(Role.ADMIN, "grant.manage", Relation.MANAGED)
    assert not POLICY.allows(Role.ADMIN, "grant.manage", Relation.SELF)
    assert not POLICY.allows(Role.ADMIN, "grant.manage", Relation.GRANTED)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.IT_OPERATOR, Role.EXECUTIVE])
def test_only_auditors_verify(role: Role) -> None:
    assert not POLICY.allows(role, "answer.verify", Relation.SELF)
    assert POLICY.allows(Role.AUDITOR, "answer.verify", Relation.GRANTED)


def test_unknown_action_is_an_error() -> None:
    with pytest.raises(KeyError):
        POLICY.allows(Role.ADMIN, "org.delete_everything", Relation.SELF)


def test_check_refuses_out_of_reach_target() -> None:
    with pytest.raises(PermissionDenied):
        POLICY.check(actor(Role.ADMIN), "org.view", None)


@pytest.mark.parametrize("relation", ["answered_by", "implemented_by", "evidence_by"])
def test_separation_of_duties_blocks_verifying_own_work(relation: str) -> None:
    auditor = actor(Role.AUDITOR, user_id=42)
    with pytest.raises(PermissionDenied, match="independent-verification"):
        POLICY.check(auditor, "answer.verify", Relation.SELF, {relation: [42]})


def test_separation_of_duties_allows_someone_else() -> None:
    auditor = actor(Role.AUDITOR, user_id=42)
    POLICY.check(auditor, "answer.verify", Relation.SELF, {"implemented_by": [41]})


def test_nobody_changes_their_own_membership() -> None:
    admin = actor(Role.ADMIN, user_id=5)
    with pytest.raises(PermissionDenied, match="own membership"):
        POLICY.check(admin, "member.manage", Relation.SELF, {"subject": [5]})


def test_system_actor_passes_roles_but_not_rules_about_users() -> None:
    system = Actor.system("cli:test")
    POLICY.check(system, "grant.manage", None)
    assert POLICY.violated_rule(system, "answer.verify", {"implemented_by": [1]}) is None


def test_rules_must_name_known_actions() -> None:
    text = """
relations: [self]
actions:
  org.view: {admin: [self]}
separation_of_duties:
  - {id: r, action: answer.verify, conflicts: [x], reason: y}
"""
    with pytest.raises(ValidationError, match="unknown action"):
        load_policy(text)


def test_unknown_role_in_policy_is_rejected() -> None:
    text = """
relations: [self]
actions:
  org.view: {janitor: [self]}
separation_of_duties: []
"""
    with pytest.raises(ValidationError):
        load_policy(text)


INSTALLATION_ACTIONS = ["user.list", "user.create", "user.set_password", "audit_log.verify"]


@pytest.mark.parametrize("action", INSTALLATION_ACTIONS)
def test_installation_wide_actions_are_the_local_operators(action: str) -> None:
    POLICY.check_installation(Actor.system("cli:test"), action)
    for role in Role:
        with pytest.raises(PermissionDenied, match="reserved to the local operator"):
            POLICY.check_installation(actor(role), action)


@pytest.mark.parametrize("action", ["user.list", "user.set_password", "audit_log.verify"])
def test_installation_wide_actions_grant_no_role(action: str) -> None:
    assert not any(POLICY.allows(role, action, rel) for role in Role for rel in Relation)


def test_installation_check_knows_only_policy_actions() -> None:
    with pytest.raises(KeyError):
        POLICY.check_installation(Actor.system("cli:test"), "user.delete_everyone")
