"""The asset register pages: the tab, filters and pages, the forms (errors keep what was typed,
nothing is stored), the CSV import with its problems listed, the export, one asset's page."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from assay.assets.models import Asset
from assay.assets.service import create_asset
from assay.assets.validation import AssetInput
from assay.auditlog.models import AuditEvent
from assay.db.engine import unit_of_work
from tests.factories import SYSTEM, World
from tests.web.support import sign_in, snapshot

OPERATOR = "it-operator@client-a.test"


def asset_count(engine: Engine) -> int:
    with unit_of_work(engine) as db:
        return db.scalar(select(func.count()).select_from(Asset)) or 0


def add_assets(engine: Engine, count: int) -> None:
    with unit_of_work(engine) as db:
        for index in range(count):
            kind = "host" if index % 2 else "saas"
            spec = AssetInput(f"asset-{index:03}", kind, tags=["even" if index % 2 == 0 else "odd"])
            create_asset(db, SYSTEM, "client-a", spec)


def test_the_tab_shows_for_clients_to_those_who_may_read(client: TestClient, world: World) -> None:
    sign_in(client, "executive@client-a.test")
    page = client.get("/orgs/client-a")
    tabs = re.findall(r'<nav class="tabs".*?</nav>', page.text, re.S)[0]
    assert 'href="/orgs/client-a/assets"' in tabs
    register = client.get("/orgs/client-a/assets")
    assert register.status_code == 200
    assert 'aria-current="page">Assets<' in register.text
    assert 'method="post" action="/orgs/client-a/assets"' not in register.text  # only read
    assert "/assets/import" not in register.text
    client.cookies.clear()
    sign_in(client, "admin@northwind.test")
    msp = client.get("/orgs/northwind")
    assert "/orgs/northwind/assets" not in msp.text  # an MSP keeps no register of its own
    note = client.get("/orgs/northwind/assets")
    assert note.status_code == 200 and "Assets are kept per client organization" in note.text


def test_create_show_edit_delete(client: TestClient, world: World, engine: Engine) -> None:
    token = sign_in(client, OPERATOR)
    register = client.get("/orgs/client-a/assets").text
    assert 'method="post" action="/orgs/client-a/assets"' in register
    assert 'action="/orgs/client-a/assets/import" enctype="multipart/form-data"' in register
    form = {
        "name": "web1",
        "kind": "host",
        "criticality": "high",
        "data_classification": "confidential",
        "owner": "Ops",
        "tags": "DMZ; pci",
        "identifiers": "hostname:WEB1.client-a.test\r\nip:10.0.0.5",
        "description": "<b>Portal</b>",
        "csrf_token": token,
    }
    created = client.post("/orgs/client-a/assets", data=form)
    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/assets/\d+\?done=created", location)
    page = client.get(location)
    assert "The asset has been added to the register." in page.text
    assert "web1.client-a.test" in page.text and "10.0.0.5" in page.text
    assert "&lt;b&gt;Portal&lt;/b&gt;" in page.text and "<b>Portal</b>" not in page.text
    assert "<script" not in page.text and " style=" not in page.text
    asset_url = location.split("?")[0]
    edited = client.post(
        f"{asset_url}/edit", data={**form, "criticality": "critical", "identifiers": "ip:10.0.0.5"}
    )
    assert edited.status_code == 303 and edited.headers["location"] == f"{asset_url}?done=saved"
    page = client.get(asset_url)
    assert "badge-crit-critical" in page.text and "web1.client-a.test" not in page.text
    deleted = client.post(f"{asset_url}/delete", data={"csrf_token": token})
    assert deleted.headers["location"] == "/orgs/client-a/assets?done=deleted"
    assert "The asset has been deleted." in client.get(deleted.headers["location"]).text
    assert client.get(asset_url).status_code == 404
    with unit_of_work(engine) as db:
        actions = list(
            db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.startswith("asset."))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["asset.create", "asset.update", "asset.delete"]


def test_form_errors_show_the_form_again_with_what_was_typed(
    client: TestClient, world: World, engine: Engine
) -> None:
    add_assets(engine, 1)
    token = sign_in(client, OPERATOR)
    before = snapshot(engine)
    cases = [
        ({"name": "asset-000", "kind": "host"}, 409, "exists already"),
        ({"name": "typed-name", "kind": "spaceship"}, 422, "unknown asset kind"),
        ({"name": "typed-name", "kind": "host", "identifiers": "ip:10.0.0.300"}, 422, "not an IP"),
        ({"name": "typed-name", "kind": "host", "identifiers": "web1"}, 422, "needs a kind"),
        ({"name": "typed-name", "kind": "host", "tags": "<script>"}, 422, "may hold letters"),
        ({"name": "", "kind": "host"}, 422, "asset name must not be empty"),
    ]
    for fields, status, message in cases:
        data = {"identifiers": "", "tags": "", "owner": "typed owner", **fields}
        response = client.post("/orgs/client-a/assets", data={**data, "csrf_token": token})
        assert response.status_code == status, (fields, response.text)
        text = unescape(response.text)
        assert message in text, fields
        assert f'value="{data["name"]}"' in text and 'value="typed owner"' in text
        assert data["identifiers"] in text
        assert "<script>" not in response.text
    assert snapshot(engine) == before
    [asset_id] = re.findall(r'href="/assets/(\d+)"', client.get("/orgs/client-a/assets").text)
    refused = client.post(
        f"/assets/{asset_id}/edit",
        data={"name": "renamed", "kind": "host", "identifiers": "mac:nope", "csrf_token": token},
    )
    assert refused.status_code == 422 and "not a MAC address" in unescape(refused.text)
    assert 'value="renamed"' in refused.text and "mac:nope" in refused.text
    assert snapshot(engine) == before


def test_filters_and_pages_keep_each_other(
    client: TestClient, world: World, engine: Engine
) -> None:
    add_assets(engine, 120)
    sign_in(client, "auditor@sentinel.test")
    first = client.get("/orgs/client-a/assets", params={"kind": "host"})
    assert first.status_code == 200
    names = re.findall(r'href="/assets/\d+">([^<]+)<', first.text)
    assert names[:2] == ["asset-001", "asset-003"] and len(names) == 50
    assert "Page 1 of 2" in first.text
    assert 'href="/orgs/client-a/assets?kind=host&amp;page=2"' in first.text
    second = client.get("/orgs/client-a/assets", params={"kind": "host", "page": 2})
    assert len(re.findall(r'href="/assets/\d+"', second.text)) == 10
    tagged = client.get("/orgs/client-a/assets", params={"tag": "even", "q": "asset-01"})
    assert re.findall(r'href="/assets/\d+">([^<]+)<', tagged.text) == [
        f"asset-01{i}" for i in range(0, 10, 2)
    ]
    assert "export.csv?tag=even&amp;q=asset-01" in tagged.text
    bad = client.get("/orgs/client-a/assets", params={"kind": "ufo"})
    assert bad.status_code == 422 and "unknown asset kind" in bad.text
    assert client.get("/orgs/client-a/assets", params={"page": 0}).status_code == 422


def test_import_lists_problems_or_imports_and_export_downloads(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, OPERATOR)
    before = snapshot(engine)
    bad = b"name,kind,identifiers\nweb1,spaceship,ip:1.2.3.4\nweb2,host,ip:1.2.3.999\n"
    response = client.post(
        "/orgs/client-a/assets/import",
        data={"csrf_token": token},
        files={"file": ("bad.csv", bad, "text/csv")},
    )
    assert response.status_code == 422
    text = unescape(response.text)
    assert "line 2: kind: unknown asset kind 'spaceship'" in text
    assert "line 3: identifiers: '1.2.3.999' is not an IP address" in text
    latin = client.post(
        "/orgs/client-a/assets/import",
        data={"csrf_token": token},
        files={"file": ("latin.csv", "name,kind\ncafé,host\n".encode("latin-1"), "text/csv")},
    )
    assert latin.status_code == 422 and "not UTF-8 text" in latin.text
    empty = client.post(
        "/orgs/client-a/assets/import", data={"csrf_token": token}, files={"file": ("", b"")}
    )
    assert empty.status_code == 422 and "choose a CSV file" in empty.text
    assert snapshot(engine) == before

    good = b"name,kind,owner\nweb1,host,=cmd|' /C calc'!A0\n".replace(b"=cmd", b"'=cmd")
    imported = client.post(
        "/orgs/client-a/assets/import",
        data={"csrf_token": token},
        files={"file": ("good.csv", good, "text/csv")},
    )
    assert imported.status_code == 200
    assert "Imported good.csv: 1 assets created, 0 updated, 0 unchanged." in imported.text
    exported = client.get("/orgs/client-a/assets/export.csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    assert exported.headers["x-content-type-options"] == "nosniff"
    [row] = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert row["owner"] == "'=cmd|' /C calc'!A0"
    updated = client.post(
        "/orgs/client-a/assets/import",
        data={"csrf_token": token, "update": "on"},
        files={"file": ("again.csv", exported.content.replace(b",medium,", b",low,"), "text/csv")},
    )
    assert "0 assets created, 1 updated, 0 unchanged" in updated.text
    assert asset_count(engine) == 1
