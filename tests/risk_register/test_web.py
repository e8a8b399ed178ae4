"""The risk register pages: register, heat map, curves and gap figure, a risk's page and its
forms (CSRF like every form; the accept form only for those who may, the service deciding)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assay.risk import service
from assay.risk.models import Risk, RiskStatus
from tests.factories import SYSTEM, World
from tests.risk_register.conftest import CIS, assess, make_risk, stored
from tests.web.support import sign_in

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()
FAIR = {"tef": "1,4,12", "vuln": "0.1,0.3,0.6", "lm": "20000,150000,2000000"}


@pytest.fixture
def client(shared_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(shared_app, follow_redirects=False) as test_client:
        yield test_client


def form(token: str, **fields: str) -> dict[str, str]:
    base = {
        "csrf_token": token,
        "title": "Ransomware on the file server",
        "inherent_likelihood": "4",
        "inherent_impact": "5",
    }
    return {**base, **fields}


def is_svg(response: object) -> bool:
    return (
        getattr(response, "status_code", 0) == 200
        and getattr(response, "headers", {})["content-type"] == "image/svg+xml"
        and getattr(response, "content", b"").lstrip().startswith(b"<?xml")
    )


def test_the_register_page_with_its_charts(
    client: TestClient, session: Session, world: World, catalogs: None
) -> None:
    assess(session, world, "client-a", {"1.1": ("fully", "claimed")})
    token = sign_in(client, "it-operator@client-a.test")
    page = client.get("/orgs/client-a/risks")
    assert page.status_code == 200
    assert "No risks yet." in page.text and "Add a risk" in page.text
    assert 'href="/orgs/client-a/risks"' in page.text  # the tab
    created = client.post(
        "/orgs/client-a/risks",
        data=form(
            token,
            threat_actor="Criminal group",
            tef=FAIR["tef"],
            vuln=FAIR["vuln"],
            lm=FAIR["lm"],
            tolerance="500000",
            controls=f"{CIS}:1.1:vulnerability:0.2,0.4,0.6\n{CIS}:1.2:lm:10%,20%,40%",
            residual_likelihood="3",
            residual_impact="4",
        ),
    )
    assert created.status_code == 303, created.text
    risk_url = created.headers["location"].split("?")[0]
    risk_page = client.get(created.headers["location"])
    assert risk_page.status_code == 200
    text = risk_page.text
    assert "The risk has been added to the register." in text
    assert "Verification gap" in text and 'id="verification-gap"' in text
    assert "fully, claimed" in text and "unanswered" in text
    assert "Accept this risk" not in text  # IT operators never accept
    assert "Change" in text

    register = client.get("/orgs/client-a/risks")
    assert "Ransomware on the file server" in register.text
    assert "/orgs/client-a/risks/heatmap.svg" in register.text
    for url in (
        "/orgs/client-a/risks/heatmap.svg",
        "/orgs/client-a/risks/lec.svg",
        "/orgs/client-a/risks/gap.svg",
        f"{risk_url}/lec.svg",
    ):
        first, second = client.get(url), client.get(url)
        assert is_svg(first), (url, first.status_code, first.text[:200])
        assert first.content == second.content  # deterministic
        assert first.headers["content-security-policy"].startswith("default-src 'none'")

    filtered = client.get("/orgs/client-a/risks", params={"status": "closed"})
    assert "No risks in this status." in filtered.text


def test_accepting_through_the_page(client: TestClient, session: Session, world: World) -> None:
    risk_id = make_risk(session, fair={"lef": 1, "lm": 1000})
    token = sign_in(client, "it-operator@client-a.test")
    before = stored(session)
    refused = client.post(
        f"/risks/{risk_id}/accept",
        data={"csrf_token": token, "reason": "ok", "expires_on": NEXT_YEAR},
    )
    assert refused.status_code == 403 and "may not risk.accept" in refused.text
    assert stored(session) == before
    client.cookies.clear()

    token = sign_in(client, "executive@client-a.test")
    before = stored(session)
    page = client.get(f"/risks/{risk_id}")
    assert "Accept this risk" in page.text and "Delete this risk" not in page.text
    bad = client.post(
        f"/risks/{risk_id}/accept",
        data={"csrf_token": token, "reason": " ", "expires_on": NEXT_YEAR},
    )
    assert bad.status_code == 422 and "reason: must not be empty" in bad.text
    assert stored(session) == before
    done = client.post(
        f"/risks/{risk_id}/accept",
        data={"csrf_token": token, "reason": "Insured", "expires_on": NEXT_YEAR},
    )
    assert done.status_code == 303
    shown = client.get(done.headers["location"])
    assert "The risk has been accepted" in shown.text and NEXT_YEAR in shown.text
    session.rollback()
    assert session.get(Risk, risk_id).status is RiskStatus.ACCEPTED  # type: ignore[union-attr]


def test_bad_form_values_show_the_field_and_store_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    token = sign_in(client, "admin@client-a.test")
    before = stored(session)
    for fields, message in (
        ({"lef": "1", "lm": "9,5,1"}, "fair.lm: minimum (9) is above maximum (1)"),
        ({"tef": "2", "vuln": "1.5", "lm": "10"}, "fair.vuln: value (1.5) is above 1"),
        ({"lef": "-1", "lm": "10"}, "fair.lef: value (-1) is negative"),
        ({"lef": "often", "lm": "10"}, "fair.lef: value must be a number, not &#39;often&#39;"),
        ({"lef": "1"}, "fair.lm: missing"),
        ({"inherent_impact": ""}, "inherent_impact: missing"),
        ({"due_on": "soon"}, "due_on: must be a date"),
        ({"controls": "cis-controls-v8.1:1.1:tef:2"}, "2 is above 1"),
    ):
        response = client.post("/orgs/client-a/risks", data=form(token, **fields))
        assert response.status_code == 422, fields
        assert message in response.text, (fields, response.text[-3000:])
        assert 'value="Ransomware on the file server"' in response.text  # kept
    assert stored(session) == before


def test_editing_keeps_what_the_form_cannot_show(
    client: TestClient, session: Session, world: World
) -> None:
    fair = {"lef": {"kind": "pert", "min": 1, "mode": 2, "max": 6, "confidence": 8}, "lm": 1000}
    risk_id = make_risk(session, fair=fair, owner="The practice manager")
    token = sign_in(client, "admin@northwind.test")
    page = client.get(f"/risks/{risk_id}")
    assert 'value="pert:1,2,6"' in page.text and "Delete this risk" in page.text
    fields = {
        "csrf_token": token,
        "title": "Renamed",
        "inherent_likelihood": "4",
        "inherent_impact": "5",
        "status": "mitigating",
        "owner": "The practice manager",
        "lef": "pert:1,2,6",
        "lm": "1000",
    }
    assert client.post(f"/risks/{risk_id}/edit", data=fields).status_code == 303
    view = service.get_risk(session, SYSTEM, risk_id)
    assert view.risk.title == "Renamed" and view.risk.status is RiskStatus.MITIGATING
    assert view.risk.fair is not None and view.risk.fair["lef"]["confidence"] == 8
    fields["lm"] = "2000"
    assert client.post(f"/risks/{risk_id}/edit", data=fields).status_code == 303
    session.rollback()
    changed = service.get_risk(session, SYSTEM, risk_id).risk.fair
    assert changed is not None and changed["lm"] == {"kind": "constant", "value": 2000.0}
    deleted = client.post(f"/risks/{risk_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/orgs/client-a/risks?done=deleted"


def test_the_msp_portfolio_page(client: TestClient, session: Session, world: World) -> None:
    make_risk(session, fair={"lef": 1, "lm": 1000}, title="A's risk")
    make_risk(session, "client-b", fair={"lef": 2, "lm": 1000}, title="B's risk")
    make_risk(session, "client-z", fair={"lef": 2, "lm": 1000}, title="Z's risk")
    sign_in(client, "admin@northwind.test")
    page = client.get("/orgs/northwind/risks")
    assert page.status_code == 200
    assert 'href="/orgs/client-a/risks"' in page.text and 'href="/orgs/client-b/risks"' in page.text
    assert "client-z" not in page.text.lower() and "3,000" in page.text
    assert is_svg(client.get("/orgs/northwind/risks/lec.svg"))
    assert is_svg(client.get("/orgs/northwind/risks/gap.svg"))
    assert client.get("/orgs/otherco/risks").status_code == 404


def test_charts_that_do_not_exist(client: TestClient, session: Session, world: World) -> None:
    qualitative = make_risk(session)
    sign_in(client, "admin@client-a.test")
    assert client.get(f"/risks/{qualitative}/lec.svg").status_code == 404
    assert client.get("/orgs/client-a/risks/gap.svg").status_code == 404
    assert client.get("/orgs/client-a/risks/lec.svg").status_code == 404
    assert client.get("/risks/999999").status_code == 404
