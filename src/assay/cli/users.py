"""`assay user`: user accounts (local operator)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from assay.cli.context import (
    JsonOption,
    LimitOption,
    OffsetOption,
    page_note,
    print_json,
    print_table,
    read_secret_from_stdin,
    stdout,
    work,
)

app = typer.Typer(help="User accounts.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input instead of generating one.",
    ),
]


@app.command()
def create(
    email: Annotated[str, typer.Argument(help="Sign-in email address.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user. Without --password-stdin a password is generated and shown once."""
    from assay.accounts.secrets import generate_password
    from assay.accounts.service import create_user

    password = read_secret_from_stdin("password") if password_stdin else generate_password()
    with work() as w:
        user = create_user(w.session, w.actor, email=email, name=name, password=password)
    stdout.print(f"created user {user.email}", markup=False)
    if not password_stdin:
        stdout.print(f"password (shown once): {password}", markup=False)


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="Sign-in email address.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Replace a user's password and end their web sessions."""
    from assay.accounts.secrets import generate_password
    from assay.accounts.service import set_password as reset

    password = read_secret_from_stdin("password") if password_stdin else generate_password()
    with work() as w:
        user = reset(w.session, w.actor, email, password)
    stdout.print(f"password of {user.email} replaced", markup=False)
    if not password_stdin:
        stdout.print(f"password (shown once): {password}", markup=False)


@app.command("list")
def list_(json_: JsonOption = False, limit: LimitOption = 100, offset: OffsetOption = 0) -> None:
    """List user accounts with their memberships."""
    from assay.accounts.service import list_users
    from assay.tenancy.access import memberships_of

    with work() as w:
        users, total = list_users(w.session, w.actor, limit=limit, offset=offset)
        rows: list[dict[str, Any]] = [
            {
                "email": u.email,
                "name": u.name,
                "active": u.is_active,
                "memberships": [
                    {"org": m.organization.slug, "role": str(m.role)}
                    for m in memberships_of(w.session, u.id)
                ],
            }
            for u in users
        ]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        "Users",
        ["email", "name", "memberships"],
        [
            [r["email"], r["name"], ", ".join(f"{m['org']}:{m['role']}" for m in r["memberships"])]
            for r in rows
        ],
    )
    page_note(len(rows), total, offset)
