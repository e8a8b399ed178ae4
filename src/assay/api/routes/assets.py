"""The asset register: list, create, read, change and delete a client's assets, and move the
whole register in and out as CSV.

Each route calls one service; `asset.view` and `asset.manage` (auth/policy.yaml) decide who may
do what. The import is `multipart/form-data` read as a stream with a hard limit (413 as soon as
the file passes it, before anything is stored); any problem refuses the whole file (422, every
problem listed in `errors`, located by line). The export is always an attachment.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from assay.api.asset_schemas import (
    AssetCreate,
    AssetImportOut,
    AssetOut,
    AssetPatch,
    IdentifierIn,
)
from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, DbSession, StreamingActor
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of
from assay.api.params import AssetId, OrgSlug
from assay.assets import csv_export, csv_import, importing, service
from assay.assets.models import Asset, AssetKind, Criticality
from assay.assets.service import AssetChanges, AssetFilter
from assay.assets.validation import MAX_TAG_CHARS, AssetInput
from assay.auth.actor import Actor
from assay.config import settings
from assay.db.engine import unit_of_work
from assay.errors import InvalidInput
from assay.tenancy.models import Organization
from assay.transfer import Upload, attachment_headers, read_upload

router = APIRouter(tags=["assets"], route_class=BoundedBodyRoute)

FILE_FIELD = "file"
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}

CSV_UPLOAD = {
    "requestBody": {
        "required": True,
        "description": "A CSV file (UTF-8) with a header row: name and kind, and any of "
        "criticality, owner, data_classification, identifiers (`hostname:web1;ip:10.0.0.5`), "
        "tags (`a;b`), description. Every row is checked before anything is written; any "
        "problem refuses the whole file (422, every problem in `errors`, located by line). "
        f"At most {csv_import.MAX_ROWS} rows and {csv_import.MAX_INPUT_BYTES // 2**20} MB.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        FILE_FIELD: {"type": "string", "format": "binary"},
                        "update": {
                            "type": "boolean",
                            "default": False,
                            "description": "Update assets that exist (by name), only in the "
                            "columns the file has; without it, such a row refuses the file.",
                        },
                    },
                    "required": [FILE_FIELD],
                }
            }
        },
    }
}

KindQuery = Annotated[AssetKind | None, Query(description="Only assets of this kind.")]
CriticalityQuery = Annotated[Criticality | None, Query(description="Only this criticality.")]
TagQuery = Annotated[
    str | None, Query(min_length=1, max_length=MAX_TAG_CHARS, description="Only with this tag.")
]
TextQuery = Annotated[
    str | None,
    Query(
        alias="q",
        min_length=1,
        max_length=service.MAX_SEARCH_CHARS,
        description="Text in the name, owner, description or an identifier.",
    ),
]


def _out(session: Session, asset: Asset) -> AssetOut:
    org = session.get(Organization, asset.organization_id)
    assert org is not None
    return AssetOut.of(asset, org.slug)


def _pairs(identifiers: list[IdentifierIn] | None) -> list[tuple[str, str]] | None:
    if identifiers is None:
        return None
    return [(str(i.kind), i.value) for i in identifiers]


@router.get("/orgs/{slug}/assets", responses=problem_responses(403, 404))
def list_assets(
    session: DbSession,
    actor: CurrentActor,
    slug: OrgSlug,
    page: PageQuery,
    kind: KindQuery = None,
    criticality: CriticalityQuery = None,
    tag: TagQuery = None,
    text: TextQuery = None,
) -> Page[AssetOut]:
    """The organization's assets by name, filtered by kind, criticality, tag or text."""
    filters = AssetFilter(kind=kind, criticality=criticality, tag=tag, text=text)
    rows, total = service.list_assets(
        session, actor, slug, filters, limit=page.limit, offset=page.offset
    )
    return page_of(AssetOut, (AssetOut.of(a, slug) for a in rows), total, page)


