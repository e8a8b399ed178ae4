"""The assessment API: lifecycle, answers, independent verification, evidence (uploads that
stream with a limit, downloads that are always attachments), scores, trend and spreadsheets.

Who may do what comes from auth/policy.yaml; these tests check that the routes carry the
services' decisions through (the full matrix is tests/assess/test_separation_of_duties.py) and
that outsiders are refused (tests/api/test_tenant_isolation.py covers every route for them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from assay.assess.models import Answer, Evidence, Verification
from assay.config import settings
from assay.db.engine import unit_of_work
from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem, audit_actions
from tests.factories import World

V1 = "/api/v1"
CIS = "cis-controls-v8.1"
CSF = "nist-csf-2.0"
COLLECTED = "2026-01-05"


@pytest.fixture
def assessment(client: TestClient, auth: AuthFor, world: World, catalogs: None) -> int:
    """A CIS v8.1 IG1 assessment of client-a, created by its MSP's administrator."""
    response = client.post(
        f"{V1}/orgs/client-a/assessments",
        headers=auth("northwind", Role.ADMIN),
        json={"framework": CIS, "name": "2026 CIS review", "target_ig": 1},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert (created["organization"], created["framework"], created["state"]) == (
        "client-a",
        CIS,
        "draft",
    )
    return int(created["id"])


def put_answer(
    client: TestClient, headers: dict[str, str], assessment_id: int, control: str, **body: Any
) -> Any:
    response = client.put(
        f"{V1}/assessments/{assessment_id}/answers/{quote(control, safe='')}",
        headers=headers,
        json={"status": "fully", "maturity": 3, **body},
    )
    assert response.status_code == 200, response.text
    return response.json()


def upload(
    client: TestClient,
    headers: dict[str, str],
    answer_id: int,
    content: bytes,
    name: str = "inventory.csv",
    **fields: str,
) -> Any:
    return client.post(
        f"{V1}/answers/{answer_id}/evidence",
        headers=headers,
        files={"file": (name, content, "text/csv")},
        data={"collected_on": COLLECTED, **fields},
    )


def count(engine: Engine, model: type[Any]) -> int:
    with unit_of_work(engine) as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def stored_files(data_dir: Path) -> list[Path]:
    root = data_dir / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def small_evidence_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """ASSAY_MAX_EVIDENCE_MB=1 for one test."""
    monkeypatch.setenv("ASSAY_MAX_EVIDENCE_MB", "1")
    settings.cache_clear()
    yield 1024 * 1024
    monkeypatch.delenv("ASSAY_MAX_EVIDENCE_MB")
    settings.cache_clear()


# --- assessments ---------------------------------------------------------------------------


def test_create_list_and_read_an_assessment(
    client: TestClient, auth: AuthFor, assessment: int
) -> None:
    executive = auth("client-a", Role.EXECUTIVE)
    listed = client.get(f"{V1}/orgs/client-a/assessments", headers=executive)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    (item,) = page["items"]
    assert item["id"] == assessment and item["name"] == "2026 CIS review"
    assert item["totals"]["assessed"] == 56 and item["totals"]["answered"] == 0
    assert item["totals"]["coverage"] == 0

    detail = client.get(f"{V1}/assessments/{assessment}", headers=executive, params={"limit": 10})
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["assessment"]["id"] == assessment and body["baseline"] == "ig1"
    assert (body["assessed"], body["answered"], body["verified"]) == (56, 0, 0)
    assert body["groups"][0]["label"] == "1" and len(body["groups"]) == 15
    controls = body["controls"]
    assert (controls["total"], controls["limit"], len(controls["items"])) == (56, 10, 10)
    first = controls["items"][0]
    assert (first["control"], first["group"], first["answer"], first["evidence"]) == (
        "1.1",
        "1",
        None,
        [],
    )
    one_group = client.get(
        f"{V1}/assessments/{assessment}", headers=executive, params={"group": "3", "limit": 200}
    ).json()["controls"]
    assert {i["group"] for i in one_group["items"]} == {"3"}
    assert one_group["total"] == len(one_group["items"]) > 0
    assert_problem(
        client.get(f"{V1}/assessments/{assessment}", headers=executive, params={"group": "99"}),
        404,
    )


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("client-a", Role.ADMIN, 201),
        ("client-a", Role.IT_OPERATOR, 403),
        ("client-a", Role.AUDITOR, 403),
        ("client-a", Role.EXECUTIVE, 403),
        ("sentinel", Role.AUDITOR, 403),
        ("watchtower", Role.ADMIN, 404),
    ],
)
def test_who_may_create_an_assessment(
    client: TestClient,
    auth: AuthFor,
    world: World,
    catalogs: None,
    slug: str,
    role: Role,
    status: int,
) -> None:
    response = client.post(
        f"{V1}/orgs/client-a/assessments",
        headers=auth(slug, role),
        json={"framework": CSF, "name": "CSF profile", "target_maturity": 3},
    )
    if status == 201:
        assert response.status_code == 201, response.text
    else:
        assert_problem(response, status)


