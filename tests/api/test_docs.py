"""OpenAPI document and the Swagger UI page: complete, same-origin, no inline code."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.support import assert_problem, route_table

V1 = "/api/v1"


class PageScan(HTMLParser):
    """Collects what a Content-Security-Policy cares about in an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.stylesheets: list[str] = []
        self.inline_code: list[str] = []
        self.inline_attributes: list[str] = []
        self.data_attributes: dict[str, str] = {}
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.inline_attributes.append(f"{tag} {name}")
            if name.startswith("data-") and value is not None:
                self.data_attributes[name] = value
        if tag == "script":
            self.scripts.append(values.get("src"))
            self._in_script = True
        elif tag == "style":
            self.inline_code.append("<style>")
        elif tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_code.append(data.strip()[:40])


def scan(html: str) -> PageScan:
    page = PageScan()
    page.feed(html)
    return page


def test_openapi_lists_every_route(app: FastAPI, client: TestClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if path.startswith(V1)
    }
    served = {(e.method, e.path) for e in route_table(app) if e.path.startswith(V1 + "/")}
    assert documented == served
    assert {p for _, p in served} >= {
        "/api/v1/me",
        "/api/v1/orgs",
        "/api/v1/orgs/{slug}",
        "/api/v1/orgs/{slug}/members",
        "/api/v1/orgs/{slug}/members/{member_id}",
        "/api/v1/orgs/{slug}/auditor-grants",
        "/api/v1/orgs/{slug}/auditor-grants/{grant_id}",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/orgs/{slug}/audit-events",
    }


def test_openapi_documents_auth_problems_and_limits(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "assay_…",
        "description": "A personal API token: `Authorization: Bearer <token>`.",
    }
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    operation_ids = []
    for path, operations in spec["paths"].items():
        if not path.startswith(V1):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            operation_ids.append(operation["operationId"])
            assert operation["security"] == [{"ApiToken": []}], where
            for status in ("401", "422"):
                content = operation["responses"][status]["content"]
                assert content == {"application/problem+json": {"schema": problem_ref}}, where
    assert len(operation_ids) == len(set(operation_ids))
    assert "create_token" in operation_ids
    schemas = spec["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "instance"}
    assert "ValidationIssue" in schemas
    assert schemas["TokenCreate"]["properties"]["name"]["maxLength"] == 100
    assert schemas["OrgCreate"]["properties"]["slug"]["maxLength"] == 63
    assert schemas["MemberAdd"]["properties"]["email"]["maxLength"] == 254
    assert "secret" not in schemas["TokenOut"]["properties"]
    limit = next(
        p for p in spec["paths"][f"{V1}/orgs"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 200)


def test_docs_page_uses_same_origin_files_only(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = scan(response.text)
    assert page.scripts == [
        "/api/docs/static/swagger-ui-bundle.js",
        "/api/docs/static/docs-init.js",
    ]
    assert page.stylesheets == ["/api/docs/static/swagger-ui.css", "/api/docs/static/docs.css"]
    assert page.inline_code == []
    assert page.inline_attributes == []
    assert page.data_attributes == {"data-openapi-url": "/api/openapi.json"}
    for url in [*page.scripts, *page.stylesheets]:
        assert url is not None and url.startswith("/") and not url.startswith("//")


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("docs-init.js", "text/javascript"),
        ("docs.css", "text/css"),
    ],
)
def test_docs_static_files_are_served(client: TestClient, name: str, media_type: str) -> None:
    response = client.get(f"/api/docs/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert len(response.content) > 100


def test_swagger_ui_comes_from_the_installed_package(client: TestClient) -> None:
    bundle = Path(swagger_ui_bundle.swagger_ui_path) / "swagger-ui-bundle.js"
    assert client.get("/api/docs/static/swagger-ui-bundle.js").content == bundle.read_bytes()
    init = client.get("/api/docs/static/docs-init.js").text
    assert "SwaggerUIBundle(" in init
    assert "data-openapi-url" in init


@pytest.mark.parametrize(
    "name",
    ["index.html", "swagger-initializer.js", "..%2F__init__.py", "oauth2-redirect.html", "x" * 65],
)
def test_nothing_else_is_served_from_the_static_route(client: TestClient, name: str) -> None:
    response = client.get(f"/api/docs/static/{name}")
    assert response.status_code in (404, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_no_third_party_front_end_code_in_the_package() -> None:
    static = Path(__file__).resolve().parents[2] / "src" / "assay" / "api" / "static"
    assert sorted(p.name for p in static.iterdir()) == ["docs-init.js", "docs.css"]
    assert all(p.stat().st_size < 10_000 for p in static.iterdir())


def test_problem_for_unknown_docs_file(client: TestClient) -> None:
    problem = assert_problem(client.get("/api/docs/static/missing.js"), 404)
    assert problem["detail"] == "no documentation file 'missing.js'"
