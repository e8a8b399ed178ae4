"""Who may read and keep a client's asset register: every role in every relation, through the
policy and through the service (a relation that does not exist is not found, never forbidden)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from assay.assets import service
from assay.assets.importing import import_assets
from assay.assets.service import AssetChanges
from assay.assets.validation import AssetInput
from assay.auth.actor import Actor
from assay.auth.policy import Relation, packaged_policy
from assay.errors import NotFound, PermissionDenied
from assay.tenancy.models import Role
from tests.assets.conftest import stored
from tests.factories import SYSTEM, World

POLICY = packaged_policy()
VIEW = {
    Role.ADMIN: {"self", "managed", "granted"},
    Role.IT_OPERATOR: {"self", "managed"},
    Role.AUDITOR: {"self", "managed", "granted"},
    Role.EXECUTIVE: {"self"},
}
MANAGE = {
    Role.ADMIN: {"self", "managed"},
    Role.IT_OPERATOR: {"self", "managed"},
    Role.AUDITOR: set(),
    Role.EXECUTIVE: set(),
}


@pytest.mark.parametrize("relation", list(Relation), ids=str)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_the_policy_matrix(role: Role, relation: Relation) -> None:
    assert POLICY.allows(role, "asset.view", relation) == (relation.value in VIEW[role])
    assert POLICY.allows(role, "asset.manage", relation) == (relation.value in MANAGE[role])


# The world's organizations seen from client-a: its own people (self), its MSP (managed), the
# auditor firm with a grant (granted), and those with no relation at all.
RELATIONS = {
    "client-a": "self",
    "northwind": "managed",
    "sentinel": "granted",
    "watchtower": None,
    "client-b": None,
    "otherco": None,
}
CASES = [(slug, role) for slug in RELATIONS for role in Role]


def expected(slug: str, role: Role, table: dict[Role, set[str]]) -> str:
    relation = RELATIONS[slug]
    if relation is None:
        return "not found"
    return "ok" if relation in table[role] else "forbidden"


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except NotFound:
        return "not found"
    except PermissionDenied:
        return "forbidden"
    return "ok"


@pytest.mark.parametrize(("slug", "role"), CASES, ids=[f"{r}@{s}" for s, r in CASES])
def test_every_member_of_every_organization_against_client_a(
    slug: str, role: Role, session: Session, world: World
) -> None:
    asset = service.create_asset(
        session, SYSTEM, "client-a", AssetInput("web1", "host", identifiers=[("ip", "10.0.0.5")])
    )
    session.commit()
    actor: Actor = world.actor(slug, role)
    view, manage = expected(slug, role, VIEW), expected(slug, role, MANAGE)
    reads = {
        "list": lambda: service.list_assets(session, actor, "client-a"),
        "get": lambda: service.get_asset(session, actor, asset.id),
        "export": lambda: service.export_assets(session, actor, "client-a"),
        "find": lambda: service.find_by_identifier(session, actor, "client-a", "ip", "10.0.0.5"),
    }
    for name, call in reads.items():
        assert outcome(call) == view, name
        session.rollback()
    before = stored(session)
    changes = {
        "create": lambda: service.create_asset(
            session, actor, "client-a", AssetInput("db1", "data_store")
        ),
        "update": lambda: service.update_asset(
            session, actor, asset.id, AssetChanges(criticality="critical")
        ),
        "import": lambda: import_assets(
            session, actor, "client-a", b"name,kind\ndb2,data_store\n", "a.csv"
        ),
        "delete": lambda: service.delete_asset(session, actor, asset.id),
    }
    for name, call in changes.items():
        result = outcome(call)
        session.rollback()  # undo what an allowed change did, to try the next one
        assert result == manage, name
    assert stored(session) == before


def test_the_local_operator_may_do_everything_and_clients_only_hold_assets(
    session: Session, world: World
) -> None:
    from assay.errors import InvalidInput

    service.create_asset(session, SYSTEM, "client-a", AssetInput("web1", "host"))
    with pytest.raises(InvalidInput, match="'northwind' is not a client organization"):
        service.create_asset(session, SYSTEM, "northwind", AssetInput("rmm", "application"))
    with pytest.raises(InvalidInput, match="not a client organization"):
        import_assets(session, SYSTEM, "sentinel", b"name,kind\nx,host\n", "a.csv")
    assert service.list_assets(session, SYSTEM, "northwind") == ([], 0)
