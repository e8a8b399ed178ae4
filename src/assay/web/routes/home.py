"""The start page, the organization switcher's target and the health check."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from assay.db.engine import unit_of_work
from assay.web.layout import chrome_for
from assay.web.session import current_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)


def org_path(slug: str) -> str:
    return "/orgs/" + quote(slug, safe="")


@router.get("/")
def home(request: Request) -> Response:
    """Signed in: the first organization within reach. Otherwise: the sign-in page."""
    with unit_of_work() as db:
        visitor = current_visitor(db, request)
        if visitor is None:
            return RedirectResponse("/login", status_code=303)
        chrome = chrome_for(db, visitor)
    if chrome.orgs:
        return RedirectResponse(org_path(chrome.orgs[0].slug), status_code=303)
    return render(request, "home.html", {"chrome": chrome})


@router.get("/switch")
def switch(org: str = "") -> Response:
    """Target of the organization switcher (a GET form, works without JavaScript)."""
    slug = org.strip()
    return RedirectResponse(org_path(slug) if slug else "/", status_code=303)


@router.api_route("/healthz", methods=["GET", "HEAD"])
def healthz() -> Response:
    return JSONResponse({"status": "ok"})
