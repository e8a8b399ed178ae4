"""The `assay` command.

The command groups import the services and SQLAlchemy, so they are attached on first use of
`app` (`from assay.cli.main import app` works as before). `run`, the console script, hands
`assay risk simulate` (no database) to `assay.cli.risk` before importing any of them.
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from typing import Annotated

import typer

from assay import __version__

root = typer.Typer(
    name="assay",
    help="Assay: independent cybersecurity assessment for MSPs and their auditors.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


# Command groups by name, and the module under assay.cli that holds each one's Typer app.
GROUPS = {
    "db": "db",
    "org": "orgs",
    "user": "users",
    "member": "members",
    "token": "tokens",
    "audit-log": "auditlog",
    "catalog": "catalog",
    "assess": "assess",
    "asset": "assets",
    "risk": "risk",
    "audit": "audit",
}


def _add_group(name: str) -> None:
    module = importlib.import_module(f"assay.cli.{GROUPS[name]}")
    root.add_typer(module.app, name=name)


@cache
def _with_command_groups() -> typer.Typer:
    for name in GROUPS:
        _add_group(name)
    return root


def __getattr__(name: str) -> typer.Typer:
    """`app`: the whole command tree, built on first use (PEP 562)."""
    if name == "app":
        return _with_command_groups()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _show_version(value: bool) -> None:
    if value:
        from assay.cli.context import stdout

        stdout.print(f"assay {__version__}", markup=False)
        raise typer.Exit


@root.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Assay command line."""


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


@root.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the web interface and the API."""
    import uvicorn

    from assay.cli.context import errors_reported, stdout
    from assay.config import load_settings

    with errors_reported():  # a configuration problem is one line here, not a server traceback
        load_settings()
    stdout.print(f"Assay on http://{host}:{port}/  (API docs: /api/docs)", markup=False)
    uvicorn.run("assay.app:create_app", factory=True, host=host, port=port, log_level="info")


Clients = Annotated[
    int,
    typer.Option(
        min=0,
        max=100000,
        help="Also generate N clients (demo-client-0001...) with full CIS v8.1 IG3 assessments, "
        "for benchmarks.",
    ),
]


@root.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000, clients: Clients = 0) -> None:
    """Set up the database, the demo organizations, users and assessments (idempotent)."""
    from assay.cli.context import stdout, work
    from assay.cli.db import upgrade_and_load
    from assay.demo import seed_assessments, seed_demo

    upgrade_and_load()
    with work() as w:
        demo_users = seed_demo(w.session, w.actor)
        created = seed_assessments(w.session, w.actor.via)
    for line in created:
        stdout.print(line, markup=False)
    if clients:
        _generate_clients(clients)
    stdout.print(
        f"Sign in at http://{host}:{port}/login with one of these demo users", markup=False
    )
    stdout.print("(passwords are new on every run of `assay demo`):", markup=False)
    for user in demo_users:
        stdout.print(
            f"  {user.role.value:<12} {user.email:<28} {user.password}  ({user.organization})",
            markup=False,
        )


def _generate_clients(count: int) -> None:
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from assay.cli.context import stderr, stdout, work
    from assay.demo import generate_clients

    started = time.perf_counter()
    with (
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr,
            disable=count <= 1,
            transient=False,
        ) as bar,
        work() as w,
    ):
        task = bar.add_task("generating clients", total=count)
        made = generate_clients(w.session, w.actor, count, lambda done: bar.advance(task, done))
    noun = "client" if len(made) == 1 else "clients"
    stdout.print(
        f"generated {len(made)} {noun} with full CIS v8.1 IG3 assessments "
        f"({count - len(made)} already there) in {time.perf_counter() - started:.1f}s",
        markup=False,
    )


def run() -> None:
    """The console script. A command of one group imports only that group (`assay audit host`
    need not load the database layer); `assay risk simulate` skips even Typer's tree.

    An error a user can fix (configuration, files, the database) that escaped its command is
    still reported as one line on stderr with exit code 1, never as a traceback."""
    try:
        _dispatch(sys.argv[1:])
    except Exception as exc:
        from assay.cli.context import fail, one_line_reason

        reason = one_line_reason(exc)
        if reason is None:
            raise
        try:
            fail(reason)
        except typer.Exit as done:
            sys.exit(done.exit_code)


def _dispatch(args: list[str]) -> None:
    if args == ["--version"]:
        print(f"assay {__version__}")
        return
    if args[:2] == ["risk", "simulate"]:
        from assay.cli.risk import run_simulate

        run_simulate(args[2:])
        return
    if args and args[0] in GROUPS:
        _add_group(args[0])
        root()
        return
    _with_command_groups()()
