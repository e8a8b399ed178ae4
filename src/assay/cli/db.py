"""`assay db`: schema migrations."""

from __future__ import annotations

import typer

from assay.cli.context import errors_reported, stdout, work

app = typer.Typer(help="Database schema.", no_args_is_help=True)


def upgrade_and_load() -> None:
    """Migrate the schema, then load built-in catalogs that are new or changed."""
    from assay.catalog.service import sync_builtin
    from assay.config import settings
    from assay.db.migrate import current_revision
    from assay.db.migrate import upgrade as run_upgrade

    with errors_reported():
        run_upgrade()
        stdout.print(
            f"database at revision {current_revision()} ({_where(settings().database_url)})",
            markup=False,
        )
    with work() as w:
        reports = sync_builtin(w.session, w.actor)
    for report in reports:
        if report.status != "unchanged":
            stdout.print(report.summary(), markup=False)


@app.command()
def upgrade() -> None:
    """Create or upgrade the database schema and load the built-in catalogs."""
    upgrade_and_load()


@app.command()
def current() -> None:
    """Show the schema revision of the database and whether it is the latest."""
    from assay.db.migrate import current_revision, head_revision

    with errors_reported():
        revision, head = current_revision(), head_revision()
    state = (
        "up to date" if revision == head else f"behind (latest is {head}): run `assay db upgrade`"
    )
    stdout.print(f"{revision or 'empty'} {state}", markup=False)


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.render_as_string(hide_password=True)
