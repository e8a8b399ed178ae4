"""The `assay` command."""

from __future__ import annotations

from typing import Annotated

import typer

from assay import __version__
from assay.cli import auditlog, catalog, db, members, orgs, tokens, users
from assay.cli.context import stdout, work

app = typer.Typer(
    name="assay",
    help="Assay: independent cybersecurity assessment for MSPs and their auditors.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(orgs.app, name="org")
app.add_typer(users.app, name="user")
app.add_typer(members.app, name="member")
app.add_typer(tokens.app, name="token")
app.add_typer(auditlog.app, name="audit-log")
app.add_typer(catalog.app, name="catalog")


def _show_version(value: bool) -> None:
    if value:
        stdout.print(f"assay {__version__}", markup=False)
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Assay command line."""


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the web interface and the API."""
    import uvicorn

    stdout.print(f"Assay on http://{host}:{port}/  (API docs: /api/docs)", markup=False)
    uvicorn.run("assay.app:create_app", factory=True, host=host, port=port, log_level="info")


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Set up the database and the demo organizations and users (idempotent)."""
    from assay.cli.db import upgrade_and_load
    from assay.demo import seed_demo

    upgrade_and_load()
    with work() as w:
        demo_users = seed_demo(w.session, w.actor)
    stdout.print(
        f"Sign in at http://{host}:{port}/login with one of these demo users", markup=False
    )
    stdout.print("(passwords are new on every run of `assay demo`):", markup=False)
    for user in demo_users:
        stdout.print(
            f"  {user.role.value:<12} {user.email:<28} {user.password}  ({user.organization})",
            markup=False,
        )


def run() -> None:
    app()
