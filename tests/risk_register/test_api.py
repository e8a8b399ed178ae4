"""The risk register API: CRUD, acceptance, simulation, heat map and portfolio; problem
documents naming the field; nothing stored on refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assay.tenancy.models import Role
from tests.api.support import AuthFor, bearer, issue_token
from tests.factories import World
from tests.risk_register.conftest import CIS, assess, make_risk, stored

V1 = "/api/v1"
PROBLEM = "application/problem+json"
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


@pytest.fixture
def client(shared_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(shared_app) as test_client:
        yield test_client


@pytest.fixture
def auth(session: Session, world: World) -> AuthFor:
    secrets: dict[tuple[str, Role], str] = {}

    def headers(slug: str, role: Role) -> dict[str, str]:
        if (slug, role) not in secrets:
            secrets[(slug, role)] = issue_token(session, world, slug, role)
        return bearer(secrets[(slug, role)])

    return headers


BODY: dict[str, Any] = {
    "title": "Ransomware encrypts the file server",
    "threat_actor": "Criminal group",
    "owner": "it-operator@client-a.test",
    "treatment": "mitigate",
    "inherent_likelihood": 4,
    "inherent_impact": 5,
    "fair": {
        "tef": "1,4,12",
        "vuln": [0.1, 0.3, 0.6],
        "lm": {"kind": "lognormal", "low": 20000, "high": 2000000},
    },
    "tolerance": 500000,
    "controls": [{"control": f"{CIS}:1.1", "effect": "vulnerability", "min": 0.2, "max": 0.6}],
}


def test_the_register_through_the_api(
    client: TestClient, auth: AuthFor, session: Session, world: World, catalogs: None
) -> None:
    assess(session, world, "client-a", {"1.1": ("fully", "claimed")})
    operator, executive = auth("client-a", Role.IT_OPERATOR), auth("client-a", Role.EXECUTIVE)
    created = client.post(f"{V1}/orgs/client-a/risks", headers=operator, json=BODY)
    assert created.status_code == 201, created.text
    risk = created.json()
    assert risk["status"] == "open" and risk["owner_is_user"] is True
    assert risk["inherent"]["level_name"] == "very high"
    assert risk["controls"][0]["mode"] == pytest.approx(0.4)
    assert risk["fair"]["vuln"] == {
        "kind": "pert",
        "min": 0.1,
        "mode": 0.3,
        "max": 0.6,
        "confidence": 4.0,
    }
    url = f"{V1}/risks/{risk['id']}"

    listed = client.get(f"{V1}/orgs/client-a/risks", headers=executive, params={"limit": 1})
    assert listed.status_code == 200
    assert listed.json()["total"] == 1 and listed.json()["items"][0]["id"] == risk["id"]
    assert client.get(url, headers=executive).json()["title"] == BODY["title"]

    patched = client.patch(
        url,
        headers=operator,
        json={"status": "mitigating", "residual_likelihood": 2, "residual_impact": 4},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["residual"]["level_name"] == "moderate"

    heat = client.get(f"{V1}/orgs/client-a/risks/heatmap", headers=executive).json()
    assert heat["inherent"][3][4] == 1 and heat["residual"][1][3] == 1
    assert heat["grid"][4][4] == "very high" and len(heat["levels"]) == 5

    simulated = client.get(f"{url}/simulation", headers=executive, params={"iterations": 20000})
    assert simulated.status_code == 200, simulated.text
    figures = simulated.json()
    assert (
        figures["controls"][0]["credit"] == 0.5
        and figures["controls"][0]["basis"] == "fully, claimed"
    )
    assert figures["verification_gap"]["mean"] > 0
    assert figures["residual"]["mean"] < figures["inherent"]["mean"]
    assert figures["residual"]["prob_exceed"] is not None and len(figures["residual"]["lec"]) == 50
    again = client.get(f"{url}/simulation", headers=executive, params={"iterations": 20000})
    assert again.json() == figures

    refused = client.post(
        f"{url}/acceptances", headers=operator, json={"reason": "ok", "expires_on": NEXT_YEAR}
    )
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    accepted = client.post(
        f"{url}/acceptances", headers=executive, json={"reason": "Insured", "expires_on": NEXT_YEAR}
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["accepted_by"] == "executive@client-a.test"
    assert client.get(url, headers=executive).json()["acceptance"]["reason"] == "Insured"

    portfolio = client.get(
        f"{V1}/orgs/client-a/risk-portfolio",
        headers=executive,
        params={"iterations": 5000, "tolerance": 1e6},
    )
    assert portfolio.status_code == 200, portfolio.text
    assert portfolio.json()["risks"] == 1 and portfolio.json()["residual"]["tolerance"] == 1e6
    msp = client.get(
        f"{V1}/orgs/northwind/risk-portfolio",
        headers=auth("northwind", Role.ADMIN),
        params={"iterations": 5000},
    ).json()
    assert [c["organization"] for c in msp["clients"]] == ["client-a", "client-b"]
    assert msp["residual"]["mean"] == pytest.approx(portfolio.json()["residual"]["mean"])

    assert client.delete(url, headers=executive).status_code == 403
    assert client.delete(url, headers=operator).status_code == 204
    assert client.get(url, headers=operator).status_code == 404


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"fair": {"lef": 1, "lm": "9,5,1"}}, "fair.lm: minimum (9) is above maximum (1)"),
        ({"fair": {"tef": -2, "vuln": 0.5, "lm": 10}}, "fair.tef: value (-2) is negative"),
        (
            {"fair": {"tef": 2, "vuln": "0.2,0.5,1.4", "lm": 10}},
            "fair.vuln: maximum (1.4) is above 1",
        ),
        ({"fair": {"lef": "often", "lm": 10}}, "fair.lef: value must be a number, not 'often'"),
        ({"fair": {"lef": 1}}, "fair.lm: missing"),
        ({"fair": {"lef": 1, "lm": {"kind": "uniform", "min": 5}}}, "fair.lm: max missing"),
        (
            {
                "controls": [
                    {"control": "cis-controls-v8.1:1.1", "effect": "tef", "min": 0.5, "max": 0.2}
                ]
            },
            "controls[0].min: minimum (0.5) is above maximum (0.2)",
        ),
        ({"assets": ["nowhere"]}, "assets[0]: no asset named 'nowhere' in 'client-a'"),
        ({"status": "accepted"}, "status: a risk becomes accepted only through an acceptance"),
        ({"title": "  "}, "title: must not be empty"),
    ],
)
def test_bad_values_are_422_naming_the_field(
    client: TestClient, auth: AuthFor, session: Session, changes: dict[str, Any], where: str
) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = stored(session)
    response = client.post(
        f"{V1}/orgs/client-a/risks", headers=headers, json={**BODY, "controls": [], **changes}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].startswith(where)
    assert stored(session) == before


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"inherent_likelihood": 6}, ["body", "inherent_likelihood"]),
        ({"inherent_impact": None}, ["body", "inherent_impact"]),
        ({"tolerance": -1}, ["body", "tolerance"]),
        ({"tolerance": "lots"}, ["body", "tolerance"]),
        (
            {
                "controls": [
                    {"control": "cis-controls-v8.1:1.1", "effect": "tef", "min": 0.1, "max": 3}
                ]
            },
            ["body", "controls", 0, "max"],
        ),
        ({"colour": "red"}, ["body", "colour"]),
    ],
)
def test_malformed_bodies_name_the_field(
    client: TestClient,
    auth: AuthFor,
    session: Session,
    changes: dict[str, Any],
    location: list[Any],
) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = stored(session)
    body = {k: v for k, v in {**BODY, **changes}.items() if v is not None}
    response = client.post(f"{V1}/orgs/client-a/risks", headers=headers, json=body)
    assert response.status_code == 422
    assert location in [issue["location"] for issue in response.json()["errors"]]
    assert stored(session) == before


@pytest.mark.parametrize("iterations", ["0", "-3", "1000001", "1e9", "many"])
def test_absurd_iterations_are_422(
    client: TestClient, auth: AuthFor, session: Session, world: World, iterations: str
) -> None:
    risk_id = make_risk(session, fair={"lef": 1, "lm": 10})
    headers = auth("client-a", Role.ADMIN)
    for url in (f"{V1}/risks/{risk_id}/simulation", f"{V1}/orgs/client-a/risk-portfolio"):
        response = client.get(url, headers=headers, params={"iterations": iterations})
        assert response.status_code == 422
        assert response.json()["errors"][0]["location"] == ["query", "iterations"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reason": "   ", "expires_on": NEXT_YEAR}, "reason: must not be empty"),
        (
            {"reason": "ok", "expires_on": date.today().isoformat()},
            "expires_on: must be after today",
        ),
        ({"reason": "ok", "expires_on": "2099-01-01"}, "expires_on: must be at most three years"),
    ],
)
def test_bad_acceptances_store_nothing(
    client: TestClient,
    auth: AuthFor,
    session: Session,
    world: World,
    body: dict[str, str],
    message: str,
) -> None:
    risk_id = make_risk(session)
    headers = auth("client-a", Role.EXECUTIVE)
    before = stored(session)
    response = client.post(f"{V1}/risks/{risk_id}/acceptances", headers=headers, json=body)
    assert response.status_code == 422 and response.json()["detail"].startswith(message)
    assert stored(session) == before


def test_missing_fields_of_an_acceptance(
    client: TestClient, auth: AuthFor, session: Session, world: World
) -> None:
    risk_id = make_risk(session)
    response = client.post(
        f"{V1}/risks/{risk_id}/acceptances",
        headers=auth("client-a", Role.EXECUTIVE),
        json={"reason": ""},
    )
    assert response.status_code == 422
    locations = [issue["location"] for issue in response.json()["errors"]]
    assert ["body", "reason"] in locations and ["body", "expires_on"] in locations


def test_a_qualitative_risk_has_no_simulation(
    client: TestClient, auth: AuthFor, session: Session, world: World
) -> None:
    risk_id = make_risk(session)
    response = client.get(f"{V1}/risks/{risk_id}/simulation", headers=auth("client-a", Role.ADMIN))
    assert response.status_code == 409 and "no FAIR estimates" in response.json()["detail"]
