"""The asset register of a client organization: create, change, delete, read, list, export,
and find the asset an identifier names (how an audit run finds the asset it ran on).

Each call takes a Session and an Actor and is authorized through `tenancy.access`: reading
needs `asset.view`, changing `asset.manage` (auth/policy.yaml). An asset out of the actor's
reach is not found. Every change writes an audit event in the caller's transaction; deleting
an asset records what it was. Names are unique within an organization (compared exactly, after
collapsing blanks), and so is every identifier: one hostname or address names one asset.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, exists, func, select
from sqlalchemy.orm import Session

from assay.assets.csv_export import assets_csv
from assay.assets.models import Asset, AssetIdentifier
from assay.assets.validation import (
    AssetData,
    AssetInput,
    Identifier,
    clean_asset,
    clean_tags,
    format_identifier,
    normalize_identifier,
    parse_criticality,
    parse_kind,
)
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.db.base import utcnow
from assay.errors import Conflict, InvalidInput
from assay.tenancy.access import authorize_owner, authorize_slug
from assay.tenancy.models import Organization, OrgKind

MAX_SEARCH_CHARS = 200
FIELDS = ("name", "kind", "criticality", "data_classification", "owner", "description", "tags")
"""The columns of an asset besides its identifiers."""
_CHUNK = 500  # values per IN (...) query


def require_client(org: Organization) -> None:
    if org.kind is not OrgKind.CLIENT:
        raise InvalidInput(f"'{org.slug}' is not a client organization; assets belong to clients")


def organization_of(session: Session, asset_id: int) -> int | None:
    """The organization owning an asset (no authorization: to pick the acting membership)."""
    return session.scalar(select(Asset.organization_id).where(Asset.id == asset_id))


def load_asset(
    session: Session, actor: Actor, asset_id: int, action: str = "asset.view"
) -> tuple[Asset, Organization]:
    """The asset and its organization, once `action` is authorized there."""
    asset = session.get(Asset, asset_id)
    owner = asset.organization_id if asset is not None else None
    org, _ = authorize_owner(session, actor, action, owner, f"asset {asset_id} not found")
    assert asset is not None  # an owner was found
    return asset, org


def get_asset(session: Session, actor: Actor, asset_id: int) -> Asset:
    return load_asset(session, actor, asset_id)[0]


# --- reading an asset as data ---------------------------------------------------------------


def identifiers_of(asset: Asset) -> tuple[Identifier, ...]:
    return tuple((i.kind, i.value) for i in asset.identifiers)


def data_of(asset: Asset) -> AssetData:
    """The asset's current values, in the form a change is checked in."""
    return AssetData(
        name=asset.name,
        kind=asset.kind,
        criticality=asset.criticality,
        data_classification=asset.data_classification,
        owner=asset.owner,
        description=asset.description,
        tags=tuple(asset.tags or ()),
        identifiers=identifiers_of(asset),
    )


def snapshot(data: AssetData) -> dict[str, Any]:
    """An asset as an audit event records it."""
    return {
        "name": data.name,
        "kind": str(data.kind),
        "criticality": str(data.criticality),
        "data_classification": str(data.data_classification),
        "owner": data.owner,
        "description": data.description,
        "tags": list(data.tags),
        "identifiers": [format_identifier(str(k), v) for k, v in data.identifiers],
    }


def changes_between(
    before: AssetData, after: AssetData, columns: Collection[str] = (*FIELDS, "identifiers")
) -> dict[str, list[Any]]:
    """{column: [old, new]} for every column in `columns` that differs (identifiers as sets)."""
    old, new = snapshot(before), snapshot(after)
    changed: dict[str, list[Any]] = {}
    for column in columns:
        if column == "identifiers":
            if set(old[column]) != set(new[column]):
                changed[column] = [old[column], new[column]]
        elif old[column] != new[column]:
            changed[column] = [old[column], new[column]]
    return changed


# --- guards ---------------------------------------------------------------------------------


def _name_taken(session: Session, org_id: int, name: str, other_than: int | None) -> None:
    query = select(Asset.id).where(Asset.organization_id == org_id, Asset.name == name)
    if other_than is not None:
        query = query.where(Asset.id != other_than)
    if session.scalar(query.limit(1)) is not None:
        raise Conflict(f"an asset named '{name}' exists already in this organization")


