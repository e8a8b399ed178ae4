"""`assay risk create|update|delete|list|show|accept|expire|portfolio` on a real database."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.cli.main import app
from assay.risk.models import RiskAcceptance
from tests.factories import World
from tests.risk_register.conftest import CIS, assess, stored

runner = CliRunner()
OPERATOR = "it-operator@client-a.test"
EXECUTIVE = "executive@client-a.test"
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["risk", *args])
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> Any:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


CREATE = [
    "create",
    "--org",
    "client-a",
    "--title",
    "Ransomware on the file server",
    "--threat-actor",
    "Criminal group",
    "--likelihood",
    "high",
    "--impact",
    "5",
    "--tef",
    "1,4,12",
    "--vuln",
    "0.1,0.3,0.6",
    "--lm",
    "20000,150000,2000000",
    "--tolerance",
    "500000",
    "--control",
    f"{CIS}:1.1:vulnerability:0.2,0.4,0.6",
    "--as",
    OPERATOR,
]


def test_the_register_from_the_command_line(session: Session, world: World, catalogs: None) -> None:
    assess(session, world, "client-a", {"1.1": ("fully", "claimed")})
    created = ok(*CREATE)
    risk_id = created["id"]
    assert created["inherent"]["level_name"] == "very high"
    assert created["controls"][0]["control"] == f"{CIS}:1.1"

    listed = ok("list", "--org", "client-a", "--as", EXECUTIVE)
    assert listed["total"] == 1 and listed["items"][0]["title"] == "Ransomware on the file server"

    shown = ok("show", str(risk_id), "--iterations", "20000", "--as", EXECUTIVE)
    simulation = shown["simulation"]
    assert simulation["iterations"] == 20000 and simulation["seed"] == 1
    assert simulation["controls"][0]["credit"] == 0.5
    assert simulation["verification_gap"]["mean"] > 0
    assert simulation["residual"]["tolerance"] == 500000
    code, text, _ = run("show", str(risk_id), "--iterations", "20000", "--as", EXECUTIVE)
    assert code == 0
    assert "Verification gap" in text and "claimed" in text and "very high" in text

    changed = ok("update", str(risk_id), "--status", "mitigating", "--as", OPERATOR)
    assert changed["status"] == "mitigating"

    code, _, err = run(
        "accept", str(risk_id), "--reason", "ok", "--expires", NEXT_YEAR, "--as", OPERATOR
    )
    assert code == 1 and "may not risk.accept" in err
    accepted = ok(
        "accept", str(risk_id), "--reason", "Insured", "--expires", NEXT_YEAR, "--as", EXECUTIVE
    )
    assert (accepted["accepted_by"], accepted["expires_on"]) == (EXECUTIVE, NEXT_YEAR)

    portfolio = ok("portfolio", "--org", "client-a", "--iterations", "5000", "--as", EXECUTIVE)
    assert portfolio["risks"] == 1 and portfolio["residual"]["iterations"] == 5000
    msp = ok("portfolio", "--org", "northwind", "--iterations", "5000")
    assert [c["organization"] for c in msp["clients"]] == ["client-a", "client-b"]
    assert msp["residual"]["mean"] == pytest.approx(portfolio["residual"]["mean"])
    code, text, _ = run("portfolio", "--org", "northwind", "--iterations", "5000")
    assert code == 0 and "Clients" in text and "Verification gap" in text

    session.execute(update(RiskAcceptance).values(expires_on=date.today() - timedelta(days=1)))
    session.commit()
    code, out, _ = run("expire")
    assert (code, out.strip()) == (0, f"1 risk reopened: {risk_id}")
    assert ok("list", "--org", "client-a")["items"][0]["status"] == "open"
    assert run("expire", "--org", "client-a")[1].strip() == "0 risks reopened"

    code, out, _ = run("delete", str(risk_id), "--as", OPERATOR)
    assert code == 0 and stored(session)[0] == 0


def test_create_from_a_file_with_options_on_top(
    session: Session, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text(
        "title: Lost laptop\n"
        "inherent_likelihood: moderate\n"
        "inherent_impact: 2\n"
        "treatment: mitigate\n"
        "fair:\n"
        "  lef: 0.5,1,3\n"
        "  lm: {kind: lognormal, low: 2000, high: 60000}\n"
    )
    created = ok("create", "--org", "client-a", "--file", str(path), "--impact", "4")
    assert created["inherent"]["impact"] == 4 and created["treatment"] == "mitigate"
    assert created["fair"]["lm"]["kind"] == "lognormal"

    path.write_text(
        "title: Lost laptop\ninherent_likelihood: 3\ninherent_impact: 2\n"
        "fair:\n  lef: 1\n  lm: 9,5,1\n"
    )
    before = stored(session)
    code, out, err = run("create", "--org", "client-a", "--file", str(path))
    assert code == 1 and out == ""
    assert err.strip() == f"error: {path}: fair.lm: minimum (9) is above maximum (1)"
    path.write_text("- not a mapping\n")
    code, _, err = run("create", "--org", "client-a", "--file", str(path))
    assert code == 1 and "expected a mapping" in err
    assert stored(session) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lef", "1", "--lm", "9,5,1"], "error: --lm: minimum (9) is above maximum (1)"),
        (
            ["--tef", "-1,2,3", "--vuln", "0.5", "--lm", "9"],
            "error: --tef: minimum (-1) is negative",
        ),
        (
            ["--tef", "1", "--vuln", "0.1,0.5,1.2", "--lm", "9"],
            "error: --vuln: maximum (1.2) is above 1",
        ),
        (["--lef", "1", "--lm", "a,b,c"], "error: --lm: minimum must be a number, not 'a'"),
        (["--impact", "7"], "error: --impact: must be 1 to 5, not 7"),
        (["--due", "tomorrow"], "error: --due: must be a date (YYYY-MM-DD), not 'tomorrow'"),
        (["--tolerance", "-3"], "error: --tolerance: must be an amount >= 0, not -3"),
        (["--asset", "nowhere"], "error: --asset #1: no asset named 'nowhere' in 'client-a'"),
        (["--status", "accepted"], "error: --status: a risk becomes accepted only through"),
    ],
)
def test_bad_options_name_the_option_and_store_nothing(
    session: Session, world: World, args: list[str], message: str
) -> None:
    base = ["create", "--org", "client-a", "--title", "x", "--likelihood", "3", "--impact", "3"]
    before = stored(session)
    code, out, err = run(*base, *args)
    assert (code, out) == (1, "")
    assert err.startswith(message) and err.count("\n") == 1
    assert stored(session) == before


def test_missing_required_option(session: Session, world: World) -> None:
    code, _, err = run("create", "--org", "client-a", "--title", "x", "--impact", "3")
    assert code == 1 and err.strip() == "error: --likelihood: missing: required"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--iterations", "0"], "error: --iterations: must be between 1 and 10,000,000, not 0"),
        (["--iterations", "5e6"], "error: --iterations: must be between 1 and 1,000,000"),
        (["--iterations", "lots"], "error: --iterations: must be a whole number, not 'lots'"),
        (["--seed", "-4"], "error: --seed: must be a whole number"),
    ],
)
def test_absurd_simulation_options(
    session: Session, world: World, args: list[str], message: str
) -> None:
    risk_id = ok(
        "create",
        "--org",
        "client-a",
        "--title",
        "x",
        "--likelihood",
        "3",
        "--impact",
        "3",
        "--lef",
        "1",
        "--lm",
        "10",
    )["id"]
    for command in (["show", str(risk_id)], ["portfolio", "--org", "client-a"]):
        code, out, err = run(*command, *args)
        assert (code, out) == (1, ""), err
        assert err.startswith(message)


def test_outsiders_get_not_found(session: Session, world: World) -> None:
    risk_id = ok(
        "create", "--org", "client-b", "--title", "B", "--likelihood", "3", "--impact", "3"
    )["id"]
    code, _, err = run("show", str(risk_id), "--as", OPERATOR)
    assert code == 1 and err.strip() == f"error: risk {risk_id} not found"
    code, _, err = run("list", "--org", "client-b", "--as", OPERATOR)
    assert code == 1 and err.strip() == "error: organization 'client-b' not found"
