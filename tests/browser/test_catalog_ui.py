"""The catalog pages in a real browser: from the header to a framework's tree, a function
expanded without JavaScript, a control page, the map-to form, a mapping followed to the other
framework, and the search box."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_web_ui import assert_no_policy_violations, sign_in
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/assay-control.png"


def test_browse_expand_open_map_follow_and_search(
    page: Page, console_log: list[str], world: World, catalogs: None
) -> None:
    sign_in(page, "auditor@sentinel.test", PASSWORD)
    expect(page).to_have_url(re.compile(r"/orgs/sentinel$"))

    # the header leads to the catalogs
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Catalogs").click()
    expect(page).to_have_url(re.compile(r"/catalogs$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Control catalogs")
    page.get_by_role("link", name="NIST Cybersecurity Framework").click()
    expect(page).to_have_url(re.compile(r"/catalogs/nist-csf-2.0$"))

    # the tree starts folded; a function and one of its categories unfold on a click
    identify = page.locator("li.level-1 > details").filter(
        has=page.locator("summary .ctitle", has_text="Identify")
    )
    expect(identify).not_to_have_attribute("open", "")
    category_link = page.get_by_role("link", name="ID.AM", exact=True)
    expect(category_link).to_be_hidden()
    identify.locator("> summary .ctitle").click()
    expect(identify).to_have_attribute("open", "")
    expect(category_link).to_be_visible()
    asset_management = identify.locator("li.level-2 > details").first
    asset_management.locator("> summary .ctitle").click()
    page.get_by_role("link", name="ID.AM-01", exact=True).click()

    # the control page: its place, its description, who maps to it
    expect(page).to_have_url(re.compile(r"/catalogs/nist-csf-2.0/controls/ID.AM-01$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("ID.AM-01")
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumb.get_by_role("link", name=re.compile(r"^ID\.AM "))).to_be_visible()
    mapped_from = page.locator("section[aria-labelledby=mapped-from]")
    expect(mapped_from.get_by_role("link", name="1.1", exact=True)).to_be_visible()

    # map it to CIS Controls with the GET form
    page.get_by_label("Framework", exact=True).select_option("cis-controls-v8.1")
    page.get_by_role("button", name="Map ID.AM-01").click()
    expect(page).to_have_url(re.compile(r"\?to=cis-controls-v8\.1#map-heading$"))
    result = page.locator(".map-result")
    expect(result).to_contain_text("mapped directly (1 hop)")
    expect(result.get_by_role("link", name="1.1", exact=True)).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)

    # follow the mapping to the CIS safeguard, whose page maps back
    mapped_from.get_by_role("link", name="1.1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/catalogs/cis-controls-v8.1/controls/1.1$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Asset inventory")
    maps_to = page.locator("section[aria-labelledby=maps-to]")
    expect(maps_to.get_by_role("link", name="ID.AM-01", exact=True)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Devices")

    # search from the box on the catalog pages
    page.get_by_role("link", name="Catalogs", exact=True).first.click()
    page.get_by_role("searchbox", name="Search controls").fill("INVENTORY")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/catalogs/search\?q=INVENTORY&framework=$"))
    expect(page.get_by_role("heading", level=2)).to_contain_text("matching “INVENTORY”")
    page.locator("table.results").get_by_role("link", name="1.1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/catalogs/cis-controls-v8.1/controls/1.1$"))
    assert_no_policy_violations(console_log)
