"""Interactive API documentation: Swagger UI from the installed `swagger_ui_bundle` package.

The page holds no inline script or style, so it works under the app's strict
Content-Security-Policy: the bundle, its stylesheet and our own start-up script are all served
from this origin by the route below, from a fixed list of files.
"""

from __future__ import annotations

from html import escape
from importlib import resources
from pathlib import Path
from typing import Annotated

import swagger_ui_bundle
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException

DOCS_PATH = "/api/docs"
STATIC_PATH = DOCS_PATH + "/static"

_BUNDLE_DIR = Path(swagger_ui_bundle.swagger_ui_path)
_OWN_DIR = Path(str(resources.files("assay.api") / "static"))
STATIC_FILES: dict[str, Path] = {
    "swagger-ui-bundle.js": _BUNDLE_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": _BUNDLE_DIR / "swagger-ui.css",
    "docs-init.js": _OWN_DIR / "docs-init.js",
    "docs.css": _OWN_DIR / "docs.css",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="stylesheet" href="{static}/docs.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/docs-init.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH, response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The Swagger UI page; `docs-init.js` reads the OpenAPI URL from a data attribute."""
    root = request.scope.get("root_path", "")
    openapi_url = request.app.openapi_url or "/api/openapi.json"
    page = _PAGE.format(
        title=escape(request.app.title),
        static=escape(root + STATIC_PATH),
        openapi=escape(root + openapi_url),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get(STATIC_PATH + "/{name}")
def api_docs_static(name: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
    """One of the documentation page's static files; nothing else is served from here."""
    path = STATIC_FILES.get(name)
    if path is None:
        raise HTTPException(404, f"no documentation file '{name[:64]}'")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
