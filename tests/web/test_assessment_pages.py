"""The assessment pages: the list (and an MSP's overview), the questionnaire with its forms and
evidence uploads, the review queue, the dashboard and its SVG charts.

What a page offers follows the policy (display only); what a form does is the service's call.
CSRF on every form and isolation between tenants are covered for all routes in test_csrf.py
and test_isolation.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assay.assess import workflow
from assay.assess.models import Answer, Evidence
from assay.config import settings
from assay.db.engine import unit_of_work
from assay.tenancy.models import Role
from tests.factories import AssessmentObjects, World, make_assessment
from tests.web.support import sign_in, snapshot

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def cis(world: World, session: Session, catalogs: None) -> AssessmentObjects:
    """client-a's CIS IG1 assessment: 1.1 answered by its IT operator, with a file."""
    return make_assessment(session, world, "client-a")


@pytest.fixture
def csf(world: World, session: Session, catalogs: None) -> int:
    """client-a's CSF 2.0 assessment with a target maturity of 3."""
    created = workflow.create_assessment(
        session,
        world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(
            org_slug="client-a", framework="nist-csf-2.0", name="CSF profile", target_maturity=3
        ),
    )
    session.commit()
    return created.id


@pytest.fixture
def small_evidence_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ASSAY_MAX_EVIDENCE_MB", "1")
    settings.cache_clear()
    yield
    monkeypatch.delenv("ASSAY_MAX_EVIDENCE_MB")
    settings.cache_clear()


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def answer_state(engine: Engine, answer_id: int) -> str:
    with unit_of_work(engine) as db:
        answer = db.get(Answer, answer_id)
        assert answer is not None
        return str(answer.state)


def count(engine: Engine, model: type[object]) -> int:
    with unit_of_work(engine) as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_figures_and_admins_create(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "executive@client-a.test")
    org = client.get("/orgs/client-a")
    assert 'href="/orgs/client-a/assessments"' in org.text  # the tab
    page = client.get("/orgs/client-a/assessments")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "2026 CIS review" in text and "(next cycle)" in text
    assert "CIS Critical Security Controls" in text
    assert 'action="/orgs/client-a/assessments"' not in page.text  # executives only read
    client.cookies.clear()

    token = sign_in(client, "admin@client-a.test")
    page = client.get("/orgs/client-a/assessments")
    assert 'action="/orgs/client-a/assessments"' in page.text
    created = client.post(
        "/orgs/client-a/assessments",
        data={
            "name": "CSF 2026",
            "framework": "nist-csf-2.0",
            "target_maturity": "3",
            "csrf_token": token,
        },
    )
    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/assessments/\d+\?done=created", location)
    shown = client.get(location)
    assert "The assessment has been created" in shown.text
    assert "Govern" in shown.text and "GV.OC-01" in shown.text

    before = snapshot(engine)
    refused = client.post(
        "/orgs/client-a/assessments",
        data={"name": "x", "framework": "nope", "csrf_token": token},
    )
    assert refused.status_code == 404 and "framework" in refused.text
    assert 'value="x"' in refused.text  # the form is shown again with what was typed
    assert snapshot(engine) == before


def test_an_msp_sees_its_clients_claimed_against_verified(
    client: TestClient, cis: AssessmentObjects
) -> None:
    sign_in(client, "admin@northwind.test")
    page = client.get("/orgs/northwind/assessments")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Client A" in text and "Client B" in text and "No assessment yet" in text
    assert "2026 CIS review (next cycle)" in text  # the latest of the framework
    assert 'src="/orgs/northwind/assessments/overview.svg"' in page.text
    chart = client.get("/orgs/northwind/assessments/overview.svg")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert ElementTree.fromstring(chart.content).tag == SVG_NS + "svg"
    client.cookies.clear()
    sign_in(client, "auditor@sentinel.test")  # the firm: the clients it was granted
    firm = text_of(client.get("/orgs/sentinel/assessments").text)
    assert "Client A" in firm and "Client B" not in firm


