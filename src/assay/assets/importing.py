"""Importing an asset register from CSV: all rows or none.

The file is parsed and checked row by row (`csv_import`), then against the stored register:
by default an import only creates assets, and a row naming an asset that exists is a problem;
with `update=True` such a row updates that asset instead (only the columns the file has; the
name is the key, so renaming is not an import's job). An identifier may not name another
asset of the organization, unless that asset is in the file too (its identifiers are then
replaced by the file's). Any problem refuses the whole file, every problem listed with its
line; otherwise everything is written in the caller's transaction, inside a savepoint, with
one `asset.import` audit event naming the file (and its SHA-256) and every asset created or
updated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from assay.assets.csv_import import AssetRow, ParsedFile, line_of, parse_assets_csv, reject
from assay.assets.models import Asset, AssetIdentifier
from assay.assets.service import (
    FIELDS,
    add_identifiers,
    changes_between,
    data_of,
    drop_identifiers,
    identifier_owners,
    require_client,
    set_fields,
)
from assay.assets.validation import format_identifier
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.db.base import utcnow
from assay.tenancy.access import authorize_slug

_CHUNK = 500  # values per IN (...) query
_BATCH = 500  # new assets per INSERT batch


@dataclass(frozen=True)
class ImportReport:
    """What an import did, by asset name."""

    file: str
    update: bool
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


def _existing(session: Session, org_id: int, names: Iterable[str]) -> dict[str, Asset]:
    wanted = sorted(set(names))
    found: dict[str, Asset] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(Asset).where(
            Asset.organization_id == org_id, Asset.name.in_(wanted[start : start + _CHUNK])
        )
        found.update((asset.name, asset) for asset in session.scalars(query))
    return found


def _problems(
    session: Session, org_id: int, parsed: ParsedFile, existing: dict[str, Asset], update: bool
) -> list[str]:
    """What the stored register says against the file."""
    problems: list[str] = []
    if not update:
        problems.extend(
            f"line {row.line}: name: an asset named '{row.data.name}' exists already "
            "(to change it, import in update mode)"
            for row in parsed.rows
            if row.data.name in existing
        )
    in_file = {row.data.name for row in parsed.rows}
    wanted = (identifier for row in parsed.rows for identifier in row.data.identifiers)
    owners = identifier_owners(session, org_id, wanted)
    for row in parsed.rows:
        for identifier in row.data.identifiers:
            owner = owners.get(identifier)
            if owner is not None and owner[1] not in in_file:
                shown = format_identifier(str(identifier[0]), identifier[1])
                problems.append(
                    f"line {row.line}: identifiers: {shown} belongs to asset '{owner[1]}' already"
                )
    return sorted(problems, key=line_of)


def import_assets(
    session: Session, actor: Actor, org_slug: str, data: bytes, name: str, *, update: bool = False
) -> ImportReport:
    """Apply an asset CSV to a client's register: every row, or none (see the module doc)."""
    org = authorize_slug(session, actor, "asset.manage", org_slug)
    require_client(org)
    parsed = parse_assets_csv(data, name)
    existing = _existing(session, org.id, (row.data.name for row in parsed.rows))
    problems = _problems(session, org.id, parsed, existing, update)
    if problems:
        reject(parsed.file, *problems)
    with session.begin_nested():  # a failure half-way leaves nothing behind
        updated, unchanged = _update(session, parsed, existing)
        created = [row for row in parsed.rows if row.data.name not in existing]
        _create(session, org.id, created, actor.user_id)
        report = ImportReport(
            file=parsed.file,
            update=update,
            created=tuple(row.data.name for row in created),
            updated=tuple(updated),
            unchanged=tuple(unchanged),
        )
        record(
            session,
            actor,
            "asset.import",
            organization_id=org.id,
            object_type="organization",
            object_id=org.id,
            detail={
                "file": parsed.file,
                "sha256": hashlib.sha256(data).hexdigest(),
                "update": update,
                "columns": sorted(parsed.columns),
                "created": list(report.created),
                "updated": updated,
                "unchanged": len(unchanged),
            },
        )
    return report


def _create(session: Session, org_id: int, rows: list[AssetRow], user_id: int | None) -> None:
    """Insert new assets and their identifiers in batches (executemany), not row by row."""
    now = utcnow()
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        values = [
            {
                "organization_id": org_id,
                "name": row.data.name,
                "kind": row.data.kind,
                "criticality": row.data.criticality,
                "data_classification": row.data.data_classification,
                "owner": row.data.owner,
                "description": row.data.description,
                "tags": list(row.data.tags),
                "created_by_id": user_id,
                "created_at": now,
                "updated_at": now,
            }
            for row in batch
        ]
        session.execute(insert(Asset), values)
        names = [row.data.name for row in batch]
        ids = dict(
            session.execute(
                select(Asset.name, Asset.id).where(
                    Asset.organization_id == org_id, Asset.name.in_(names)
                )
            ).all()
        )
        identifiers = [
            {"asset_id": ids[row.data.name], "organization_id": org_id, "kind": k, "value": v}
            for row in batch
            for k, v in row.data.identifiers
        ]
        if identifiers:
            session.execute(insert(AssetIdentifier), identifiers)


def _update(
    session: Session, parsed: ParsedFile, existing: dict[str, Asset]
) -> tuple[dict[str, list[str]], list[str]]:
    """Update the existing assets the file names: ({name: changed columns}, unchanged names).

    Identifiers that leave an asset are deleted before any is added, so that one may move
    from one asset of the file to another."""
    columns = parsed.columns
    plans: list[tuple[AssetRow, Asset, dict[str, Any]]] = []
    unchanged: list[str] = []
    for row in parsed.rows:
        asset = existing.get(row.data.name)
        if asset is None:
            continue
        changed = changes_between(data_of(asset), row.data, columns)
        if not changed:
            unchanged.append(asset.name)
            continue
        plans.append((row, asset, changed))
        if "identifiers" in changed:
            drop_identifiers(asset, set(row.data.identifiers))
    session.flush()
    for row, asset, changed in plans:
        set_fields(asset, row.data, [c for c in FIELDS if c in columns])
        if "identifiers" in changed:
            add_identifiers(asset, row.data.identifiers)
        asset.updated_at = utcnow()
    return {asset.name: sorted(changed) for _row, asset, changed in plans}, unchanged
