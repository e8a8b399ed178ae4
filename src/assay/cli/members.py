"""`assay member`: who has which role in an organization."""

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
from assay.tenancy.models import Role

app = typer.Typer(help="Memberships: a user's role in an organization.", no_args_is_help=True)

OrgArgument = Annotated[str, typer.Argument(help="Organization slug.")]
EmailArgument = Annotated[str, typer.Argument(help="User email.")]


@app.command()
def add(
    org: OrgArgument,
    email: EmailArgument,
    role: Annotated[Role, typer.Option(help="admin, it_operator, auditor or executive.")],
    as_email: AsOption = None,
) -> None:
    """Give a user a role in an organization (or change it)."""
    from assay.tenancy.service import add_member

    with work(as_email, org) as w:
        added = add_member(w.session, w.actor, org, email, role.value)
        stdout.print(f"{added.user.email} is {added.membership.role} of {org}", markup=False)


@app.command()
def remove(org: OrgArgument, email: EmailArgument, as_email: AsOption = None) -> None:
    """Remove a user from an organization."""
    from assay.tenancy.service import remove_member_by_email

    with work(as_email, org) as w:
        remove_member_by_email(w.session, w.actor, org, email)
    stdout.print(f"{email} removed from {org}", markup=False)


@app.command("list")
def list_(
    org: OrgArgument,
    json_: JsonOption = False,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    as_email: AsOption = None,
) -> None:
    """List the members of an organization."""
    from assay.tenancy.service import list_members

    with work(as_email, org) as w:
        members, total = list_members(w.session, w.actor, org, limit=limit, offset=offset)
        rows = [
            {"id": m.id, "email": u.email, "name": u.name, "role": str(m.role)} for m, u in members
        ]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        f"Members of {org}",
        ["id", "email", "name", "role"],
        [[r["id"], r["email"], r["name"], r["role"]] for r in rows],
    )
    page_note(len(rows), total, offset)
