"""Request and response bodies of the asset register API. Like `schemas.py`, every request
model rejects unknown fields, bounds every field and documents one example (the
tenant-isolation test sends it). The services check the values themselves (kinds, addresses,
tags) and answer 422 naming the field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from assay.api.schemas import _request_config
from assay.assets.importing import ImportReport
from assay.assets.models import (
    Asset,
    AssetKind,
    Criticality,
    DataClassification,
    IdentifierKind,
)
from assay.assets.validation import (
    MAX_DESCRIPTION_CHARS,
    MAX_IDENTIFIER_CHARS,
    MAX_IDENTIFIERS,
    MAX_OWNER_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
)
from assay.tenancy.validation import MAX_NAME_CHARS

Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS)]


class IdentifierIn(BaseModel):
    """A name systems report the asset by. Normalized on input (lower-case hostnames,
    canonical IP and MAC addresses); unique within the organization."""

    model_config = _request_config({"kind": "ip", "value": "10.0.0.5"})

    kind: IdentifierKind
    value: str = Field(min_length=1, max_length=MAX_IDENTIFIER_CHARS)


class AssetCreate(BaseModel):
    """A new asset of the client organization (its administrators and IT operators, or its
    MSP's). The name must be unique within the organization."""

    model_config = _request_config(
        {
            "name": "web1",
            "kind": "host",
            "criticality": "high",
            "data_classification": "confidential",
            "owner": "ops@client.example",
            "tags": ["dmz", "pci"],
            "identifiers": [
                {"kind": "hostname", "value": "web1.client.example"},
                {"kind": "ip", "value": "10.0.0.5"},
            ],
        }
    )

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    kind: AssetKind
    criticality: Criticality = Criticality.MEDIUM
    data_classification: DataClassification = DataClassification.INTERNAL
    owner: str | None = Field(default=None, max_length=MAX_OWNER_CHARS)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description=f"Short labels (at most {MAX_TAG_CHARS} characters), stored lower-case.",
    )
    identifiers: list[IdentifierIn] = Field(default_factory=list, max_length=MAX_IDENTIFIERS)


class AssetPatch(BaseModel):
    """Change an asset: only the fields sent. `owner: ""` clears the owner; `tags` and
    `identifiers` replace the whole list."""

    model_config = _request_config({"criticality": "critical", "tags": ["dmz", "pci", "web"]})

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    kind: AssetKind | None = None
    criticality: Criticality | None = None
    data_classification: DataClassification | None = None
    owner: str | None = Field(default=None, max_length=MAX_OWNER_CHARS)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    identifiers: list[IdentifierIn] | None = Field(default=None, max_length=MAX_IDENTIFIERS)


# --- responses -----------------------------------------------------------------------------


class IdentifierOut(BaseModel):
    kind: IdentifierKind
    value: str


class AssetOut(BaseModel):
    id: int
    organization: str = Field(description="Slug of the organization owning the asset.")
    name: str
    kind: AssetKind
    criticality: Criticality
    data_classification: DataClassification
    owner: str | None
    description: str
    tags: list[str]
    identifiers: list[IdentifierOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, asset: Asset, org_slug: str) -> AssetOut:
        return cls(
            id=asset.id,
            organization=org_slug,
            name=asset.name,
            kind=asset.kind,
            criticality=asset.criticality,
            data_classification=asset.data_classification,
            owner=asset.owner,
            description=asset.description,
            tags=list(asset.tags or ()),
            identifiers=[IdentifierOut(kind=i.kind, value=i.value) for i in asset.identifiers],
            created_at=asset.created_at,
            updated_at=asset.updated_at,
        )


class AssetImportOut(BaseModel):
    """What an import did, by asset name. Without `update`, an import only creates."""

    file: str
    update: bool
    rows: int
    created: list[str]
    updated: list[str]
    unchanged: list[str]

    @classmethod
    def of(cls, report: ImportReport) -> AssetImportOut:
        return cls(
            file=report.file,
            update=report.update,
            rows=report.rows,
            created=list(report.created),
            updated=list(report.updated),
            unchanged=list(report.unchanged),
        )
