"""Asset register pages: a client's assets with filters, a form to add one and one to import a
CSV file, the CSV export, and an asset's page with its identifiers, to change or delete it.

An asset page acts as the visitor's membership that reaches the asset's organization; the
service called next decides what that actor may do, and an asset out of reach is not found.
What a page offers (forms, buttons) is asked of the same policy, for display only. A form that
fails shows its page again with the error and what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from assay.assets import csv_export, csv_import, importing, service
from assay.assets.models import Asset, AssetKind, Criticality, DataClassification, IdentifierKind
from assay.assets.service import AssetChanges, AssetFilter
from assay.assets.validation import (
    DEFAULT_CLASSIFICATION,
    DEFAULT_CRITICALITY,
    AssetInput,
    split_identifiers,
    split_tags,
)
from assay.auth.actor import Actor
from assay.db.engine import unit_of_work
from assay.errors import AssayError, InvalidInput, NotFound
from assay.tenancy import service as tenancy
from assay.tenancy.models import Organization, OrgKind
from assay.transfer import Upload, attachment_headers
from assay.web.forms import Form, signed_in_form, signed_in_upload
from assay.web.layout import chrome_for, org_tabs
from assay.web.paging import PAGE_SIZE, Pager
from assay.web.params import PageNumber, RowId
from assay.web.permissions import permitted
from assay.web.session import Visitor, require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)

FILE_FIELD = "file"
FIELDS = (
    "name",
    "kind",
    "criticality",
    "data_classification",
    "owner",
    "description",
    "tags",
    "identifiers",
)
SHOWN_PROBLEMS = 50
NOTICES = {
    "created": "The asset has been added to the register.",
    "saved": "The asset has been saved.",
    "deleted": "The asset has been deleted.",
}
FilterText = Annotated[str | None, Query(max_length=service.MAX_SEARCH_CHARS)]


def _labels(values: Any) -> list[tuple[str, str]]:
    return [(v.value, v.value.replace("_", " ")) for v in values]


CHOICES = {
    "kinds": _labels(AssetKind),
    "criticalities": _labels(Criticality),
    "classifications": _labels(DataClassification),
    "identifier_kinds": [k.value for k in IdentifierKind],
}


# --- who acts --------------------------------------------------------------------------------


def asset_actor(db: Session, visitor: Visitor, asset_id: int) -> Actor:
    """The visitor's actor in the organization owning the asset (NotFound when none)."""
    org_id = service.organization_of(db, asset_id)
    return visitor.actor_owning(db, org_id, f"asset {asset_id} not found")


def _visitor_actor(request: Request, slug: str) -> Actor:
    """Sign-in and reach checks of an upload, in a short transaction of their own (the database
    is not held while the file streams in)."""
    with unit_of_work() as db:
        return require_visitor(db, request).actor_in(db, slug)


def identifiers_text(asset: Asset) -> str:
    return "\n".join(f"{i.kind}:{i.value}" for i in asset.identifiers)


# --- the register ----------------------------------------------------------------------------


def _query(filters: AssetFilter) -> dict[str, str]:
    pairs = {
        "kind": filters.kind,
        "criticality": filters.criticality,
        "tag": filters.tag,
        "q": filters.text,
    }
    return {key: value for key, value in pairs.items() if value}