def test_an_msp_overview_pages_its_clients(
    client: TestClient, world: World, session: Session, cis: AssessmentObjects
) -> None:
    """Only one page of clients is scored and charted; the pager reaches the others."""
    from assay.tenancy.service import create_org
    from assay.web.routes.assessments import CLIENTS_PER_PAGE

    admin = world.actor("northwind", Role.ADMIN)
    for n in range(CLIENTS_PER_PAGE):  # with client-a and client-b: two pages
        create_org(
            session,
            admin,
            slug=f"zz-{n:02d}",
            name=f"Zz {n:02d}",
            kind="client",
            parent_slug="northwind",
        )
    session.commit()
    sign_in(client, "admin@northwind.test")

    def table(path: str) -> str:
        page = client.get(path).text
        assert "Page" in page
        return text_of(page[page.index('<table class="assessments">') : page.index("</table>")])

    first, second = (
        table("/orgs/northwind/assessments"),
        table("/orgs/northwind/assessments?page=2"),
    )
    assert "Client B" in first and "Client B" not in second
    last = f"Zz {CLIENTS_PER_PAGE - 1:02d}"  # 27 clients by name: the last two are on page 2
    assert f"Zz {CLIENTS_PER_PAGE - 3:02d}" in first and last not in first and last in second
    assert "Page 2 of 2" in text_of(client.get("/orgs/northwind/assessments?page=2").text)
    chart = client.get("/orgs/northwind/assessments/overview.svg?page=2")
    assert chart.status_code == 404  # nobody on page 2 has an assessment: no chart
    assert client.get("/orgs/northwind/assessments/overview.svg").status_code == 200


# --- the questionnaire -----------------------------------------------------------------------


def test_the_questionnaire_groups_controls_with_progress(
    client: TestClient, cis: AssessmentObjects
) -> None:
    sign_in(client, "it-operator@client-a.test")
    page = client.get(f"/assessments/{cis.assessment_id}")
    assert page.status_code == 200
    html = page.text
    assert "style=" not in html and "<script" not in html  # CSP: no inline anything
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids must be unique (labels point at them)"
    groups = re.findall(r'href="/assessments/\d+\?group=([^"]+)"', html)
    assert groups[:3] == ["1", "2", "3"] and len(groups) == 15  # IG1 covers 15 controls
    assert '<progress class="progress progress-answered" value="1" max="2"' in html
    assert 'id="control-1.1"' in html and 'id="control-1.2"' in html
    assert 'id="control-2.1"' not in html  # another group, another page
    assert f'action="/assessments/{cis.assessment_id}/answers"' in html
    assert f'href="/evidence/{cis.evidence_id}/download"' in html
    assert 'enctype="multipart/form-data"' in html
    second = client.get(f"/assessments/{cis.assessment_id}", params={"group": "2"})
    assert 'id="control-2.1"' in second.text and 'id="control-1.1"' not in second.text
    by_control = client.get(f"/assessments/{cis.assessment_id}", params={"control": "3.1"})
    assert 'id="control-3.1"' in by_control.text
    missing = client.get(f"/assessments/{cis.assessment_id}", params={"group": "99"})
    assert missing.status_code == 404


def test_executives_read_without_forms(client: TestClient, cis: AssessmentObjects) -> None:
    sign_in(client, "executive@client-a.test")
    page = client.get(f"/assessments/{cis.assessment_id}")
    assert page.status_code == 200
    assert '<form method="post" action="/assessments/' not in page.text
    assert "Fully implemented" in page.text  # the answer, read-only
    assert "Start" not in text_of(page.text).split("Questionnaire")[0]


