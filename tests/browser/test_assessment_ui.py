"""Independent verification in a real browser: an IT operator answers a control and uploads
evidence through the questionnaire; an auditor of a firm granted the client verifies it in the
review queue; the dashboard's verified score moves. No page breaks the content security
policy. Screenshots: /tmp/assay-questionnaire.png and /tmp/assay-dashboard.png."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from assay.assess import answers, evidence, workflow
from assay.assess.evidence import EvidenceDates
from assay.tenancy.models import Role
from tests.browser.test_web_ui import assert_no_policy_violations, sign_in
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

QUESTIONNAIRE_SHOT = "/tmp/assay-questionnaire.png"
DASHBOARD_SHOT = "/tmp/assay-dashboard.png"
CHART_MS = 90_000  # charts are drawn on request; a busy machine takes its time

# Earlier work on the same assessment, so the dashboard shows a real assurance gap: answered by
# the MSP's IT operator, some verified by sentinel's auditor.
EARLIER = [
    ("2.1", "fully", 3, True),
    ("2.2", "largely", 2, True),
    ("3.1", "fully", 3, True),
    ("3.2", "partially", 2, False),
    ("4.1", "largely", 3, True),
    ("4.2", "fully", 4, False),
    ("5.1", "fully", 3, False),
    ("6.1", "largely", 2, True),
    ("7.1", "partially", 1, False),
    ("8.1", "fully", 3, False),
]


@pytest.fixture
def assessment(world: World, session: Session, catalogs: None) -> int:
    """client-a's CIS IG1 assessment in progress, with some earlier answers and verdicts."""
    admin = world.actor("northwind", Role.ADMIN)
    operator = world.actor("northwind", Role.IT_OPERATOR)
    auditor = world.actor("sentinel", Role.AUDITOR)
    created = workflow.create_assessment(
        session,
        admin,
        workflow.NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="CIS IG1 2026", target_ig=1
        ),
    )
    workflow.change_state(session, admin, created.id, "in_progress")
    for label, status, maturity, verify in EARLIER:
        answer = answers.answer_control(
            session, operator, created.id, label, answers.AnswerInput(status, maturity)
        )
        evidence.add_link(
            session,
            operator,
            answer.id,
            url=f"https://wiki.example.org/controls/{label}",
            dates=EvidenceDates(collected_on=date(2026, 1, 5)),
            title=f"Runbook {label}",
        )
        if verify:
            answers.verify_answer(session, auditor, answer.id, "Checked the runbook.")
    session.commit()
    return created.id


def verified_score(page: Page) -> float:
    text = page.locator("#score-verified").inner_text()
    found = re.fullmatch(r"(\d+)%", text.strip())
    assert found is not None, text
    return float(found.group(1))


def test_operator_answers_and_uploads_auditor_verifies_score_moves(
    page: Page, console_log: list[str], assessment: int, tmp_path: Path
) -> None:
    # the IT operator finds the assessment from the organization page
    sign_in(page, "it-operator@client-a.test", PASSWORD)
    expect(page).to_have_url(re.compile(r"/orgs/client-a$"))
    page.get_by_role("navigation", name="Client A").get_by_role("link", name="Assessments").click()
    page.get_by_role("link", name="CIS IG1 2026").click()
    expect(page).to_have_url(re.compile(rf"/assessments/{assessment}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("CIS IG1 2026")

    # answer 1.1 in the questionnaire
    control = page.locator("article#control-1\\.1")
    control.get_by_label("Status").select_option("fully")
    control.get_by_label("Maturity").select_option("3")
    control.get_by_label("Notes").fill("Inventory exported nightly from the RMM tool.")
    control.get_by_role("button", name="Save answer").click()
    expect(page.get_by_role("status").first).to_contain_text("The answer has been saved")
    control = page.locator("article#control-1\\.1")
    expect(control.locator(".badge-answer-claimed")).to_have_text("claimed")

    # upload its evidence
    report = tmp_path / "asset-inventory-2026-01.csv"
    report.write_text("hostname,owner,last_seen\nfs01,ops,2026-01-05\nwks-114,finance,2026-01-04\n")
    control.locator("summary", has_text="Attach evidence").click()
    control.get_by_label("File").set_input_files(str(report))
    control.get_by_label("Title").fill("Asset inventory export")
    control.get_by_role("button", name="Upload evidence").click()
    expect(page.get_by_role("status").first).to_contain_text("The evidence has been attached")
    control = page.locator("article#control-1\\.1")
    download = control.get_by_role("link", name="Asset inventory export")
    expect(download).to_have_attribute("href", re.compile(r"^/evidence/\d+/download$"))
    expect(control).to_contain_text("asset-inventory-2026-01.csv")
    page.screenshot(path=QUESTIONNAIRE_SHOT, full_page=True)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    # sentinel's auditor (a firm granted client-a) reads the dashboard, then reviews
    sign_in(page, "auditor@sentinel.test", PASSWORD)
    page.goto(f"/assessments/{assessment}/dashboard", wait_until="domcontentloaded")
    before = verified_score(page)
    page.get_by_role("link", name="Review queue").click()
    expect(page).to_have_url(re.compile(rf"/assessments/{assessment}/review$"))
    item = page.locator("article#control-1\\.1")
    expect(item).to_contain_text("Inventory exported nightly from the RMM tool.")
    expect(item.get_by_role("link", name="Asset inventory export")).to_be_visible()
    item.get_by_label("Verification note").fill("Export matches the RMM console; 2 hosts.")
    item.get_by_role("button", name="Verify 1.1").click()
    expect(page.get_by_role("status").first).to_contain_text("The answer has been verified")
    expect(page.locator("article#control-1\\.1")).to_have_count(0)

    # the verified score moved; the dashboard's charts load
    page.get_by_role("link", name="Dashboard").click()
    after = verified_score(page)
    assert after > before, (before, after)
    for chart in page.locator("figure.chart img").all():
        expect(chart).to_have_js_property("complete", True, timeout=CHART_MS)
        assert chart.evaluate("img => img.naturalWidth") > 0, chart.get_attribute("src")
    page.screenshot(path=DASHBOARD_SHOT, full_page=True, timeout=CHART_MS)
    page.goto(f"/assessments/{assessment}?group=1")
    verdict = page.locator("article#control-1\\.1 .verdict-verified")
    expect(verdict).to_contain_text("Verified by auditor@sentinel.test")
    expect(verdict).to_contain_text("external")
    assert_no_policy_violations(console_log)