def assets_page(
    request: Request,
    slug: str,
    filters: AssetFilter,
    *,
    page: int = 1,
    status: int = 200,
    error: AssayError | None = None,
    problems: list[str] | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        org = tenancy.get_org(db, actor, slug)
        rows: list[Asset] = []
        total = 0
        if org.kind is OrgKind.CLIENT:
            rows, total = service.list_assets(
                db, actor, slug, filters, limit=PAGE_SIZE, offset=Pager.offset_of(page)
            )
        query = _query(filters)
        context = {
            "chrome": chrome_for(db, visitor, org.slug),
            "tabs": org_tabs(db, actor, org, "assets"),
            "org": org,
            "rows": rows,
            "pager": Pager(page, PAGE_SIZE, total),
            "filters": query,
            "export_query": urlencode(query),
            "can_manage": org.kind is OrgKind.CLIENT and permitted(db, actor, "asset.manage", org),
            "error": error,
            "problems": (problems or [])[:SHOWN_PROBLEMS],
            "more_problems": max(0, len(problems or []) - SHOWN_PROBLEMS),
            "notice": notice,
            "values": values or {},
            **CHOICES,
        }
    return render(request, "asset_list.html", context, status=status)


@router.get("/orgs/{slug}/assets")
def show_assets(
    request: Request,
    slug: str,
    page: PageNumber = 1,
    kind: FilterText = None,
    criticality: FilterText = None,
    tag: FilterText = None,
    q: FilterText = None,
    done: str | None = None,
) -> Response:
    filters = AssetFilter(kind=kind, criticality=criticality, tag=tag, text=q)
    return assets_page(request, slug, filters, page=page, notice=NOTICES.get(done or ""))


def _input(form: Form) -> AssetInput:
    """The asset form's fields; a choice left out takes its default."""
    return AssetInput(
        name=form.get("name"),
        kind=form.get("kind"),
        criticality=form.optional("criticality") or DEFAULT_CRITICALITY,
        data_classification=form.optional("data_classification") or DEFAULT_CLASSIFICATION,
        owner=form.get("owner"),
        description=form.get("description"),
        tags=split_tags(form.get("tags")),
        identifiers=split_identifiers(form.get("identifiers")),
    )


@router.post("/orgs/{slug}/assets")
def create_asset(
    request: Request, slug: str, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            created = service.create_asset(db, actor, slug, _input(form))
            target = f"/assets/{created.id}?done=created"
    except NotFound:
        raise
    except AssayError as exc:
        values = form.keep(*FIELDS)
        return assets_page(
            request, slug, AssetFilter(), status=exc.status, error=exc, values=values
        )
    return RedirectResponse(target, status_code=303)


@router.get("/orgs/{slug}/assets/export.csv")
def export_assets(
    request: Request,
    slug: str,
    kind: FilterText = None,
    criticality: FilterText = None,
    tag: FilterText = None,
    q: FilterText = None,
) -> Response:
    """Always an attachment (web/transfer.py); the cells are neutralized for spreadsheets."""
    filters = AssetFilter(kind=kind, criticality=criticality, tag=tag, text=q)
    with unit_of_work() as db:
        actor = require_visitor(db, request).actor_in(db, slug)
        data = service.export_assets(db, actor, slug, filters)
    headers = attachment_headers(f"{slug}-assets.csv", len(data), media_type=csv_export.MEDIA_TYPE)
    return Response(data, headers=headers)


def _import(actor: Actor, slug: str, upload: Upload) -> importing.ImportReport:
    if upload.file is None or not upload.filename:
        raise InvalidInput("choose a CSV file to import")
    with unit_of_work() as db:
        return importing.import_assets(
            db,
            actor,
            slug,
            upload.file.read(),
            upload.filename,
            update=upload.get("update") == "on",
        )


@router.post("/orgs/{slug}/assets/import")
async def import_assets(request: Request, slug: str) -> Response:
    actor = await run_in_threadpool(_visitor_actor, request, slug)
    upload = await signed_in_upload(
        request, file_field=FILE_FIELD, max_file_bytes=csv_import.MAX_INPUT_BYTES
    )
    with upload:
        try:
            report = await run_in_threadpool(_import, actor, slug, upload)
        except NotFound:
            raise
        except AssayError as exc:
            problems = list(getattr(exc, "problems", []))
            return await run_in_threadpool(
                assets_page,
                request,
                slug,
                AssetFilter(),
                status=exc.status,
                error=exc,
                problems=problems,
            )
    notice = (
        f"Imported {report.file}: {len(report.created)} assets created, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged."
    )
    return await run_in_threadpool(assets_page, request, slug, AssetFilter(), notice=notice)


# --- one asset -------------------------------------------------------------------------------


def asset_page(
    request: Request,
    asset_id: int,
    *,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = asset_actor(db, visitor, asset_id)
        asset = service.get_asset(db, actor, asset_id)
        org = db.get(Organization, asset.organization_id)
        assert org is not None
        current = {
            "name": asset.name,
            "kind": str(asset.kind),
            "criticality": str(asset.criticality),
            "data_classification": str(asset.data_classification),
            "owner": asset.owner or "",
            "description": asset.description,
            "tags": "; ".join(asset.tags or ()),
            "identifiers": identifiers_text(asset),
        }
        context = {
            "chrome": chrome_for(db, visitor, org.slug),
            "tabs": org_tabs(db, actor, org, "assets"),
            "org": org,
            "asset": asset,
            "can_manage": permitted(db, actor, "asset.manage", org),
            "error": error,
            "notice": notice,
            "values": values if values is not None else current,
            **CHOICES,
        }
    return render(request, "asset.html", context, status=status)


@router.get("/assets/{asset_id}")
def show_asset(request: Request, asset_id: RowId, done: str | None = None) -> Response:
    return asset_page(request, asset_id, notice=NOTICES.get(done or ""))


@router.post("/assets/{asset_id}/edit")
def edit_asset(
    request: Request, asset_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = asset_actor(db, require_visitor(db, request), asset_id)
            spec = _input(form)
            changes = AssetChanges(  # a choice left out stays as it is
                name=spec.name,
                kind=form.optional("kind"),
                criticality=form.optional("criticality"),
                data_classification=form.optional("data_classification"),
                owner=spec.owner,
                description=spec.description,
                tags=spec.tags,
                identifiers=spec.identifiers,
            )
            service.update_asset(db, actor, asset_id, changes)
    except NotFound:
        raise
    except AssayError as exc:
        values = form.keep(*FIELDS)
        return asset_page(request, asset_id, status=exc.status, error=exc, values=values)
    return RedirectResponse(f"/assets/{asset_id}?done=saved", status_code=303)


@router.post("/assets/{asset_id}/delete")
def delete_asset(
    request: Request, asset_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = asset_actor(db, require_visitor(db, request), asset_id)
            org_id = service.organization_of(db, asset_id)
            org = db.get(Organization, org_id) if org_id is not None else None
            service.delete_asset(db, actor, asset_id)
            target = f"/orgs/{org.slug}/assets?done=deleted" if org else "/"
    except NotFound:
        raise
    except AssayError as exc:
        return asset_page(request, asset_id, status=exc.status, error=exc)
    return RedirectResponse(target, status_code=303)
