"""`assay asset`: a client's asset register — create, list, show, update, delete, and CSV
import and export.

Commands on one asset resolve `--as EMAIL` through the user's membership that reaches the
asset's organization, so the audit trail records that user, via the CLI. An import is a
person's act: it requires `--as`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy.orm import Session

from assay.cli.context import (
    AsOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    Work,
    errors_reported,
    fail,
    page_note,
    print_json,
    print_table,
    resolve_actor,
    stderr,
    stdout,
    work,
    work_on,
)

if TYPE_CHECKING:
    from assay.assets.importing import ImportReport
    from assay.assets.models import Asset

app = typer.Typer(help="The asset register of a client organization.", no_args_is_help=True)

IdArgument = Annotated[int, typer.Argument(help="Asset id.", min=1, max=2_147_483_647)]
OrgOption = Annotated[str, typer.Option("--org", help="Client organization slug.")]
KIND_HELP = "host, application, cloud_account, network_device, data_store or saas."
IdsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--id", help="An identifier, kind:value (hostname:web1, ip:10.0.0.5); repeatable."
    ),
]
TagsOption = Annotated[list[str] | None, typer.Option("--tag", help="A tag; repeatable.")]


def asset_row(session: Session, asset: Asset) -> dict[str, Any]:
    from assay.tenancy.models import Organization

    org = session.get(Organization, asset.organization_id)
    return {
        "id": asset.id,
        "organization": org.slug if org else None,
        "name": asset.name,
        "kind": str(asset.kind),
        "criticality": str(asset.criticality),
        "owner": asset.owner,
        "data_classification": str(asset.data_classification),
        "description": asset.description,
        "tags": list(asset.tags or ()),
        "identifiers": [{"kind": str(i.kind), "value": i.value} for i in asset.identifiers],
        "created_at": asset.created_at.isoformat(),
        "updated_at": asset.updated_at.isoformat(),
    }


def _identifiers(values: list[str] | None) -> list[tuple[str, str]] | None:
    from assay.assets.validation import split_identifier

    if values is None:
        return None
    with errors_reported():
        return [split_identifier(value) for value in values if value.strip()]


@contextmanager
def on_asset(asset_id: int, as_email: str | None) -> Iterator[Work]:
    """One transaction acting on one asset, as `as_email` (else the local operator)."""
    from assay.assets.service import organization_of

    with work_on(lambda session: organization_of(session, asset_id), as_email) as w:
        yield w


def _print_asset(row: dict[str, Any]) -> None:
    stdout.print(
        f"Asset {row['id']}: {row['name']}  ({row['organization']}, {row['kind']}, "
        f"criticality {row['criticality']}, {row['data_classification']})",
        markup=False,
    )
    if row["owner"]:
        stdout.print(f"  owner: {row['owner']}", markup=False)
    if row["tags"]:
        stdout.print(f"  tags: {', '.join(row['tags'])}", markup=False)
    if row["description"]:
        stdout.print(f"  {row['description']}", markup=False)
    print_table(
        "Identifiers",
        ["kind", "value"],
        [[i["kind"], i["value"]] for i in row["identifiers"]],
    )


@app.command()
def create(
    org: OrgOption,
    name: Annotated[str, typer.Option(help="Unique within the organization.")],
    kind: Annotated[str, typer.Option(help=KIND_HELP)],
    criticality: Annotated[str, typer.Option(help="low, medium, high or critical.")] = "medium",
    classification: Annotated[
        str,
        typer.Option(
            "--classification",
            help="Data classification: public, internal, confidential, restricted.",
        ),
    ] = "internal",
    owner: Annotated[str | None, typer.Option(help="Who answers for it (name or e-mail).")] = None,
    description: Annotated[str, typer.Option(help="What it is, what it does.")] = "",
    tag: TagsOption = None,
    identifier: IdsOption = None,
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """Add an asset to a client's register."""
    from assay.assets.service import create_asset
    from assay.assets.validation import AssetInput

    spec = AssetInput(
        name=name,
        kind=kind,
        criticality=criticality,
        data_classification=classification,
        owner=owner,
        description=description,
        tags=tag or [],
        identifiers=_identifiers(identifier) or [],
    )
    with work(as_email, org) as w:
        row = asset_row(w.session, create_asset(w.session, w.actor, org, spec))
    if json_:
        print_json(row)
        return
    stdout.print(f"created asset {row['id']}: {row['name']} ({row['kind']})", markup=False)