def test_bad_assessments_are_refused(
    client: TestClient, auth: AuthFor, world: World, catalogs: None
) -> None:
    admin = auth("northwind", Role.ADMIN)
    url = f"{V1}/orgs/client-a/assessments"
    assert_problem(client.post(url, headers=admin, json={"framework": "nope", "name": "x"}), 404)
    assert_problem(
        client.post(url, headers=admin, json={"framework": CIS, "name": "x", "target_ig": 4}),
        422,
    )
    problem = assert_problem(
        client.post(
            f"{V1}/orgs/northwind/assessments", headers=admin, json={"framework": CIS, "name": "x"}
        ),
        422,
    )
    assert "not a client" in problem["detail"]


def test_lifecycle_clone_and_compare(client: TestClient, auth: AuthFor, assessment: int) -> None:
    admin, auditor = auth("northwind", Role.ADMIN), auth("sentinel", Role.AUDITOR)
    operator = auth("client-a", Role.IT_OPERATOR)
    url = f"{V1}/assessments/{assessment}/state"
    for state in ("in_progress", "in_review"):
        response = client.post(url, headers=admin, json={"state": state})
        assert response.status_code == 200 and response.json()["state"] == state
    answer = put_answer(client, operator, assessment, "1.1")
    assert_problem(client.post(url, headers=operator, json={"state": "closed"}), 403)
    closed = client.post(url, headers=auditor, json={"state": "closed"})
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    locked = client.put(
        f"{V1}/assessments/{assessment}/answers/1.2", headers=operator, json={"status": "fully"}
    )
    assert "closed" in assert_problem(locked, 409)["detail"]
    assert_problem(client.post(url, headers=admin, json={"state": "draft"}), 409)
    assert_problem(client.post(url, headers=admin, json={"state": "archived"}), 422)

    cloned = client.post(
        f"{V1}/assessments/{assessment}/clone", headers=admin, json={"name": "2027 CIS review"}
    )
    assert cloned.status_code == 201, cloned.text
    next_id = cloned.json()["id"]
    assert (cloned.json()["previous_id"], cloned.json()["state"]) == (assessment, "draft")
    put_answer(client, operator, next_id, "1.2", status="largely")
    trend = client.get(f"{V1}/assessments/{assessment}/compare/{next_id}", headers=admin)
    assert trend.status_code == 200, trend.text
    changes = {c["label"]: c["direction"] for c in trend.json()["controls"]}
    assert changes["1.2"] == "improved" and changes["1.1"] == "unchanged"
    assert answer["state"] == "claimed"
    assert_problem(
        client.get(f"{V1}/assessments/{assessment}/compare/{assessment}", headers=admin), 422
    )


# --- answers and verification --------------------------------------------------------------