def test_answer_through_the_form(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "it-operator@client-a.test")
    response = client.post(
        f"/assessments/{cis.assessment_id}/answers",
        data={
            "control": "1.2",
            "group": "1",
            "status": "largely",
            "maturity": "2",
            "justification": "",
            "notes": "Rogue devices are quarantined by NAC.",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/assessments/{cis.assessment_id}?group=1&done=answered#control-1.2"
    )
    page = client.get(response.headers["location"].split("#")[0])
    assert "The answer has been saved" in page.text
    assert "Rogue devices are quarantined by NAC." in page.text
    before = snapshot(engine)
    bad = client.post(
        f"/assessments/{cis.assessment_id}/answers",
        data={"control": "1.2", "status": "not_applicable", "csrf_token": token},
    )
    assert bad.status_code == 422 and "justification" in bad.text
    assert snapshot(engine) == before


def test_upload_download_and_remove_evidence(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "it-operator@client-a.test")
    url = f"/assessments/{cis.assessment_id}/answers/{cis.answer_id}/evidence"
    response = client.post(
        url,
        data={"csrf_token": token, "control": "1.1", "group": "1", "collected_on": "2026-01-05"},
        files={"file": ("Asset register <Q1>.html", b"<script>alert(1)</script>", "text/html")},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("done=uploaded#control-1.1")
    page = client.get(f"/assessments/{cis.assessment_id}")
    assert "Asset register &lt;Q1&gt;.html" in page.text
    with unit_of_work(engine) as db:
        newest = db.scalars(select(Evidence).order_by(Evidence.id.desc())).first()
        assert newest is not None
        evidence_id = newest.id
    download = client.get(f"/evidence/{evidence_id}/download")
    assert download.status_code == 200
    assert download.content == b"<script>alert(1)</script>"
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        'attachment; filename="Asset register <Q1>.html"; '
        "filename*=UTF-8''Asset%20register%20%3CQ1%3E.html"
    )
    removed = client.post(
        f"{url}/{evidence_id}/remove",
        data={"csrf_token": token, "control": "1.1", "group": "1"},
    )
    assert removed.status_code == 303
    assert (
        f"/evidence/{evidence_id}/download"
        not in client.get(f"/assessments/{cis.assessment_id}").text
    )


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("empty.txt", b"", 422, "the file is empty"),
        ("../../etc/passwd", b"root:x:0:0", 422, "no path separators"),
        ("big.bin", b"x" * (1024 * 1024 + 1), 413, "larger than 1 MB"),
    ],
)
def test_bad_uploads_show_an_error_and_store_nothing(
    client: TestClient,
    cis: AssessmentObjects,
    engine: Engine,
    small_evidence_limit: None,
    name: str,
    content: bytes,
    status: int,
    words: str,
) -> None:
    token = sign_in(client, "it-operator@client-a.test")
    before = (snapshot(engine), count(engine, Evidence))
    response = client.post(
        f"/assessments/{cis.assessment_id}/answers/{cis.answer_id}/evidence",
        data={"csrf_token": token, "control": "1.1", "collected_on": "2026-01-05"},
        files={"file": (name, content, "application/octet-stream")},
    )
    assert response.status_code == status
    assert words in unescape(response.text)
    assert (snapshot(engine), count(engine, Evidence)) == before