def identifier_owners(
    session: Session, org_id: int, identifiers: Iterable[Identifier]
) -> dict[Identifier, tuple[int, str]]:
    """Which asset (id, name) of the organization holds each of these identifiers now."""
    wanted = set(identifiers)
    values = sorted({value for _kind, value in wanted})
    owners: dict[Identifier, tuple[int, str]] = {}
    for start in range(0, len(values), _CHUNK):
        query = (
            select(AssetIdentifier.kind, AssetIdentifier.value, Asset.id, Asset.name)
            .join(Asset, Asset.id == AssetIdentifier.asset_id)
            .where(
                AssetIdentifier.organization_id == org_id,
                AssetIdentifier.value.in_(values[start : start + _CHUNK]),
            )
        )
        for kind, value, asset_id, name in session.execute(query):
            if (kind, value) in wanted:
                owners[(kind, value)] = (asset_id, name)
    return owners


def _identifiers_free(
    session: Session, org_id: int, identifiers: Sequence[Identifier], asset_id: int | None
) -> None:
    for identifier, (owner_id, owner) in identifier_owners(session, org_id, identifiers).items():
        if owner_id != asset_id:
            shown = format_identifier(str(identifier[0]), identifier[1])
            raise Conflict(f"identifier {shown} belongs to asset '{owner}' already")


# --- writing --------------------------------------------------------------------------------


def new_asset(org_id: int, data: AssetData, created_by: int | None) -> Asset:
    asset = Asset(organization_id=org_id, created_by_id=created_by, tags=[])
    set_fields(asset, data, FIELDS)
    asset.identifiers = [
        AssetIdentifier(organization_id=org_id, kind=kind, value=value)
        for kind, value in data.identifiers
    ]
    return asset


def set_fields(asset: Asset, data: AssetData, columns: Collection[str]) -> None:
    """Copy `columns` (of FIELDS) from `data` onto the asset."""
    for column in FIELDS:
        if column in columns:
            value = getattr(data, column)
            setattr(asset, column, list(value) if column == "tags" else value)


def drop_identifiers(asset: Asset, keep: Collection[Identifier]) -> None:
    """Remove the asset's identifiers not in `keep` (deleted at the next flush)."""
    asset.identifiers = [i for i in asset.identifiers if (i.kind, i.value) in keep]


def add_identifiers(asset: Asset, wanted: Sequence[Identifier]) -> None:
    have = set(identifiers_of(asset))
    for kind, value in wanted:
        if (kind, value) not in have:
            asset.identifiers.append(
                AssetIdentifier(organization_id=asset.organization_id, kind=kind, value=value)
            )


def create_asset(session: Session, actor: Actor, org_slug: str, spec: AssetInput) -> Asset:
    """Add an asset to a client's register."""
    org = authorize_slug(session, actor, "asset.manage", org_slug)
    require_client(org)
    data = clean_asset(spec)
    _name_taken(session, org.id, data.name, None)
    _identifiers_free(session, org.id, data.identifiers, None)
    asset = new_asset(org.id, data, actor.user_id)
    session.add(asset)
    session.flush()
    record(
        session,
        actor,
        "asset.create",
        organization_id=org.id,
        object_type="asset",
        object_id=asset.id,
        detail=snapshot(data),
    )
    return asset


@dataclass(frozen=True)
class AssetChanges:
    """What to change; None leaves a field as it is. An empty owner clears it; `tags` and
    `identifiers` replace the asset's whole list."""

    name: str | None = None
    kind: str | None = None
    criticality: str | None = None
    data_classification: str | None = None
    owner: str | None = None
    description: str | None = None
    tags: Sequence[str] | None = None
    identifiers: Sequence[tuple[str, str]] | None = None

    def applied_to(self, current: AssetData) -> AssetInput:
        def pick(new: str | None, old: str) -> str:
            return old if new is None else new

        return AssetInput(
            name=pick(self.name, current.name),
            kind=pick(self.kind, current.kind),
            criticality=pick(self.criticality, current.criticality),
            data_classification=pick(self.data_classification, current.data_classification),
            owner=current.owner if self.owner is None else self.owner,
            description=pick(self.description, current.description),
            tags=current.tags if self.tags is None else self.tags,
            identifiers=(
                [(str(k), v) for k, v in current.identifiers]
                if self.identifiers is None
                else self.identifiers
            ),
        )


