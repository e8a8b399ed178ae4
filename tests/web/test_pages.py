"""What the pages show and do: organizations, clients, grants, members, audit trail, tokens."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select

from assay.accounts.models import ApiToken, User, WebSession
from assay.accounts.service import actor_for_token
from assay.auditlog.service import record
from assay.auth.actor import Actor, Via
from assay.db.base import utcnow
from assay.db.engine import unit_of_work
from assay.tenancy.models import AuditorGrant, Membership, Role
from tests.factories import World
from tests.web.support import csrf_from, sign_in, snapshot

_SECRET = re.compile(r'<code class="copy">([^<]+)</code>')


def test_the_switcher_lists_reachable_orgs_and_switches(client: TestClient, world: World) -> None:
    sign_in(client, "auditor@sentinel.test")
    page = client.get("/orgs/sentinel")
    options = re.findall(r'<option value="([^"]+)"', page.text.split("</form>")[0])
    assert options == ["sentinel", "client-a"]  # the firm itself first, then its granted client
    response = client.get("/switch", params={"org": "client-a"})
    assert response.status_code == 303
    assert response.headers["location"] == "/orgs/client-a"
    assert client.get("/orgs/client-a").status_code == 200
    assert client.get("/switch", params={"org": "a/../../x"}).headers["location"] == (
        "/orgs/a%2F..%2F..%2Fx"
    )


def test_unknown_org_is_404(client: TestClient, world: World) -> None:
    sign_in(client, "admin@northwind.test")
    for path in ("/orgs/nope", "/orgs/nope/members", "/orgs/nope/audit", "/orgs/client-z"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "not found" in response.text


def test_msp_page_lists_clients_and_creates_one(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    page = client.get("/orgs/northwind")
    assert "Managed service provider" in page.text
    assert 'href="/orgs/client-a"' in page.text and 'href="/orgs/client-b"' in page.text
    assert 'action="/orgs/northwind/clients"' in page.text
    response = client.post(
        "/orgs/northwind/clients",
        data={"slug": "client-c", "name": "Client C", "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/orgs/client-c?done=created"
    created = client.get(response.headers["location"])
    assert "The client organization has been created." in created.text
    assert "Client C" in created.text
    assert 'href="/orgs/northwind">Northwind</a>' in created.text  # its parent
    audit = client.get("/orgs/client-c/audit")
    assert "org.create" in audit.text
    # a duplicate is refused with the service's status, the form keeps its values
    again = client.post(
        "/orgs/northwind/clients", data={"slug": "client-c", "name": "Again", "csrf_token": token}
    )
    assert again.status_code == 409
    assert 'value="Again"' in again.text


def test_forms_are_offered_only_to_those_allowed(client: TestClient, world: World) -> None:
    sign_in(client, "it-operator@northwind.test")
    page = client.get("/orgs/northwind")
    assert "/clients" not in page.text
    members = client.get("/orgs/client-a/members")
    assert members.status_code == 200
    assert "Add a member" not in members.text
    assert "/remove" not in members.text
    assert "Audit trail" not in page.text  # it operators have no audit.view


def test_a_refused_action_shows_the_page_with_403(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "it-operator@northwind.test")
    before = snapshot(engine)
    response = client.post(
        "/orgs/northwind/clients", data={"slug": "client-c", "name": "C", "csrf_token": token}
    )
    assert response.status_code == 403
    assert "may not org.create_client" in response.text
    assert snapshot(engine) == before


def test_client_page_grants_and_revokes_auditor_access(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    page = client.get("/orgs/client-b")
    assert "No auditor firm has access." in page.text
    response = client.post(
        "/orgs/client-b/grants", data={"auditor": "watchtower", "csrf_token": token}
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Watchtower" in page.text
    with unit_of_work(engine) as db:
        grant_id = db.scalar(
            select(AuditorGrant.id).where(
                AuditorGrant.auditor_org_id == world.orgs["watchtower"].id,
                AuditorGrant.revoked_at.is_(None),
            )
        )
    assert f'action="/orgs/client-b/grants/{grant_id}/revoke"' in page.text
    response = client.post(f"/orgs/client-b/grants/{grant_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "access has been revoked" in page.text
    assert "No auditor firm has access." in page.text
    audit = client.get("/orgs/client-b/audit").text
    assert "grant.create" in audit and "grant.revoke" in audit


def test_the_auditor_firm_sees_the_clients_it_audits(client: TestClient, world: World) -> None:
    sign_in(client, "admin@sentinel.test")
    page = client.get("/orgs/sentinel")
    assert "Clients this firm audits" in page.text
    assert 'href="/orgs/client-a">Client A</a>' in page.text
    client_page = client.get("/orgs/client-a")
    assert client_page.status_code == 200
    assert "/grants" not in client_page.text  # may see the grant, may not manage it


def test_add_member_creates_an_account_shows_its_password_once_and_audits_it(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    response = client.post(
        "/orgs/client-a/members",
        data={
            "email": "Dana@Client-A.test",
            "role": "it_operator",
            "name": "Dana Scully",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert "dana@client-a.test is now an IT operator of this organization." in response.text
    found = _SECRET.search(response.text)
    assert found is not None
    password = unescape(found.group(1))
    assert "shown only this once" in response.text
    assert response.headers["cache-control"] == "no-store"

    members = client.get("/orgs/client-a/members")
    assert "dana@client-a.test" in members.text
    assert password not in members.text  # shown once only
    assert "Account created" not in members.text

    audit = client.get("/orgs/client-a/audit")
    assert "member.add" in audit.text
    assert "dana@client-a.test" in audit.text
    assert password not in audit.text

    # the new person can sign in with it and lands in their organization
    client.cookies.clear()
    sign_in(client, "dana@client-a.test", password)
    assert client.get("/").headers["location"] == "/orgs/client-a"


def test_add_existing_user_changes_role_and_remove_member(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    response = client.post(
        "/orgs/client-a/members",
        data={"email": "executive@client-b.test", "role": "auditor", "csrf_token": token},
    )
    assert response.status_code == 200
    assert "Account created" not in response.text
    with unit_of_work(engine) as db:
        user_id = db.scalar(select(User.id).where(User.email == "executive@client-b.test"))
        membership_id = db.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id,
                Membership.organization_id == world.orgs["client-a"].id,
            )
        )
    response = client.post(
        "/orgs/client-a/members",
        data={"email": "executive@client-b.test", "role": "executive", "csrf_token": token},
    )
    assert "is now an executive" in response.text
    response = client.post(
        f"/orgs/client-a/members/{membership_id}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "The member has been removed." in page.text
    assert "executive@client-b.test" not in page.text
    audit = client.get("/orgs/client-a/audit").text
    for action in ("member.add", "member.role_change", "member.remove"):
        assert action in audit


def test_nobody_removes_themselves(client: TestClient, world: World, engine: Engine) -> None:
    token = sign_in(client, "admin@client-a.test")
    page = client.get("/orgs/client-a/members")
    own = world.memberships[("client-a", Role.ADMIN)].id
    assert f"/members/{own}/remove" not in page.text
    before = snapshot(engine)
    response = client.post(f"/orgs/client-a/members/{own}/remove", data={"csrf_token": token})
    assert response.status_code == 403
    assert "separation of duties" in response.text
    assert snapshot(engine) == before


def test_audit_trail_is_newest_first_and_paginated(
    client: TestClient, world: World, engine: Engine
) -> None:
    org_id = world.orgs["client-a"].id
    with unit_of_work(engine) as db:
        for number in range(60):
            record(
                db,
                Actor.system("cli:test", Via.CLI),
                "test.event",
                organization_id=org_id,
                object_type="thing",
                object_id=number,
                detail={"number": number},
            )
    sign_in(client, "auditor@client-a.test")
    first = client.get("/orgs/client-a/audit")
    assert first.status_code == 200
    assert "60 events" in first.text
    assert "Page 1 of 2" in first.text
    numbers = [int(n) for n in re.findall(r'<span class="k">number</span> (\d+)', first.text)]
    assert numbers == list(range(59, 9, -1))
    second = client.get("/orgs/client-a/audit", params={"page": 2})
    numbers = [int(n) for n in re.findall(r'<span class="k">number</span> (\d+)', second.text)]
    assert numbers == list(range(9, -1, -1))
    assert client.get("/orgs/client-a/audit", params={"page": 0}).status_code == 422
    assert client.get("/orgs/client-a/audit", params={"page": "x"}).status_code == 422


def test_audit_trail_is_refused_to_roles_without_it(client: TestClient, world: World) -> None:
    sign_in(client, "it-operator@client-a.test")
    response = client.get("/orgs/client-a/audit")
    assert response.status_code == 403


def test_tokens_are_created_shown_once_used_and_revoked(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "auditor@sentinel.test")
    page = client.get("/account/tokens")
    assert "You have no tokens." in page.text
    assert re.findall(r'<option value="([^"]+)"', page.text.split('id="token-org"')[1]) == [
        "sentinel"
    ]
    response = client.post(
        "/account/tokens",
        data={
            "name": "scanner import",
            "org": "sentinel",
            "expires_in_days": "30",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    found = _SECRET.search(response.text)
    assert found is not None
    secret = unescape(found.group(1))
    with unit_of_work(engine) as db:
        actor = actor_for_token(db, secret)
        assert actor.label == "auditor@sentinel.test"
        token_id = db.scalar(select(ApiToken.id))
    listing = client.get("/account/tokens")
    assert secret not in listing.text
    assert "scanner import" in listing.text
    assert "active" in listing.text
    response = client.post(
        f"/account/tokens/{token_id}/revoke", data={"org": "sentinel", "csrf_token": token}
    )
    assert response.status_code == 303
    listing = client.get(response.headers["location"])
    assert "revoked" in listing.text
    assert f"/account/tokens/{token_id}/revoke" not in listing.text
    with unit_of_work(engine) as db:
        assert db.get(ApiToken, token_id).revoked_at is not None  # type: ignore[union-attr]


def test_token_form_errors_keep_the_values(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@client-a.test")
    before = snapshot(engine)
    response = client.post(
        "/account/tokens",
        data={
            "name": "nightly",
            "org": "client-a",
            "expires_in_days": "99999",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "expiry must be between" in response.text
    assert 'value="nightly"' in response.text
    assert snapshot(engine) == before


def test_an_expired_session_goes_back_to_sign_in(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "admin@northwind.test")
    with unit_of_work(engine) as db:
        for row in db.scalars(select(WebSession)):
            row.expires_at = utcnow()
    response = client.get("/orgs/northwind")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    page = client.get("/login")
    assert page.status_code == 200
    assert csrf_from(page.text)


def test_a_user_without_organizations_sees_a_welcome(
    client: TestClient, world: World, engine: Engine
) -> None:
    with unit_of_work(engine) as db:
        db.execute(
            delete(Membership).where(
                Membership.user_id == world.user("client-b", Role.EXECUTIVE).id
            )
        )
    sign_in(client, "executive@client-b.test")
    response = client.get("/")
    assert response.status_code == 200
    assert "not a member of any organization" in response.text