def test_state_buttons_follow_the_policy(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    page = client.get(f"/assessments/{cis.assessment_id}")
    assert 'name="state" value="in_progress"' in page.text
    for state in ("in_progress", "in_review"):
        moved = client.post(
            f"/assessments/{cis.assessment_id}/state", data={"state": state, "csrf_token": token}
        )
        assert moved.status_code == 303
    page = client.get(f"/assessments/{cis.assessment_id}?done=in_review")
    assert "submitted for review" in page.text
    assert 'value="closed"' in page.text and 'value="in_progress"' in page.text
    client.cookies.clear()
    token = sign_in(client, "it-operator@client-a.test")
    page = client.get(f"/assessments/{cis.assessment_id}")
    assert 'name="state"' not in page.text  # IT operators do not move assessments
    refused = client.post(
        f"/assessments/{cis.assessment_id}/state", data={"state": "closed", "csrf_token": token}
    )
    assert refused.status_code == 403


# --- the review queue ------------------------------------------------------------------------


def test_the_review_queue_verifies_and_rejects(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "auditor@sentinel.test")
    queue = client.get(f"/assessments/{cis.assessment_id}/review")
    assert queue.status_code == 200
    assert "1 claimed answer" in text_of(queue.text)
    assert f'href="/evidence/{cis.evidence_id}/download"' in queue.text
    verify = f"/assessments/{cis.assessment_id}/answers/{cis.answer_id}/verify"
    assert f'action="{verify}"' in queue.text
    rejected = client.post(
        f"/assessments/{cis.assessment_id}/answers/{cis.answer_id}/reject",
        data={"back": "review", "comment": "  ", "csrf_token": token},
    )
    assert rejected.status_code == 422 and "needs a comment" in rejected.text
    done = client.post(verify, data={"back": "review", "comment": "Seen.", "csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == f"/assessments/{cis.assessment_id}/review?done=verified"
    assert answer_state(engine, cis.answer_id) == "verified"
    after = client.get(done.headers["location"])
    assert "Nothing is waiting for verification" in after.text
    page = client.get(f"/assessments/{cis.assessment_id}")
    assert "Verified</strong> by auditor@sentinel.test" in page.text
    assert "(external," in page.text


def test_the_queue_offers_no_verdict_to_those_who_may_not_judge(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "it-operator@client-a.test")
    queue = client.get(f"/assessments/{cis.assessment_id}/review")
    assert queue.status_code == 200 and "/verify" not in queue.text
    refused = client.post(
        f"/assessments/{cis.assessment_id}/answers/{cis.answer_id}/verify",
        data={"back": "review", "csrf_token": token},
    )
    assert refused.status_code == 403
    assert answer_state(engine, cis.answer_id) == "claimed"


def test_a_reopened_answer_says_why(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "auditor@sentinel.test")
    verified = client.post(
        f"/assessments/{cis.assessment_id}/answers/{cis.answer_id}/verify",
        data={"csrf_token": token},
    )
    assert verified.status_code == 303
    client.cookies.clear()
    token = sign_in(client, "it-operator@client-a.test")
    changed = client.post(
        f"/assessments/{cis.assessment_id}/answers",
        data={"control": "1.1", "status": "partially", "csrf_token": token},
    )
    assert changed.status_code == 303
    page = text_of(client.get(f"/assessments/{cis.assessment_id}").text)
    assert "Re-opened : was verified; answer changed: status" in page


# --- the dashboard ---------------------------------------------------------------------------


def svg_root(client: TestClient, url: str) -> Element:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "script" not in response.headers["content-security-policy"]
    assert b"<script" not in response.content
    root = ElementTree.fromstring(response.content)
    assert root.tag == SVG_NS + "svg"
    return root


def test_the_cis_dashboard(client: TestClient, cis: AssessmentObjects) -> None:
    sign_in(client, "executive@client-a.test")
    page = client.get(f"/assessments/{cis.assessment_id}/dashboard")
    assert page.status_code == 200
    html = page.text
    assert 'id="score-verified">0%<' in html and 'id="score-claimed">2%<' in html
    assert "style=" not in html and "<script" not in html
    for chart in ("groups", "derived", "heatmap"):
        assert f'src="/assessments/{cis.assessment_id}/charts/{chart}.svg"' in html
        svg_root(client, f"/assessments/{cis.assessment_id}/charts/{chart}.svg")
    assert "/charts/radar.svg" not in html
    assert client.get(f"/assessments/{cis.assessment_id}/charts/radar.svg").status_code == 404
    assert client.get(f"/assessments/{cis.assessment_id}/charts/pie.svg").status_code == 422
    text = text_of(html)
    assert "Blind spots" in text and "no evidence" not in text.split("Blind spots")[0]
    assert "Derived coverage of NIST Cybersecurity Framework" in text
    assert "unanswered" in text  # 55 of 56 safeguards are blind spots


def test_the_csf_dashboard_and_its_radar(client: TestClient, csf: int) -> None:
    sign_in(client, "admin@client-a.test")
    page = client.get(f"/assessments/{csf}/dashboard")
    assert page.status_code == 200
    for chart in ("radar", "functions", "heatmap"):
        assert f"/charts/{chart}.svg" in page.text
    first = client.get(f"/assessments/{csf}/charts/radar.svg").content
    assert client.get(f"/assessments/{csf}/charts/radar.svg").content == first  # deterministic
    root = svg_root(client, f"/assessments/{csf}/charts/radar.svg")
    assert root.get("id") == "assay-chart"
    assert client.get(f"/assessments/{csf}/charts/groups.svg").status_code == 404


def test_exports_are_attachments(client: TestClient, cis: AssessmentObjects) -> None:
    sign_in(client, "executive@client-a.test")
    response = client.get(f"/assessments/{cis.assessment_id}/export", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert b"1.1" in response.content


def test_import_through_the_page(
    client: TestClient, cis: AssessmentObjects, engine: Engine
) -> None:
    token = sign_in(client, "it-operator@client-a.test")
    header = b"control,status,maturity,justification,notes,owner,implemented_by\n"
    response = client.post(
        f"/assessments/{cis.assessment_id}/import",
        data={"csrf_token": token},
        files={"file": ("answers.csv", header + b"1.2,largely,2,,,,\n", "text/csv")},
    )
    assert response.status_code == 200
    assert "1 answers created" in response.text
    before = snapshot(engine)
    bad = client.post(
        f"/assessments/{cis.assessment_id}/import",
        data={"csrf_token": token},
        files={
            "file": ("answers.csv", header + b"1.2,maybe,2,,,,\n99.9,fully,1,,,,\n", "text/csv")
        },
    )
    assert bad.status_code == 422
    assert "row 2" in bad.text and "row 3" in bad.text
    assert snapshot(engine) == before


def test_pages_of_an_unknown_assessment_are_404(client: TestClient, world: World) -> None:
    sign_in(client, "admin@northwind.test")
    for path in (
        "/assessments/424242",
        "/assessments/424242/review",
        "/assessments/424242/dashboard",
        "/assessments/424242/charts/heatmap.svg",
        "/evidence/424242/download",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "not found" in response.text