def test_answer_verify_and_reopen(
    client: TestClient, auth: AuthFor, assessment: int, engine: Engine
) -> None:
    operator, auditor = auth("client-a", Role.IT_OPERATOR), auth("sentinel", Role.AUDITOR)
    answer = put_answer(client, operator, assessment, "1.1", notes="In the RMM tool.")
    assert (answer["control"], answer["status"], answer["state"]) == ("1.1", "fully", "claimed")
    answer_id = answer["id"]

    # nobody verifies what they did; IT operators never verify; executives only read
    for headers in (operator, auth("client-a", Role.EXECUTIVE)):
        refused = client.post(f"{V1}/answers/{answer_id}/verify", headers=headers, json={})
        assert_problem(refused, 403)
    assert_problem(
        client.post(f"{V1}/answers/{answer_id}/reject", headers=auditor, json={"comment": " "}),
        422,
    )
    verified = client.post(
        f"{V1}/answers/{answer_id}/verify", headers=auditor, json={"comment": "Seen the export."}
    )
    assert verified.status_code == 200, verified.text
    verdict = verified.json()
    assert (verdict["verdict"], verdict["independence"]) == ("verified", "external")
    assert len(verdict["snapshot_digest"]) == 64
    assert_problem(client.post(f"{V1}/answers/{answer_id}/verify", headers=auditor, json={}), 409)

    score = client.get(f"{V1}/assessments/{assessment}/score", headers=auditor)
    assert score.status_code == 200, score.text
    totals = score.json()["totals"]
    assert totals["verified_count"] == 1 and totals["verified"] > 0

    shown = client.get(f"{V1}/assessments/{assessment}", headers=auditor, params={"limit": 1})
    item = shown.json()["controls"]["items"][0]
    assert item["answer"]["verdict"]["verifier"] == "auditor@sentinel.test"
    assert item["answer"]["answered_by"] == "it-operator@client-a.test"

    # a change puts it back to claimed and says why
    put_answer(client, operator, assessment, "1.1", status="largely")
    item = client.get(
        f"{V1}/assessments/{assessment}", headers=auditor, params={"limit": 1}
    ).json()["controls"]["items"][0]
    assert item["answer"]["state"] == "claimed" and item["answer"]["verdict"] is None
    assert "was verified" in item["answer"]["reopened"]
    assert "status" in item["answer"]["reopened"]
    claimed = client.get(
        f"{V1}/assessments/{assessment}", headers=auditor, params={"state": "claimed"}
    ).json()["controls"]
    assert [i["control"] for i in claimed["items"]] == ["1.1"]

    rejected = client.post(
        f"{V1}/answers/{answer_id}/reject", headers=auditor, json={"comment": "No evidence."}
    )
    assert rejected.status_code == 200 and rejected.json()["verdict"] == "rejected"
    actions = audit_actions(engine)
    for action in ("answer.set", "answer.verify", "answer.reopen", "answer.reject"):
        assert action in actions
    assert count(engine, Verification) == 2


def test_bad_answers_are_refused(client: TestClient, auth: AuthFor, assessment: int) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    base = f"{V1}/assessments/{assessment}/answers"
    assert_problem(client.put(f"{base}/1.1", headers=operator, json={"status": "sort of"}), 422)
    assert_problem(
        client.put(f"{base}/1.1", headers=operator, json={"status": "fully", "maturity": 6}), 422
    )
    na = assert_problem(
        client.put(f"{base}/1.1", headers=operator, json={"status": "not_applicable"}), 422
    )
    assert "justification" in na["detail"]
    assert_problem(client.put(f"{base}/99.9", headers=operator, json={"status": "fully"}), 404)
    assert_problem(client.put(f"{base}/18.1", headers=operator, json={"status": "fully"}), 404)
    executive = auth("client-a", Role.EXECUTIVE)
    assert_problem(client.put(f"{base}/1.1", headers=executive, json={"status": "fully"}), 403)


# --- evidence ------------------------------------------------------------------------------


