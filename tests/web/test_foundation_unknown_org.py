"""A form posted to an organization that does not exist is a 404 that changes nothing.

Built from the app's route table: every POST page route with a `{slug}` parameter is sent a
complete, valid-looking form (and, for uploads, a file) with a valid CSRF token by a signed-in
administrator, naming an unknown organization. The other path parameters name real objects of
a real organization, so a handler that looked them up without the organization would show.
Every row of every table, and the evidence store, must be as before.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.app import create_app
from assay.tenancy.models import AuditorGrant, Role
from tests.factories import World
from tests.web.support import fill, path_params, sign_in, snapshot, web_routes
from tests.web.test_isolation import FORM, UPLOAD_FILE, UPLOADS, stored_files

UNKNOWN = "no-such-org"
ROUTES = [
    path
    for method, path in web_routes(create_app())
    if method == "POST" and "slug" in path_params(path)
]
# Admins with the widest reach: an MSP's (its clients too) and a client's own.
ADMINS = ["northwind", "client-a"]


def test_the_route_table_has_organization_forms() -> None:
    assert "/orgs/{slug}/members" in ROUTES
    assert "/orgs/{slug}/members/{membership_id}/remove" in ROUTES
    assert len(ROUTES) >= 8


@pytest.fixture
def real_ids(session: Session, world: World) -> dict[str, object]:
    """Ids of real objects (of client-a) for the parameters other than the slug."""
    grant = session.query(AuditorGrant).filter_by(organization_id=world.orgs["client-a"].id).one()
    return {
        "slug": UNKNOWN,
        "membership_id": world.memberships[("client-a", Role.AUDITOR)].id,
        "grant_id": grant.id,
    }


@pytest.mark.parametrize("admin", ADMINS)
@pytest.mark.parametrize("path", ROUTES)
def test_a_form_for_an_unknown_organization_is_404_and_changes_nothing(
    path: str,
    admin: str,
    client: TestClient,
    world: World,
    engine: Engine,
    real_ids: dict[str, object],
) -> None:
    token = sign_in(client, world.user(admin, Role.ADMIN).email)
    url = fill(path, real_ids)
    before, files = snapshot(engine), stored_files()
    for org in (UNKNOWN, "client-a"):  # an organization named in the form, too
        data = {**FORM, "org": org, "parent": org, "csrf_token": token}
        response = client.post(url, data=data)
        assert response.status_code == 404, (org, response.status_code, response.text[:500])
        assert "not found" in response.text.lower()
        assert (snapshot(engine), stored_files()) == (before, files)
        if path in UPLOADS:
            uploaded = client.post(url, data=data, files=UPLOAD_FILE)
            assert uploaded.status_code == 404, (org, uploaded.text[:500])
            assert (snapshot(engine), stored_files()) == (before, files)
