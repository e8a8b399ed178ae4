"""`assay assess` end to end through the CLI against the test database.

Every act is done `--as` a named user; the audit trail must record that user and "cli".
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.assess.models import Answer, AnswerState, Evidence, Verification
from assay.auditlog.models import AuditEvent
from assay.cli.main import app
from tests.factories import build_world, sync_catalogs

runner = CliRunner()

ADMIN = "admin@northwind.test"
OPERATOR = "it-operator@client-a.test"
AUDITOR = "auditor@sentinel.test"  # a granted auditor firm: external verification
CLIENT_AUDITOR = "auditor@client-a.test"  # the client's own auditor: internal verification
STRANGER = "admin@client-b.test"  # another client of the same MSP


def assay(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = assay(*args)
    assert code == 0, f"assay {' '.join(args)} exited {code}: {err}"
    return out


def ok_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json"))


def refused(*args: str, code: int = 1) -> str:
    got, out, err = assay(*args)
    assert got == code, f"assay {' '.join(args)} exited {got}, not {code}: {out}{err}"
    return err


@pytest.fixture(autouse=True)
def world(session: Session) -> None:
    build_world(session)
    sync_catalogs(session)
    session.commit()


def create(*extra: str) -> int:
    created = ok_json(
        "assess",
        "create",
        "--org",
        "client-a",
        "--framework",
        "cis-controls-v8.1",
        "--name",
        "2026 CIS",
        "--ig",
        "1",
        "--as",
        ADMIN,
        *extra,
    )
    return int(created["id"])


def events(session: Session, action: str) -> list[AuditEvent]:
    session.rollback()  # a fresh snapshot: the CLI committed in its own transactions
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def answer_row(session: Session, assessment_id: int, label: str) -> Answer:
    from assay.catalog.models import Control

    session.rollback()
    return session.scalars(
        select(Answer)
        .join(Control, Control.id == Answer.control_id)
        .where(Answer.assessment_id == assessment_id, Control.label == label)
    ).one()


# --- assessments -----------------------------------------------------------------------------


def test_create_list_show(session: Session) -> None:
    created = ok_json(
        "assess",
        "create",
        "--org",
        "client-a",
        "--framework",
        "cis-controls-v8.1",
        "--name",
        "2026 CIS",
        "--ig",
        "1",
        "--owner",
        OPERATOR,
        "--due",
        "2026-12-31",
        "--scope",
        "All sites",
        "--as",
        ADMIN,
    )
    assert created["state"] == "draft" and created["baseline"] == "ig1"
    assert created["due_on"] == "2026-12-31" and created["organization"] == "client-a"
    listed = ok_json("assess", "list", "--org", "client-a", "--as", OPERATOR)
    assert set(listed) == {"items", "total", "limit", "offset"}
    assert [a["id"] for a in listed["items"]] == [created["id"]]
    shown = ok_json("assess", "show", str(created["id"]), "--as", OPERATOR)
    assert shown["controls"] == 56 and shown["answered"] == 0
    assert shown["owner"] == OPERATOR and shown["scope"] == "All sites"
    assert len(shown["questions"]) == 56
    assert shown["next_states"] == ["in_progress"]
    assert [g["label"] for g in shown["groups"]][:3] == ["1", "2", "3"]
    assert shown["questions"][0] == {
        "control": "1.1",
        "title": "Asset inventory",
        "group": "1",
        "target": None,
        "status": None,
        "maturity": None,
        "state": None,
        "justification": None,
        "notes": None,
        "owner": None,
        "implemented_by": None,
        "answered_by": None,
        "verdict": None,
        "evidence": 0,
        "expired_evidence": 0,
    }
    [event] = events(session, "assessment.create")
    assert (event.actor_label, event.via) == (ADMIN, "cli")

    out = ok("assess", "show", str(created["id"]))  # the local operator, human form
    assert "answered 0 of 56" in out and "Questionnaire" in out
    assert "2026 CIS" in ok("assess", "list", "--org", "client-a")


def test_create_with_target_maturity_and_no_as_records_the_local_operator(
    session: Session,
) -> None:
    created = ok_json(
        "assess",
        "create",
        "--org",
        "client-a",
        "--framework",
        "nist-csf-2.0",
        "--name",
        "CSF profile",
        "--target-maturity",
        "3",
    )
    shown = ok_json("assess", "show", str(created["id"]))
    assert shown["controls"] == 106
    assert {q["target"] for q in shown["questions"]} == {3}
    [event] = events(session, "assessment.create")
    assert event.actor_label.startswith("cli:") and event.via == "cli"


def test_create_refusals() -> None:
    base = ("assess", "create", "--org", "client-a", "--framework", "cis-controls-v8.1")
    refused(*base, "--name", "x", "--due", "2026-02-30", code=2)
    refused(*base, "--name", "x", "--ig", "4", code=2)
    refused(*base, "--name", "x", "--target-maturity", "6", code=2)
    err = refused(*base, "--name", "x", "--ig", "1", "--baseline", "ig2")
    assert err.startswith("error: give a target implementation group or a baseline")
    err = refused(
        "assess", "create", "--org", "northwind", "--framework", "nist-csf-2.0", "--name", "x"
    )
    assert "not a client organization" in err
    err = refused(*base, "--name", "x", "--as", OPERATOR)
    assert "may not" in err
    err = refused(*base, "--name", "x", "--as", STRANGER)
    assert err.strip() == "error: organization 'client-a' not found"
    assert len(err.strip().splitlines()) == 1


# --- answers, evidence, verification -------------------------------------------------------


def test_answer_evidence_verify_reject(session: Session, tmp_path: Path, data_dir: Path) -> None:
    aid = str(create())
    out = ok(
        "assess",
        "answer",
        aid,
        "1.1",
        "--status",
        "fully",
        "--maturity",
        "3",
        "--notes",
        "CMDB",
        "--implemented-by",
        OPERATOR,
        "--as",
        OPERATOR,
    )
    assert out.strip() == "1.1: fully, maturity 3 (claimed)"
    ok("assess", "answer", aid, "1.2", "--status", "partially", "--maturity", "1", "--as", OPERATOR)
    ok(
        "assess",
        "answer",
        aid,
        "2.1",
        "--status",
        "not applicable",
        "--justification",
        "no software in scope",
        "--as",
        OPERATOR,
    )

    content = b"inventory export\n" * 1000
    upload = tmp_path / "inventory.txt"
    upload.write_bytes(content)
    added = ok_json(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--file",
        str(upload),
        "--collected",
        "2026-01-05",
        "--expires",
        "2027-01-05",
        "--as",
        OPERATOR,
    )
    digest = hashlib.sha256(content).hexdigest()
    assert added["sha256"] == digest and added["size"] == len(content)
    assert added["name"] == "inventory.txt" and added["media_type"] == "text/plain"
    stored = session.get(Evidence, added["id"])
    assert stored is not None and stored.sha256 == digest and stored.uploaded_by_id is not None
    assert (data_dir / "evidence" / digest[:2] / digest[2:]).read_bytes() == content
    out = ok(
        "assess",
        "evidence",
        aid,
        "1.2",
        "--url",
        "https://wiki.example.org/rogue",
        "--collected",
        "2026-01-06",
        "--title",
        "Rogue device runbook",
        "--as",
        OPERATOR,
    )
    assert "link https://wiki.example.org/rogue" in out

    out = ok("assess", "verify", aid, "1.1", "--comment", "seen the CMDB", "--as", AUDITOR)
    assert out.strip() == "1.1: verified (external)"
    out = ok("assess", "verify", aid, "2.1", "--as", CLIENT_AUDITOR)
    assert out.strip() == "2.1: verified (internal)"
    out = ok("assess", "reject", aid, "1.2", "--comment", "runbook only", "--as", AUDITOR)
    assert out.strip() == "1.2: rejected (external)"

    shown = ok_json("assess", "show", aid, "--as", AUDITOR)
    assert shown["answered"] == 3
    assert shown["states"] == {"verified": 2, "rejected": 1}
    assert shown["verified"] == 2
    by_label = {q["control"]: q for q in shown["questions"]}
    shown_verdict = by_label["1.1"]["verdict"]
    assert (shown_verdict["verifier"], shown_verdict["independence"]) == (AUDITOR, "external")
    assert by_label["1.1"]["implemented_by"] == OPERATOR and by_label["1.1"]["notes"] == "CMDB"
    queue = ok_json("assess", "show", aid, "--state", "rejected", "--as", AUDITOR)
    assert [q["control"] for q in queue["questions"]] == ["1.2"]
    one = ok_json("assess", "show", aid, "--group", "2", "--as", AUDITOR)
    assert {q["group"] for q in one["questions"]} == {"2"} and one["controls"] == 56
    assert by_label["1.1"]["evidence"] == 1 and by_label["1.1"]["answered_by"] == OPERATOR
    assert by_label["1.2"]["state"] == "rejected"
    assert by_label["2.1"]["status"] == "not_applicable"

    verdict = session.scalars(
        select(Verification).where(
            Verification.answer_id == answer_row(session, int(aid), "1.1").id
        )
    ).one()
    assert verdict.snapshot["evidence"][0]["sha256"] == digest
    expected = {
        "answer.set": OPERATOR,
        "evidence.upload": OPERATOR,
        "evidence.link": OPERATOR,
        "answer.verify": CLIENT_AUDITOR,
        "answer.reject": AUDITOR,
    }
    for action, who in expected.items():
        found = events(session, action)
        assert found, action
        assert {(e.actor_label, e.via) for e in found} >= {(who, "cli")}, action
    assert {e.actor_label for e in events(session, "answer.verify")} == {AUDITOR, CLIENT_AUDITOR}

    # changing a verified answer puts it back to claimed
    ok("assess", "answer", aid, "1.1", "--status", "largely", "--maturity", "3", "--as", OPERATOR)
    assert answer_row(session, int(aid), "1.1").state is AnswerState.CLAIMED
    assert "intact" in ok("audit-log", "verify")


def test_people_acts_require_as() -> None:
    aid = str(create())
    for args in (
        ("answer", aid, "1.1", "--status", "fully"),
        ("evidence", aid, "1.1", "--url", "https://x.example.org", "--collected", "2026-01-01"),
        ("verify", aid, "1.1"),
        ("reject", aid, "1.1", "--comment", "no"),
        ("state", aid, "in_progress"),
        ("clone", aid),
        ("import", aid, "answers.csv"),
    ):
        err = refused("assess", *args, code=2)
        assert "Missing option '--as'" in err, args


def test_refusals(session: Session, tmp_path: Path) -> None:
    aid = str(create())
    ok("assess", "answer", aid, "1.1", "--status", "fully", "--as", OPERATOR)
    before = session.scalar(select(func.count()).select_from(AuditEvent))

    # IT operators never verify; nobody judges their own evidence
    err = refused("assess", "verify", aid, "1.1", "--as", OPERATOR)
    assert "may not" in err and len(err.strip().splitlines()) == 1
    ok(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--url",
        "https://wiki.example.org/x",
        "--collected",
        "2026-01-05",
        "--as",
        AUDITOR,
    )
    err = refused("assess", "verify", aid, "1.1", "--as", AUDITOR)
    assert "separation of duties" in err
    err = refused("assess", "reject", aid, "1.1", "--comment", "mine", "--as", AUDITOR)
    assert "separation of duties" in err
    err = refused("assess", "reject", aid, "1.1", "--as", CLIENT_AUDITOR, code=2)
    assert "Missing option '--comment'" in err
    err = refused("assess", "reject", aid, "1.1", "--comment", " ", "--as", CLIENT_AUDITOR)
    assert "needs a comment" in err

    # bad values
    err = refused("assess", "answer", aid, "1.2", "--status", "mostly", "--as", OPERATOR)
    assert err.startswith("error: unknown status 'mostly'")
    refused(
        "assess",
        "answer",
        aid,
        "1.2",
        "--status",
        "fully",
        "--maturity",
        "6",
        "--as",
        OPERATOR,
        code=2,
    )
    refused(
        "assess",
        "answer",
        aid,
        "1.2",
        "--status",
        "fully",
        "--maturity",
        "x",
        "--as",
        OPERATOR,
        code=2,
    )
    err = refused("assess", "answer", aid, "1.2", "--status", "not_applicable", "--as", OPERATOR)
    assert "needs a justification" in err
    err = refused("assess", "answer", aid, "99.9", "--status", "fully", "--as", OPERATOR)
    assert "control '99.9' is not part of assessment" in err
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--url",
        "https://x.example.org",
        "--collected",
        "2026-13-01",
        "--as",
        OPERATOR,
        code=2,
    )
    assert "--collected" in err
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--url",
        "https://x.example.org",
        "--collected",
        "2999-01-01",
        "--as",
        OPERATOR,
    )
    assert "in the future" in err
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--url",
        "https://x.example.org",
        "--collected",
        "2026-01-02",
        "--expires",
        "2026-01-01",
        "--as",
        OPERATOR,
    )
    assert "expire after" in err
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--url",
        "ftp://x.example.org",
        "--collected",
        "2026-01-02",
        "--as",
        OPERATOR,
    )
    assert "http or https" in err
    err = refused(
        "assess", "evidence", aid, "1.1", "--collected", "2026-01-02", "--as", OPERATOR, code=2
    )
    assert "--file or --url" in err
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--file",
        str(tmp_path),
        "--collected",
        "2026-01-02",
        "--as",
        OPERATOR,
    )
    assert err.strip() == f"error: {tmp_path}: is a directory, not a file"
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--file",
        str(tmp_path / "missing.pdf"),
        "--collected",
        "2026-01-02",
        "--as",
        OPERATOR,
    )
    assert "No such file or directory" in err
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--file",
        str(empty),
        "--collected",
        "2026-01-02",
        "--as",
        OPERATOR,
    )
    assert "the file is empty" in err
    err = refused(
        "assess",
        "evidence",
        aid,
        "1.2",
        "--url",
        "https://x.example.org",
        "--collected",
        "2026-01-02",
        "--as",
        OPERATOR,
    )
    assert "has no answer yet" in err

    # out of reach: not found, without naming the organization
    err = refused("assess", "show", aid, "--as", STRANGER)
    assert err.strip() == f"error: assessment {aid} not found"
    err = refused("assess", "answer", aid, "1.1", "--status", "fully", "--as", STRANGER)
    assert err.strip() == f"error: assessment {aid} not found"
    err = refused("assess", "show", "999999")
    assert err.strip() == "error: assessment 999999 not found"
    err = refused("assess", "show", aid, "--as", "ghost@nowhere.test")
    assert "user 'ghost@nowhere.test' not found" in err
    refused("assess", "show", "zero", code=2)

    session.rollback()
    after = session.scalar(select(func.count()).select_from(AuditEvent))
    assert after == before + 1  # only the auditor's evidence link landed


def test_states_clone_score_compare(session: Session) -> None:
    aid = str(create())
    for label, status, maturity in (
        ("1.1", "fully", "4"),
        ("1.2", "partially", "1"),
        ("2.1", "largely", "2"),
    ):
        ok(
            "assess",
            "answer",
            aid,
            label,
            "--status",
            status,
            "--maturity",
            maturity,
            "--as",
            OPERATOR,
        )
    ok(
        "assess",
        "evidence",
        aid,
        "1.1",
        "--url",
        "https://wiki.example.org/cmdb",
        "--collected",
        "2026-01-05",
        "--as",
        OPERATOR,
    )
    assert ok("assess", "state", aid, "in_progress", "--as", ADMIN).strip() == (
        f"assessment {aid} is now in_progress"
    )
    ok("assess", "state", aid, "in_review", "--as", ADMIN)
    ok("assess", "verify", aid, "1.1", "--as", AUDITOR)
    err = refused("assess", "state", aid, "closed", "--as", OPERATOR)
    assert "may not" in err
    err = refused("assess", "state", aid, "finished", "--as", ADMIN)
    assert "unknown state 'finished'" in err
    ok("assess", "state", aid, "closed", "--as", AUDITOR)
    err = refused("assess", "answer", aid, "1.1", "--status", "partially", "--as", OPERATOR)
    assert "closed" in err
    [closing] = events(session, "assessment.close")
    assert (closing.actor_label, closing.via) == (AUDITOR, "cli")

    score = ok_json("assess", "score", aid, "--as", AUDITOR)
    totals = score["totals"]
    assert score["assessment"]["id"] == int(aid)
    assert (totals["assessed"], totals["answered"], totals["verified_count"]) == (56, 3, 1)
    assert totals["claimed"] > totals["verified"] > 0
    assert totals["assurance_gap"] == round(totals["claimed"] - totals["verified"], 2)
    assert [g["label"] for g in score["implementation_groups"]] == ["IG1"]
    assert len(score["blind_spots"]) >= 53  # unanswered, and 1.2 / 2.1 without evidence
    human = ok("assess", "score", aid, "--as", AUDITOR)
    assert "claimed vs verified" in human and "IG1" in human
    assert f"blind spots: {len(score['blind_spots'])} controls" in human

    clone = ok_json("assess", "clone", aid, "--name", "2027 CIS", "--as", ADMIN)
    assert clone["previous"] == int(aid) and clone["answered"] == 3 and clone["state"] == "draft"
    cid = str(clone["id"])
    ok("assess", "answer", cid, "1.2", "--status", "fully", "--maturity", "3", "--as", OPERATOR)
    ok("assess", "answer", cid, "2.1", "--status", "partially", "--maturity", "2", "--as", OPERATOR)
    [cloning] = events(session, "assessment.clone")
    assert (cloning.actor_label, cloning.via) == (ADMIN, "cli")

    compared = ok_json("assess", "compare", aid, cid, "--as", ADMIN)
    assert compared["first"]["id"] == int(aid) and compared["second"]["id"] == int(cid)
    assert compared["summary"]["improved"] == 1 and compared["summary"]["regressed"] == 1
    assert compared["state_changes"] == {"verified->claimed": 1}
    human = ok("assess", "compare", aid, cid, "--as", ADMIN)
    assert "1 improved, 1 regressed" in human and "verified -> claimed" in human
    err = refused("assess", "compare", aid, aid)
    assert "two different assessments" in err


def test_json_outputs_are_only_json() -> None:
    aid = str(create())
    for args in (
        ("list", "--org", "client-a"),
        ("show", aid),
        ("score", aid),
        ("create", "--org", "client-a", "--framework", "nist-csf-2.0", "--name", "y"),
        ("clone", aid, "--as", ADMIN),
    ):
        code, out, err = assay("assess", *args, "--json")
        assert code == 0, err
        assert isinstance(json.loads(out), dict)


# --- spreadsheets --------------------------------------------------------------------------


def test_export_import_round_trip(session: Session, tmp_path: Path) -> None:
    aid = str(create())
    ok(
        "assess",
        "answer",
        aid,
        "1.1",
        "--status",
        "fully",
        "--maturity",
        "3",
        "--notes",
        "=SUM(A1)",
        "--as",
        OPERATOR,
    )
    ok("assess", "answer", aid, "1.2", "--status", "partially", "--as", OPERATOR)
    sheet = tmp_path / "answers.csv"
    out = ok("assess", "export", aid, "--format", "csv", "-o", str(sheet), "--as", OPERATOR)
    assert out.startswith(f"wrote {sheet}")
    rows = list(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 56
    assert rows[0]["control"] == "1.1" and rows[0]["notes"] == "'=SUM(A1)"  # neutralized

    for row in rows:
        if row["control"] == "1.2":
            row["status"], row["maturity"] = "largely", "2"
        if row["control"] == "2.1":
            row["status"], row["maturity"] = "fully", "4"
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = ok("assess", "import", aid, str(edited), "--as", OPERATOR)
    assert out.strip() == "edited.csv: 1 created, 1 changed, 1 unchanged, 53 skipped (csv)"
    shown = {q["control"]: q for q in ok_json("assess", "show", aid)["questions"]}
    assert (shown["1.2"]["status"], shown["1.2"]["maturity"]) == ("largely", 2)
    assert (shown["2.1"]["status"], shown["2.1"]["maturity"]) == ("fully", 4)
    assert answer_row(session, int(aid), "1.1").notes == "=SUM(A1)"  # the quote came off
    [imported] = events(session, "answer.import")
    assert (imported.actor_label, imported.via) == (OPERATOR, "cli")

    workbook = tmp_path / "answers.xlsx"
    ok("assess", "export", aid, "--format", "xlsx", "-o", str(workbook))
    assert workbook.read_bytes()[:2] == b"PK"
    out = ok("assess", "import", aid, str(workbook), "--as", OPERATOR)
    assert "0 created, 0 changed, 3 unchanged" in out

    refused("assess", "export", aid, "--format", "pdf", "-o", str(tmp_path / "x.pdf"), code=2)
    err = refused("assess", "export", aid, "--format", "csv", "-o", str(tmp_path / "no" / "x"))
    assert "No such file or directory" in err


def test_import_reports_every_problem_and_changes_nothing(session: Session, tmp_path: Path) -> None:
    aid = str(create())
    ok("assess", "answer", aid, "1.1", "--status", "fully", "--as", OPERATOR)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "control,status,maturity,justification,notes,owner,implemented_by\n"
        "1.1,partially,2,,,,\n"
        "99.9,fully,3,,,,\n"
        "1.2,sometimes,9,,,,\n",
        encoding="utf-8",
    )
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    code, out, err = assay("assess", "import", aid, str(bad), "--as", OPERATOR)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: bad.csv: row 3:")
    problems = lines[:-1]
    assert len(problems) >= 3
    assert all(line.startswith(f"{bad}: row ") for line in problems)
    assert any("99.9" in line for line in problems)
    assert any("sometimes" in line for line in problems)
    assert any("maturity" in line for line in problems)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert answer_row(session, int(aid), "1.1").status == "fully"

    err = refused("assess", "import", aid, str(tmp_path), "--as", OPERATOR)
    assert "is a directory" in err
    err = refused("assess", "import", aid, str(tmp_path / "none.csv"), "--as", OPERATOR)
    assert "No such file or directory" in err
    err = refused("assess", "import", aid, str(bad), "--as", AUDITOR)
    assert "may not" in err