def test_upload_list_download_and_detach_evidence(
    client: TestClient, auth: AuthFor, assessment: int, engine: Engine, data_dir: Path
) -> None:
    operator, auditor = auth("client-a", Role.IT_OPERATOR), auth("sentinel", Role.AUDITOR)
    answer_id = put_answer(client, operator, assessment, "1.1")["id"]
    name = 'Inventar "März" 2026.csv'
    content = b"host,owner\nfs01,ops\n"
    response = upload(client, operator, answer_id, content, name, expires_on="2099-01-01")
    assert response.status_code == 201, response.text
    added = response.json()
    assert (added["kind"], added["original_name"], added["size"]) == ("file", name, len(content))
    assert added["media_type"] == "text/plain"  # from the content, not the name
    assert (added["collected_on"], added["expires_on"], added["expired"]) == (
        COLLECTED,
        "2099-01-01",
        False,
    )

    listed = client.get(f"{V1}/answers/{answer_id}/evidence", headers=auditor)
    assert listed.status_code == 200 and listed.json()["total"] == 1

    download = client.get(added["download"], headers=auditor)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["x-content-type-options"] == "nosniff"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="Inventar _M_rz_ 2026.csv"' in disposition
    assert "filename*=UTF-8''Inventar%20%22M%C3%A4rz%22%202026.csv" in disposition

    link = client.post(
        f"{V1}/answers/{answer_id}/evidence/links",
        headers=operator,
        json={"url": "https://wiki.example.org/inventory", "collected_on": COLLECTED},
    )
    assert link.status_code == 201 and link.json()["download"] is None
    assert_problem(client.get(f"{V1}/evidence/{link.json()['id']}/download", headers=operator), 404)

    # verified, then evidence removed: back to claimed
    verified = client.post(f"{V1}/answers/{answer_id}/verify", headers=auditor, json={})
    assert verified.status_code == 200, verified.text
    detached = client.delete(f"{V1}/answers/{answer_id}/evidence/{added['id']}", headers=operator)
    assert detached.status_code == 204
    assert_problem(
        client.delete(f"{V1}/answers/{answer_id}/evidence/{added['id']}", headers=operator), 404
    )
    with unit_of_work(engine) as db:
        assert db.get(Answer, answer_id).state == "claimed"  # type: ignore[union-attr]
    actions = audit_actions(engine)
    for action in ("evidence.upload", "evidence.link", "evidence.detach", "answer.reopen"):
        assert action in actions
    assert len(stored_files(data_dir)) >= 1


