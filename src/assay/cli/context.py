"""What every command shares: one transaction, the acting identity, errors and output."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from assay.auth.actor import Actor, Via
from assay.errors import AssayError

if TYPE_CHECKING:  # the database layer is imported when a command first uses it
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Act as this user (their role and separation of duties apply)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print only JSON.")]
LimitOption = Annotated[int, typer.Option(min=1, max=10000, help="Rows to show.")]
OffsetOption = Annotated[int, typer.Option(min=0, help="Rows to skip.")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line reason to stderr and exit with `code`."""
    stderr.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def _database_hint(exc: DBAPIError) -> str:
    from assay.db.migrate import current_revision, head_revision

    with suppress(Exception):  # the hint is best effort; the original error is reported
        if current_revision() != head_revision():
            return "the database schema is not up to date: run `assay db upgrade`"
    first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return f"database error: {first_line}"


def _os_error_reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def one_line_reason(exc: BaseException) -> str | None:
    """The one-line reason to show for an error a user can cause and fix (bad input,
    configuration, files, the database), or None for a bug, which keeps its traceback."""
    if isinstance(exc, AssayError):
        return exc.message
    if isinstance(exc, OSError):
        return _os_error_reason(exc)
    if "sqlalchemy" not in sys.modules:  # not loaded, so none of its errors was raised
        return None
    from sqlalchemy.exc import DBAPIError

    # a bad URL or driver is already a ConfigurationError (db.engine.make_engine)
    return _database_hint(exc) if isinstance(exc, DBAPIError) else None


@contextmanager
def errors_reported() -> Iterator[None]:
    """Turn service, configuration, file and database errors into one line on stderr and
    exit code 1."""
    try:
        yield
    except Exception as exc:
        reason = one_line_reason(exc)
        if reason is None:
            raise
        fail(reason)


@dataclass(frozen=True)
class Work:
    session: Session
    actor: Actor


def system_actor() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor.system(f"cli:{name}", Via.CLI)


@contextmanager
def work(as_email: str | None = None, org_slug: str | None = None) -> Iterator[Work]:
    """One transaction with the acting identity: the named user in `org_slug`, else the system.

    A named user acts through the membership that reaches `org_slug` (or their first membership).
    """
    from assay.db.engine import unit_of_work

    with errors_reported(), unit_of_work() as session:
        yield Work(session, resolve_actor(session, as_email, org_slug))


def resolve_actor(session: Session, as_email: str | None, org_slug: str | None) -> Actor:
    if as_email is None:
        return system_actor()
    from assay.accounts.service import get_user
    from assay.errors import NotFound
    from assay.tenancy.access import actor_in, memberships_of

    user = get_user(session, as_email)
    if org_slug is not None:
        return actor_in(session, user.id, user.email, Via.CLI, org_slug)
    memberships = memberships_of(session, user.id)
    if not memberships:
        raise NotFound(f"{user.email} is not a member of any organization")
    return actor_in(session, user.id, user.email, Via.CLI, memberships[0].organization.slug)


def actor_for_owner(session: Session, as_email: str | None, org_id: int | None) -> Actor:
    """The user acting through the membership that reaches organization `org_id`, the owner
    of the object a command acts on. When none does, the user's first membership: the service
    then reports the object as not found, without naming its organization. Without `--as`,
    the local operator."""
    if as_email is None:
        return system_actor()
    from sqlalchemy import select

    from assay.errors import NotFound
    from assay.tenancy.models import Organization

    slug = session.scalar(select(Organization.slug).where(Organization.id == org_id))
    if slug is not None:
        with suppress(NotFound):
            return resolve_actor(session, as_email, slug)
    return resolve_actor(session, as_email, None)


@contextmanager
def work_on(owner_of: Callable[[Session], int | None], as_email: str | None) -> Iterator[Work]:
    """One transaction acting on one object, `owner_of` giving its organization's id."""
    from assay.db.engine import unit_of_work

    with errors_reported(), unit_of_work() as session:
        yield Work(session, actor_for_owner(session, as_email, owner_of(session)))


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    stdout.print(table)


def page_note(shown: int, total: int, offset: int) -> None:
    if total > shown:
        stderr.print(f"showing {offset + 1}-{offset + shown} of {total}", markup=False)


def read_secret_from_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        fail(f"no {what} on standard input")
    return value
