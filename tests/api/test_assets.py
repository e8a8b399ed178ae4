"""The asset register over the API: CRUD, filters and pages, CSV import and export, problem
documents for bad input (and nothing stored), and who may do what."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from assay.assets.models import Asset, AssetIdentifier
from assay.db.engine import unit_of_work
from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem, audit_actions

V1 = "/api/v1"
WEB1 = {
    "name": "web1",
    "kind": "host",
    "criticality": "high",
    "tags": ["DMZ"],
    "identifiers": [
        {"kind": "hostname", "value": "Web1.Client-A.test"},
        {"kind": "ip", "value": "10.0.0.5"},
    ],
}


def counts(engine: Engine) -> tuple[int, int, int]:
    with unit_of_work(engine) as db:
        assets = db.scalar(select(func.count()).select_from(Asset)) or 0
        identifiers = db.scalar(select(func.count()).select_from(AssetIdentifier)) or 0
    return assets, identifiers, len(audit_actions(engine))


def create(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{V1}/orgs/client-a/assets", headers=headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_read_patch_delete(client: TestClient, auth: AuthFor, engine: Engine) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    asset = create(client, operator, WEB1)
    assert asset["organization"] == "client-a" and asset["tags"] == ["dmz"]
    assert asset["identifiers"] == [
        {"kind": "hostname", "value": "web1.client-a.test"},
        {"kind": "ip", "value": "10.0.0.5"},
    ]
    url = f"{V1}/assets/{asset['id']}"
    assert client.get(url, headers=auth("sentinel", Role.AUDITOR)).json() == asset
    patched = client.patch(url, headers=operator, json={"owner": "Ops", "identifiers": []})
    assert patched.status_code == 200, patched.text
    assert patched.json()["owner"] == "Ops" and patched.json()["identifiers"] == []
    assert patched.json()["criticality"] == "high"  # not sent, not changed
    assert client.delete(url, headers=operator).status_code == 204
    assert_problem(client.get(url, headers=operator), 404)
    assert [a for a in audit_actions(engine) if a.startswith("asset.")] == [
        "asset.create",
        "asset.update",
        "asset.delete",
    ]


def test_list_filters_and_pages(client: TestClient, auth: AuthFor) -> None:
    admin = auth("northwind", Role.ADMIN)
    for index in range(5):
        kind = "host" if index % 2 else "saas"
        create(client, admin, {"name": f"a{index}", "kind": kind, "tags": [f"t{index % 2}"]})
    url = f"{V1}/orgs/client-a/assets"
    page = client.get(url, headers=admin, params={"limit": 2, "offset": 1}).json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [a["name"] for a in page["items"]] == ["a1", "a2"]
    hosts = client.get(url, headers=admin, params={"kind": "host", "tag": "t1"}).json()
    assert [a["name"] for a in hosts["items"]] == ["a1", "a3"]
    found = client.get(url, headers=admin, params={"q": "A4"}).json()
    assert [a["name"] for a in found["items"]] == ["a4"]
    problem = assert_problem(client.get(url, headers=admin, params={"kind": "ufo"}), 422)
    assert problem["errors"][0]["location"] == ["query", "kind"]
    assert_problem(client.get(url, headers=admin, params={"tag": "<b>"}), 422)
    assert_problem(client.get(url, headers=admin, params={"limit": 201}), 422)


def test_bad_bodies_are_problems_and_change_nothing(
    client: TestClient, auth: AuthFor, engine: Engine
) -> None:
    admin = auth("client-a", Role.ADMIN)
    create(client, admin, WEB1)
    before = counts(engine)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "web1", "kind": "host"}, 409, "an asset named 'web1' exists already"),
        (
            {
                "name": "x",
                "kind": "host",
                "identifiers": [{"kind": "ip", "value": "::ffff:10.0.0.5"}],
            },
            409,
            "belongs to asset 'web1'",
        ),
        (
            {"name": "x", "kind": "host", "identifiers": [{"kind": "ip", "value": "10.0.0.300"}]},
            422,
            "not an IP address",
        ),
        (
            {"name": "x", "kind": "host", "identifiers": [{"kind": "serial", "value": "1"}]},
            422,
            "identifiers.0.kind",
        ),
        ({"name": "x", "kind": "spaceship"}, 422, "body.kind"),
        ({"name": "", "kind": "host"}, 422, "body.name"),
        ({"name": "   ", "kind": "host"}, 422, "asset name must not be empty"),
        ({"name": "x" * 201, "kind": "host"}, 422, "body.name"),
        ({"name": "x", "kind": "host", "tags": ["t" * 41]}, 422, "body.tags.0"),
        ({"name": "x", "kind": "host", "tags": ["a;b"]}, 422, "may hold letters"),
        ({"name": "x", "kind": "host", "owner": "o\x00"}, 422, "control characters"),
        ({"name": "x", "kind": "host", "tags": [f"t{i}" for i in range(21)]}, 422, "body.tags"),
        ({"name": "x", "kind": "host", "colour": "red"}, 422, "body.colour"),
    ]
    for body, status, message in cases:
        response = client.post(f"{V1}/orgs/client-a/assets", headers=admin, json=body)
        problem = assert_problem(response, status)
        assert message in problem["detail"], (body, problem)
        assert "\x00" not in response.text
    assert counts(engine) == before


def test_roles_that_only_read_are_forbidden_to_change(
    client: TestClient, auth: AuthFor, engine: Engine
) -> None:
    asset = create(client, auth("client-a", Role.ADMIN), WEB1)
    readers = [("client-a", Role.EXECUTIVE), ("client-a", Role.AUDITOR), ("sentinel", Role.ADMIN)]
    executive = auth("sentinel", Role.EXECUTIVE)
    tokens = {who: auth(*who) for who in readers}
    before = counts(engine)  # issuing the tokens above is audited too
    for who in readers:
        headers = tokens[who]
        assert client.get(f"{V1}/assets/{asset['id']}", headers=headers).status_code == 200
        assert_problem(
            client.post(
                f"{V1}/orgs/client-a/assets", headers=headers, json={"name": "x", "kind": "host"}
            ),
            403,
        )
        assert_problem(
            client.patch(f"{V1}/assets/{asset['id']}", headers=headers, json={"owner": "x"}), 403
        )
        assert_problem(client.delete(f"{V1}/assets/{asset['id']}", headers=headers), 403)
    # sentinel's executive: no view rights through a grant
    assert_problem(client.get(f"{V1}/assets/{asset['id']}", headers=executive), 403)
    assert counts(engine) == before


def upload(client: TestClient, headers: dict[str, str], data: bytes, **fields: str) -> Any:
    return client.post(
        f"{V1}/orgs/client-a/assets/import",
        headers=headers,
        files={"file": ("assets.csv", data, "text/csv")},
        data=fields,
    )


def test_import_and_export_round_trip(client: TestClient, auth: AuthFor, engine: Engine) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    data = b"name,kind,identifiers,description\nweb1,host,ip:10.0.0.5,=1+1\nweb2,host,,-2\n"
    problem = assert_problem(upload(client, operator, data), 422)
    assert problem["errors"] == [
        {
            "location": ["file", 2],
            "message": "line 2: description: starts with '=' like a formula; formulas are not "
            "accepted (to keep it as text, start it with a single quote)",
            "type": "invalid_row",
        }
    ]
    imported = upload(client, operator, data.replace(b"=1+1", b"'=1+1"))
    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "file": "assets.csv",
        "update": False,
        "rows": 2,
        "created": ["web1", "web2"],
        "updated": [],
        "unchanged": [],
    }
    exported = client.get(f"{V1}/orgs/client-a/assets/export.csv", headers=operator)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    assert "client-a-assets.csv" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["name"], r["description"]) for r in rows] == [("web1", "'=1+1"), ("web2", "'-2")]
    hosts = client.get(
        f"{V1}/orgs/client-a/assets/export.csv", headers=operator, params={"q": "web2"}
    )
    assert hosts.content.decode("utf-8-sig").count("\r\n") == 2
    again = upload(client, operator, exported.content, update="true")
    assert again.json()["unchanged"] == ["web1", "web2"]
    refused = assert_problem(upload(client, operator, exported.content), 422)
    assert len(refused["errors"]) == 2 and "exists already" in refused["detail"]
    assert_problem(upload(client, operator, exported.content, update="maybe"), 422)
    assert audit_actions(engine).count("asset.import") == 2


def test_bad_uploads_are_refused_before_anything_is_stored(
    client: TestClient, auth: AuthFor, engine: Engine
) -> None:
    operator, auditor = auth("client-a", Role.IT_OPERATOR), auth("client-a", Role.AUDITOR)
    before = counts(engine)
    url = f"{V1}/orgs/client-a/assets/import"
    too_big = b"name,kind\n" + b"x" * (5 * 1024 * 1024)
    assert_problem(upload(client, operator, too_big), 413)
    assert_problem(upload(client, operator, "name,kind\nweb1,host\n".encode("utf-16")), 422)
    assert_problem(upload(client, operator, b""), 422)
    assert_problem(client.post(url, headers=operator, json={"file": "x"}), 415)
    assert_problem(client.post(url, headers=operator, files={"other": ("a.csv", b"x")}), 422)
    assert_problem(upload(client, auditor, b"name,kind\nweb1,host\n"), 403)
    assert counts(engine) == before
