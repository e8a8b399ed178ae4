"""`assay token`: personal API tokens."""

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

app = typer.Typer(help="Personal API tokens (shown once, stored hashed).", no_args_is_help=True)


@app.command()
def create(
    user: Annotated[str, typer.Option(help="Email of the token's owner.")],
    org: Annotated[str, typer.Option(help="Organization the token acts in.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Expire after this many days.")
    ] = None,
    as_email: AsOption = None,
) -> None:
    """Create a token; its secret is printed once and never stored."""
    from assay.accounts.service import create_token

    with work(as_email, org) as w:
        issued = create_token(
            w.session,
            w.actor,
            user_email=user,
            org_slug=org,
            name=name,
            expires_in_days=expires_in_days,
        )
    stdout.print(f"token {issued.token.id} for {user} in {org} (shown once):", markup=False)
    stdout.print(issued.secret, markup=False)


@app.command()
def revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `assay token list`).")],
    as_email: AsOption = None,
) -> None:
    """Revoke a token at once."""
    from assay.accounts.service import revoke_token

    with work(as_email) as w:
        revoke_token(w.session, w.actor, token_id)
    stdout.print(f"token {token_id} revoked", markup=False)


@app.command("list")
def list_(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    json_: JsonOption = False,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    as_email: AsOption = None,
) -> None:
    """List tokens (never their secrets)."""
    from sqlalchemy import select

    from assay.accounts.models import User
    from assay.accounts.service import list_tokens
    from assay.tenancy.models import Organization

    with work(as_email) as w:
        tokens, total = list_tokens(w.session, w.actor, user_email=user, limit=limit, offset=offset)
        emails = dict(
            w.session.execute(
                select(User.id, User.email).where(User.id.in_({t.user_id for t in tokens}))
            ).all()
        )
        slugs = dict(
            w.session.execute(
                select(Organization.id, Organization.slug).where(
                    Organization.id.in_({t.organization_id for t in tokens})
                )
            ).all()
        )
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "user": emails[t.user_id],
                "org": slugs[t.organization_id],
                "created_at": t.created_at.isoformat(),
                "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in tokens
        ]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        "API tokens",
        ["id", "name", "prefix", "user", "org", "expires", "revoked"],
        [
            [r["id"], r["name"], r["prefix"], r["user"], r["org"], r["expires_at"], r["revoked_at"]]
            for r in rows
        ],
    )
    page_note(len(rows), total, offset)
