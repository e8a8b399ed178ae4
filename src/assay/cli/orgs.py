"""`assay org`: organizations and auditor access."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli.context import (
    AsOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    page_note,
    print_json,
    print_table,
    stdout,
    work,
)
from assay.tenancy.models import OrgKind

app = typer.Typer(
    help="Organizations: MSPs, their clients and auditor firms.", no_args_is_help=True
)


@app.command()
def create(
    slug: Annotated[
        str, typer.Argument(help="Short unique id: lowercase letters, digits, hyphens.")
    ],
    name: Annotated[str, typer.Option(help="Display name.")],
    kind: Annotated[OrgKind, typer.Option(help="msp, client or auditor.")],
    parent: Annotated[str | None, typer.Option(help="The MSP a client belongs to.")] = None,
    as_email: AsOption = None,
) -> None:
    """Create an organization."""
    from assay.tenancy.service import create_org

    with work(as_email, parent) as w:
        org = create_org(
            w.session, w.actor, slug=slug, name=name, kind=kind.value, parent_slug=parent
        )
        stdout.print(f"created {org.kind} organization {org.slug} ({org.name})", markup=False)


@app.command("list")
def list_(
    json_: JsonOption = False,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    as_email: AsOption = None,
) -> None:
    """List the organizations you can see."""
    from assay.tenancy.service import list_orgs

    with work(as_email) as w:
        orgs, total = list_orgs(w.session, w.actor, limit=limit, offset=offset)
        rows = [
            {
                "slug": o.slug,
                "name": o.name,
                "kind": str(o.kind),
                "parent": o.parent.slug if o.parent else None,
                "created_at": o.created_at.isoformat(),
            }
            for o in orgs
        ]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        "Organizations",
        ["slug", "name", "kind", "parent"],
        [[r["slug"], r["name"], r["kind"], r["parent"]] for r in rows],
    )
    page_note(len(rows), total, offset)


@app.command("grant-auditor")
def grant_auditor(
    client: Annotated[str, typer.Argument(help="Client organization slug.")],
    auditor: Annotated[str, typer.Argument(help="Auditor firm slug.")],
    as_email: AsOption = None,
) -> None:
    """Give an auditor firm access to a client organization."""
    from assay.tenancy.service import grant_auditor as grant

    with work(as_email, client) as w:
        g = grant(w.session, w.actor, client, auditor)
        stdout.print(f"{auditor} now has access to {client} (grant {g.id})", markup=False)


@app.command("revoke-auditor")
def revoke_auditor(
    client: Annotated[str, typer.Argument(help="Client organization slug.")],
    auditor: Annotated[str, typer.Argument(help="Auditor firm slug.")],
    as_email: AsOption = None,
) -> None:
    """Withdraw an auditor firm's access to a client organization."""
    from assay.tenancy.service import revoke_auditor as revoke

    with work(as_email, client) as w:
        revoke(w.session, w.actor, client, auditor)
        stdout.print(f"{auditor} no longer has access to {client}", markup=False)