def update_asset(session: Session, actor: Actor, asset_id: int, changes: AssetChanges) -> Asset:
    """Change an asset; nothing is written (not even an audit event) when nothing differs."""
    asset, org = load_asset(session, actor, asset_id, "asset.manage")
    before = data_of(asset)
    after = clean_asset(changes.applied_to(before))
    changed = changes_between(before, after)
    if not changed:
        return asset
    if "name" in changed:
        _name_taken(session, org.id, after.name, asset.id)
    if "identifiers" in changed:
        _identifiers_free(session, org.id, after.identifiers, asset.id)
        drop_identifiers(asset, set(after.identifiers))
        session.flush()  # deletes first: an identifier may move between kinds of one asset
        add_identifiers(asset, after.identifiers)
    set_fields(asset, after, FIELDS)
    asset.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "asset.update",
        organization_id=org.id,
        object_type="asset",
        object_id=asset.id,
        detail={"name": after.name, "changes": changed},
    )
    return asset


def delete_asset(session: Session, actor: Actor, asset_id: int) -> None:
    """Remove an asset and its identifiers; the audit event keeps what it was."""
    asset, org = load_asset(session, actor, asset_id, "asset.manage")
    detail = snapshot(data_of(asset))
    session.delete(asset)
    session.flush()
    record(
        session,
        actor,
        "asset.delete",
        organization_id=org.id,
        object_type="asset",
        object_id=asset_id,
        detail=detail,
    )


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetFilter:
    """List filters; None (or blank) does not filter."""

    kind: str | None = None
    criticality: str | None = None
    tag: str | None = None
    text: str | None = None


def _conditions(org_id: int, filters: AssetFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Asset.organization_id == org_id]
    if filters.kind and filters.kind.strip():
        conditions.append(Asset.kind == parse_kind(filters.kind))
    if filters.criticality and filters.criticality.strip():
        conditions.append(Asset.criticality == parse_criticality(filters.criticality))
    if filters.tag and filters.tag.strip():
        [tag] = clean_tags([filters.tag])
        # tags cannot hold quotes or backslashes, so '"tag"' in the JSON text is exactly one tag
        quoted = json.dumps(tag)  # as the JSON column writes it, non-ASCII escaped
        conditions.append(cast(Asset.tags, String).contains(quoted, autoescape=True))
    text = " ".join((filters.text or "").split()).lower()
    if text:
        if len(text) > MAX_SEARCH_CHARS:
            raise InvalidInput(f"search text must have at most {MAX_SEARCH_CHARS} characters")
        identifier = exists().where(
            AssetIdentifier.asset_id == Asset.id,
            AssetIdentifier.organization_id == org_id,
            func.lower(AssetIdentifier.value).contains(text, autoescape=True),
        )
        conditions.append(
            func.lower(Asset.name).contains(text, autoescape=True)
            | func.lower(func.coalesce(Asset.owner, "")).contains(text, autoescape=True)
            | func.lower(Asset.description).contains(text, autoescape=True)
            | identifier
        )
    return conditions


def _listing(org_id: int, filters: AssetFilter) -> Select[Asset]:
    return select(Asset).where(*_conditions(org_id, filters))


def list_assets(
    session: Session,
    actor: Actor,
    org_slug: str,
    filters: AssetFilter | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Asset], int]:
    """A page of the register by name, and how many assets match the filters."""
    org = authorize_slug(session, actor, "asset.view", org_slug)
    query = _listing(org.id, filters or AssetFilter())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(func.lower(Asset.name), Asset.id).limit(limit).offset(offset)
    return list(session.scalars(ordered)), total


def export_assets(
    session: Session, actor: Actor, org_slug: str, filters: AssetFilter | None = None
) -> bytes:
    """The register (or the assets matching `filters`) as CSV that `import` reads back."""
    org = authorize_slug(session, actor, "asset.view", org_slug)
    query = _listing(org.id, filters or AssetFilter()).order_by(func.lower(Asset.name), Asset.id)
    return assets_csv(session.scalars(query))


def find_by_identifier(
    session: Session, actor: Actor, org_slug: str, kind: str, value: str
) -> Asset | None:
    """The organization's asset that `kind:value` names (normalized first), if any."""
    org = authorize_slug(session, actor, "asset.view", org_slug)
    parsed, normalized = normalize_identifier(kind, value)
    query = (
        select(Asset)
        .join(AssetIdentifier, AssetIdentifier.asset_id == Asset.id)
        .where(
            AssetIdentifier.organization_id == org.id,
            AssetIdentifier.kind == parsed,
            AssetIdentifier.value == normalized,
        )
    )
    return session.scalar(query)