@app.command("list")
def list_(
    org: OrgOption,
    kind: Annotated[str | None, typer.Option(help="Only this kind: " + KIND_HELP)] = None,
    criticality: Annotated[str | None, typer.Option(help="Only this criticality.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only assets with this tag.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Text in the name, owner, description or identifiers.")
    ] = None,
    json_: JsonOption = False,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_email: AsOption = None,
) -> None:
    """List a client's assets by name."""
    from assay.assets.service import AssetFilter, list_assets

    filters = AssetFilter(kind=kind, criticality=criticality, tag=tag, text=search)
    with work(as_email, org) as w:
        found, total = list_assets(w.session, w.actor, org, filters, limit=limit, offset=offset)
        rows = [asset_row(w.session, a) for a in found]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        f"Assets of {org}",
        ["id", "name", "kind", "criticality", "classification", "owner", "identifiers", "tags"],
        [
            [
                r["id"],
                r["name"],
                r["kind"],
                r["criticality"],
                r["data_classification"],
                r["owner"],
                ", ".join(f"{i['kind']}:{i['value']}" for i in r["identifiers"]),
                ", ".join(r["tags"]),
            ]
            for r in rows
        ],
    )
    page_note(len(rows), total, offset)


@app.command()
def show(asset_id: IdArgument, json_: JsonOption = False, as_email: AsOption = None) -> None:
    """Show one asset with its identifiers."""
    from assay.assets.service import get_asset

    with on_asset(asset_id, as_email) as w:
        row = asset_row(w.session, get_asset(w.session, w.actor, asset_id))
    if json_:
        print_json(row)
        return
    _print_asset(row)


@app.command()
def update(
    asset_id: IdArgument,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    kind: Annotated[str | None, typer.Option(help=KIND_HELP)] = None,
    criticality: Annotated[str | None, typer.Option(help="low, medium, high or critical.")] = None,
    classification: Annotated[
        str | None, typer.Option("--classification", help="Data classification.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Owner; an empty string clears it.")] = None,
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Replaces all tags; repeatable.")
    ] = None,
    identifier: Annotated[
        list[str] | None,
        typer.Option("--id", help="Replaces all identifiers (kind:value); repeatable."),
    ] = None,
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """Change an asset: only the options given."""
    from assay.assets.service import AssetChanges, update_asset

    changes = AssetChanges(
        name=name,
        kind=kind,
        criticality=criticality,
        data_classification=classification,
        owner=owner,
        description=description,
        tags=tag,
        identifiers=_identifiers(identifier),
    )
    with on_asset(asset_id, as_email) as w:
        row = asset_row(w.session, update_asset(w.session, w.actor, asset_id, changes))
    if json_:
        print_json(row)
        return
    stdout.print(f"asset {row['id']}: {row['name']} saved", markup=False)


@app.command()
def delete(asset_id: IdArgument, as_email: AsOption = None) -> None:
    """Remove an asset and its identifiers (the audit trail keeps what it was)."""
    from assay.assets.service import delete_asset

    with on_asset(asset_id, as_email) as w:
        delete_asset(w.session, w.actor, asset_id)
    stdout.print(f"deleted asset {asset_id}", markup=False)


@app.command("import")
def import_(
    org: OrgOption,
    path: Annotated[Path, typer.Argument(help="CSV file (UTF-8) with a header row.")],
    as_email: Annotated[
        str, typer.Option("--as", help="Act as this user (required for an import).")
    ],
    update_: Annotated[
        bool,
        typer.Option(
            "--update", help="Update assets that exist (by name) instead of refusing the file."
        ),
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Import assets from CSV: every row is checked, and all of it lands or none."""
    from assay.assets.csv_import import MAX_INPUT_BYTES
    from assay.assets.importing import import_assets
    from assay.db.engine import unit_of_work
    from assay.errors import InvalidInput

    data = _read(path, MAX_INPUT_BYTES)
    with errors_reported():
        try:
            with unit_of_work() as session:
                actor = resolve_actor(session, as_email, org)
                report = import_assets(session, actor, org, data, path.name, update=update_)
        except InvalidInput as exc:
            for problem in getattr(exc, "problems", ()):
                stderr.print(f"{path}: {problem}", markup=False)
            raise
    if json_:
        print_json(_report(report))
        return
    stdout.print(_summary(report), markup=False)


@app.command()
def export(
    org: OrgOption,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="File to write (default: standard output).", dir_okay=False
        ),
    ] = None,
    as_email: AsOption = None,
) -> None:
    """Export the register as CSV that `asset import --update` reads back."""
    from assay.assets.service import export_assets

    with work(as_email, org) as w:
        data = export_assets(w.session, w.actor, org)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"{output}: {exc.strerror or exc}")
    stdout.print(f"wrote {output} ({len(data)} bytes)", markup=False)


def _read(path: Path, limit: int) -> bytes:
    if path.is_dir():
        fail(f"{path}: is a directory, not a file")
    try:
        size = path.stat().st_size
        if size > limit:
            fail(f"{path}: file too large ({size / 2**20:.1f} MB, limit {limit // 2**20} MB)")
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


def _report(report: ImportReport) -> dict[str, Any]:
    return {
        "file": report.file,
        "update": report.update,
        "rows": report.rows,
        "created": list(report.created),
        "updated": list(report.updated),
        "unchanged": list(report.unchanged),
    }


def _summary(report: ImportReport) -> str:
    text = (
        f"{report.file}: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )
    if report.updated:
        shown = ", ".join(report.updated[:10])
        more = len(report.updated) - 10
        text += f"\nupdated: {shown}" + (f" (and {more} more)" if more > 0 else "")
    return text