@router.post("/orgs/{slug}/assets", status_code=201, responses=problem_responses(403, 404, 409))
def create_asset(
    session: DbSession, actor: CurrentActor, slug: OrgSlug, body: AssetCreate
) -> AssetOut:
    """Add an asset to a client's register (name and identifiers unique in the organization)."""
    spec = AssetInput(
        name=body.name,
        kind=body.kind,
        criticality=body.criticality,
        data_classification=body.data_classification,
        owner=body.owner,
        description=body.description,
        tags=body.tags,
        identifiers=_pairs(body.identifiers) or [],
    )
    return _out(session, service.create_asset(session, actor, slug, spec))


@router.get("/assets/{asset_id}", responses=problem_responses(404))
def get_asset(session: DbSession, actor: CurrentActor, asset_id: AssetId) -> AssetOut:
    """One asset with its identifiers."""
    return _out(session, service.get_asset(session, actor, asset_id))


@router.patch("/assets/{asset_id}", responses=problem_responses(403, 404, 409))
def update_asset(
    session: DbSession, actor: CurrentActor, asset_id: AssetId, body: AssetPatch
) -> AssetOut:
    """Change the fields sent; nothing else."""
    changes = AssetChanges(
        name=body.name,
        kind=body.kind,
        criticality=body.criticality,
        data_classification=body.data_classification,
        owner=body.owner,
        description=body.description,
        tags=body.tags,
        identifiers=_pairs(body.identifiers),
    )
    return _out(session, service.update_asset(session, actor, asset_id, changes))


@router.delete("/assets/{asset_id}", status_code=204, responses=problem_responses(403, 404))
def delete_asset(session: DbSession, actor: CurrentActor, asset_id: AssetId) -> Response:
    """Remove an asset and its identifiers (the audit trail keeps what it was)."""
    service.delete_asset(session, actor, asset_id)
    return Response(status_code=204)


@router.get(
    "/orgs/{slug}/assets/export.csv",
    response_class=Response,
    responses={
        200: {
            "description": "The register as CSV (UTF-8 with a BOM; cells that a spreadsheet "
            "would read as a formula start with a single quote), as an attachment.",
            "content": {csv_export.MEDIA_TYPE: {}},
        },
        **problem_responses(403, 404),
    },
)
def export_assets(
    session: DbSession,
    actor: CurrentActor,
    slug: OrgSlug,
    kind: KindQuery = None,
    criticality: CriticalityQuery = None,
    tag: TagQuery = None,
    text: TextQuery = None,
) -> Response:
    """The register (or the assets matching the filters) as CSV that the import reads back."""
    filters = AssetFilter(kind=kind, criticality=criticality, tag=tag, text=text)
    data = service.export_assets(session, actor, slug, filters)
    headers = attachment_headers(f"{slug}-assets.csv", len(data), media_type=csv_export.MEDIA_TYPE)
    return Response(data, headers=headers)


def _flag(upload: Upload, name: str) -> bool:
    value = upload.get(name).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InvalidInput(f"{name} must be true or false")


def _import(actor: Actor, slug: str, upload: Upload) -> AssetImportOut:
    if upload.file is None:
        raise InvalidInput(f"send the CSV file in the '{FILE_FIELD}' field")
    update = _flag(upload, "update")
    with unit_of_work() as session:
        report = importing.import_assets(
            session, actor, slug, upload.file.read(), upload.filename or "upload", update=update
        )
        return AssetImportOut.of(report)


@router.post(
    "/orgs/{slug}/assets/import",
    openapi_extra=CSV_UPLOAD,
    responses=problem_responses(403, 404, 413, 415),
)
async def import_assets(request: Request, actor: StreamingActor, slug: OrgSlug) -> AssetImportOut:
    """Import assets from CSV: every row, or none."""
    with await read_upload(
        request,
        file_field=FILE_FIELD,
        max_file_bytes=csv_import.MAX_INPUT_BYTES,
        max_field_chars=settings().max_form_field_chars,
    ) as upload:
        return await run_in_threadpool(_import, actor, slug, upload)