def test_oversized_upload_is_413_and_stores_nothing(
    client: TestClient,
    auth: AuthFor,
    assessment: int,
    engine: Engine,
    data_dir: Path,
    small_evidence_limit: int,
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    answer_id = put_answer(client, operator, assessment, "1.1")["id"]
    before = (count(engine, Evidence), stored_files(data_dir), audit_actions(engine))
    for size in (small_evidence_limit + 1, 3 * small_evidence_limit):  # streamed; declared
        response = upload(client, operator, answer_id, b"x" * size, "big.bin")
        problem = assert_problem(response, 413)
        assert "1 MB" in problem["detail"]
    exactly = upload(client, operator, answer_id, b"y" * small_evidence_limit, "limit.bin")
    assert exactly.status_code == 201, exactly.text
    assert count(engine, Evidence) == before[0] + 1
    assert len(stored_files(data_dir)) == len(before[1]) + 1


@pytest.mark.parametrize(
    ("name", "content", "fields", "status", "words"),
    [
        ("empty.txt", b"", {}, 422, "empty"),
        ("../etc/passwd", b"root", {}, 422, "path separators"),
        ("reports/q1.pdf", b"%PDF", {}, 422, "path separators"),
        ("c:\\temp\\x.txt", b"x", {}, 422, "path separators"),
        ("ok.txt", b"x", {"collected_on": ""}, 422, "collected_on"),
        ("ok.txt", b"x", {"collected_on": "05/01/2026"}, 422, "collected_on"),
        ("ok.txt", b"x", {"collected_on": "2999-01-01"}, 422, "future"),
        ("ok.txt", b"x", {"expires_on": "2000-01-01"}, 422, "expire"),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(
    client: TestClient,
    auth: AuthFor,
    assessment: int,
    engine: Engine,
    data_dir: Path,
    name: str,
    content: bytes,
    fields: dict[str, str],
    status: int,
    words: str,
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    answer_id = put_answer(client, operator, assessment, "1.1")["id"]
    before = (count(engine, Evidence), stored_files(data_dir))
    problem = assert_problem(upload(client, operator, answer_id, content, name, **fields), status)
    assert words in problem["detail"]
    assert (count(engine, Evidence), stored_files(data_dir)) == before


def test_uploads_must_be_multipart_with_one_file(
    client: TestClient, auth: AuthFor, assessment: int
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    answer_id = put_answer(client, operator, assessment, "1.1")["id"]
    url = f"{V1}/answers/{answer_id}/evidence"
    assert_problem(client.post(url, headers=operator, json={"collected_on": COLLECTED}), 415)
    missing = client.post(url, headers=operator, files={"other": ("a.txt", b"a")}, data={})
    assert "'file'" in assert_problem(missing, 422)["detail"]
    no_file = client.post(url, headers=operator, data={"collected_on": COLLECTED}, files={})
    assert no_file.status_code in (415, 422)
    assert_problem(client.post(url, json={}), 401)
    refused = upload(client, auth("client-a", Role.EXECUTIVE), answer_id, b"data")
    assert_problem(refused, 403)


# --- spreadsheets --------------------------------------------------------------------------


def test_export_and_import_answers(
    client: TestClient, auth: AuthFor, assessment: int, engine: Engine
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    put_answer(client, operator, assessment, "1.1", notes="=SUM(A1)")
    url = f"{V1}/assessments/{assessment}/export"
    xlsx = client.get(url, headers=operator)
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.headers["content-disposition"].startswith("attachment;")
    assert f"assessment-{assessment}-answers.xlsx" in xlsx.headers["content-disposition"]
    assert xlsx.headers["x-content-type-options"] == "nosniff"
    sheet = load_workbook(io.BytesIO(xlsx.content))["Answers"]
    assert sheet.cell(row=1, column=1).value == "control"

    exported = client.get(url, headers=operator, params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["control"] == "1.1" and rows[0]["notes"] == "'=SUM(A1)"
    rows[1]["status"], rows[1]["maturity"] = "partially", "1"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
    writer.writeheader()
    writer.writerows(rows)
    imported = client.post(
        f"{V1}/assessments/{assessment}/import",
        headers=operator,
        files={"file": ("answers.csv", out.getvalue().encode("utf-8"), "text/csv")},
    )
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert report["controls"] == [rows[1]["control"]] and report["created"] == 1
    assert report["unchanged"] == 1 and "answer.import" in audit_actions(engine)
    assert_problem(client.get(url, headers=operator, params={"format": "pdf"}), 422)


def test_a_bad_import_lists_every_row_and_changes_nothing(
    client: TestClient, auth: AuthFor, assessment: int, engine: Engine
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    header = "control,status,maturity,justification,notes,owner,implemented_by\n"
    body = header + "1.1,fully,3,,,,\n99.9,fully,3,,,,\n1.2,sort of,2,,,,\n1.3,fully,9,,,,\n"
    before = (count(engine, Answer), audit_actions(engine))
    response = client.post(
        f"{V1}/assessments/{assessment}/import",
        headers=operator,
        files={"file": ("answers.csv", body.encode(), "text/csv")},
    )
    problem = assert_problem(response, 422)
    assert "answers.csv" in problem["detail"]
    rows = [issue["location"] for issue in problem["errors"]]
    assert ["file", 3] in rows and ["file", 4] in rows and ["file", 5] in rows
    assert all(issue["type"] == "invalid_row" for issue in problem["errors"])
    assert (count(engine, Answer), audit_actions(engine)) == before

    malformed = client.post(
        f"{V1}/assessments/{assessment}/import",
        headers=operator,
        files={"file": ("answers.xlsx", b"PK\x03\x04 not really a workbook", "application/zip")},
    )
    assert_problem(malformed, 422)
    assert count(engine, Answer) == before[0]


def test_today_is_a_valid_collection_date(
    client: TestClient, auth: AuthFor, assessment: int
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    answer_id = put_answer(client, operator, assessment, "1.1")["id"]
    response = upload(
        client, operator, answer_id, b"ok", "today.txt", collected_on=date.today().isoformat()
    )
    assert response.status_code == 201, response.text
