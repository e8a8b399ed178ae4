"""Without Chromium the browser tests skip, unless the run requires them: then they fail."""

from __future__ import annotations

import pytest

from tests.browser import conftest as browser_setup


@pytest.mark.parametrize(("name", "value"), [("CI", "true"), ("ASSAY_REQUIRE_BROWSER", "1")])
def test_a_missing_browser_fails_a_run_that_requires_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("ASSAY_REQUIRE_BROWSER", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(pytest.fail.Exception, match="required"):
        browser_setup._unavailable("Chromium is not installed")


def test_a_missing_browser_is_skipped_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    monkeypatch.delenv("ASSAY_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        browser_setup._unavailable("Chromium is not installed")


def test_the_browser_is_debians_and_never_downloaded() -> None:
    assert str(browser_setup.CHROMIUM) == "/usr/bin/chromium"
    assert "--headless=new" in browser_setup.CHROMIUM_ARGS
