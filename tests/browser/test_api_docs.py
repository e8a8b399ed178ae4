"""The Swagger UI page in headless Chromium, under the app's strict Content-Security-Policy:
it renders every operation, reports no policy violation, and "Try it out" calls the API."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser
from sqlalchemy.orm import Session

from assay.app import create_app
from assay.tenancy.models import Role
from tests.api.support import issue_token
from tests.factories import World

pytestmark = pytest.mark.browser

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def with_csp(app: Any) -> Any:
    """Wrap an ASGI app so every HTTP response carries exactly the production policy."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_csp(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-security-policy"
                ]
                message = {
                    **message,
                    "headers": [*headers, (b"content-security-policy", CSP.encode())],
                }
            await send(message)

        await app(scope, receive, send_with_csp if scope["type"] == "http" else send)

    return wrapped


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(with_csp(create_app()), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_swagger_ui_works_under_the_csp(
    live_url: str, session: Session, world: World, browser: Browser
) -> None:
    secret = issue_token(session, world, "client-a", Role.ADMIN)
    console_errors: list[str] = []
    page = browser.new_page()
    try:
        page.add_init_script(RECORD_VIOLATIONS)
        page.on(
            "console",
            lambda m: console_errors.append(m.text) if "Security Policy" in m.text else None,
        )
        page.goto(f"{live_url}/api/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        spec = page.request.get(f"{live_url}/api/openapi.json").json()
        operations = sum(len(ops) for path, ops in spec["paths"].items())
        assert page.locator(".opblock").count() == operations >= 14
        assert page.locator(".info .title").inner_text().startswith("Assay")

        page.click("button.authorize")
        page.fill(".modal-ux input", secret)
        page.click(".modal-ux button.authorize")
        page.click(".modal-ux button.btn-done")
        operation = page.locator("#operations-me-get_me")
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()
        operation.locator("button.execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status")
        status.first.wait_for(timeout=20_000)
        assert status.first.inner_text().strip() == "200"
        body = operation.locator(".live-responses-table .response-col_description pre").first
        assert world.user("client-a", Role.ADMIN).email in body.inner_text()

        assert page.evaluate("window.__cspViolations") == []
        assert console_errors == []
    finally:
        page.close()
