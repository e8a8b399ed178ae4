"""The web UI in a real browser: sign in, switch organization, add a member, read the audit
trail, sign out; a wrong password shows an error and sets no session cookie."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/assay-members.png"


def session_cookie(context: BrowserContext) -> dict[str, object] | None:
    for cookie in context.cookies():
        if cookie.get("name") == "assay_session":
            return dict(cookie)
    return None


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def assert_no_policy_violations(console_log: list[str]) -> None:
    blocked = [
        m
        for m in console_log
        if "Content Security Policy" in m or "Refused to" in m or m.startswith("pageerror")
    ]
    assert not blocked, blocked


def test_sign_in_switch_add_member_audit_and_sign_out(
    page: Page, context: BrowserContext, console_log: list[str], world: World
) -> None:
    sign_in(page, "admin@northwind.test", PASSWORD)
    expect(page).to_have_url(re.compile(r"/orgs/northwind$"))  # own organization first
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind")
    cookie = session_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"

    # switch organization with the header's switcher (a plain GET form), there and back
    page.get_by_label("Organization").select_option("client-a")
    page.get_by_role("button", name="Switch").click()
    expect(page).to_have_url(re.compile(r"/orgs/client-a$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Client A")
    expect(page.get_by_label("Organization")).to_have_value("client-a")
    page.get_by_label("Organization").select_option("northwind")
    page.get_by_role("button", name="Switch").click()
    expect(page).to_have_url(re.compile(r"/orgs/northwind$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind")
    expect(page.get_by_label("Organization")).to_have_value("northwind")

    # add a member, creating the account
    page.get_by_role("link", name="Members").click()
    expect(page).to_have_url(re.compile(r"/orgs/northwind/members$"))
    page.locator("#member-email").fill("fox.mulder@northwind.test")
    page.locator("#member-role").select_option("auditor")
    page.locator("#member-name").fill("Fox Mulder")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "fox.mulder@northwind.test is now an auditor"
    )
    expect(page.get_by_text("Account created for fox.mulder@northwind.test")).to_be_visible()
    password = page.locator("code.copy").inner_text()
    assert len(password) >= 12
    expect(page.get_by_role("cell", name="fox.mulder@northwind.test")).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)

    # the event is in the audit trail
    page.get_by_role("link", name="Audit trail").click()
    expect(page).to_have_url(re.compile(r"/orgs/northwind/audit$"))
    first_row = page.locator("table.events tbody tr").first
    expect(first_row).to_contain_text("member.add")
    expect(first_row).to_contain_text("fox.mulder@northwind.test")
    expect(first_row).to_contain_text("admin@northwind.test")
    assert password not in page.content()

    # sign out: the cookie is gone and pages send us back to sign in
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert session_cookie(context) is None
    page.goto("/orgs/northwind")
    expect(page).to_have_url(re.compile(r"/login\?next="))

    # the new member can sign in with the password shown once (and lands where they wanted)
    page.get_by_label("Email").fill("fox.mulder@northwind.test")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/orgs/northwind$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind")
    assert_no_policy_violations(console_log)


def test_wrong_password_shows_an_error_and_sets_no_session(
    page: Page, context: BrowserContext, console_log: list[str], world: World
) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("admin@northwind.test")
    page.get_by_label("Password").fill("definitely-not-it")
    with page.expect_response(
        lambda r: r.url.endswith("/login") and r.request.method == "POST"
    ) as info:
        page.get_by_role("button", name="Sign in").click()
    assert info.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    expect(page.get_by_label("Email")).to_have_value("admin@northwind.test")
    expect(page.get_by_label("Password")).to_have_value("")
    assert session_cookie(context) is None
    assert_no_policy_violations(console_log)
