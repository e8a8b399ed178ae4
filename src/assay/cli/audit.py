"""`assay audit`: host configuration checks on this machine or an offline root filesystem."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from assay.audit.schema import Severity
from assay.cli.context import JsonOption, fail, print_json, stderr, stdout

if TYPE_CHECKING:
    from assay.audit.runner import AuditRun
    from assay.audit.schema import Check

app = typer.Typer(
    help="Automated host audits: configuration checks on this machine or an offline root.",
    no_args_is_help=True,
)

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Audit the filesystem tree at PATH (a mounted image or an unpacked container) "
        "instead of this machine. Nothing is executed and nothing outside PATH is read.",
        file_okay=False,
    ),
]
CheckOption = Annotated[
    list[str] | None,
    typer.Option("--check", help="Only checks whose id matches this glob (repeatable)."),
]
AreaOption = Annotated[
    list[str] | None, typer.Option("--area", help="Only checks of this area (repeatable).")
]
FailOnOption = Annotated[
    Severity | None,
    typer.Option(
        "--fail-on",
        help="Exit with 1 when a check of this severity or higher fails.",
        case_sensitive=False,
    ),
]

_STYLES = {"pass": "green", "fail": "bold red", "not_applicable": "dim", "error": "yellow"}
_LABELS = {"pass": "pass", "fail": "FAIL", "not_applicable": "n/a", "error": "error"}


def _checks(patterns: list[str] | None, areas: list[str] | None) -> list[Check]:
    from assay.audit.loader import builtin_checks, select
    from assay.catalog.yamlfile import ContentError

    try:
        everything = builtin_checks()
    except ContentError as exc:
        fail(exc.message)
    known = {c.area for c in everything}
    unknown = sorted(set(areas or ()) - known)
    if unknown:
        fail(f"unknown area: {', '.join(unknown)} (areas: {', '.join(sorted(known))})", 2)
    chosen = select(everything, patterns=patterns or (), areas=areas or ())
    if not chosen:
        fail("no check matches the given --check/--area", 2)
    return chosen


def _run(root: Path | None, checks: list[Check], show_progress: bool) -> AuditRun:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from assay.audit.roots import LocalSource, RootSource
    from assay.audit.runner import run

    source = LocalSource() if root is None else RootSource(root)
    if source.problem:
        fail(source.problem, 2)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not show_progress,
    ) as bar:
        task = bar.add_task(f"auditing {source.description}", total=len(checks))
        return run(source, checks, on_result=lambda _result: bar.advance(task))


def _table(audit: AuditRun) -> None:
    table = Table(title=f"Host audit: {audit.target}", title_justify="left")
    for column in ("status", "severity", "check", "observed / reason"):
        table.add_column(column, overflow="fold")
    for result in audit.results:
        detail = result.reason if result.status in ("not_applicable", "error") else result.observed
        if result.status == "fail" and result.expected:
            detail += f"\nexpected: {result.expected}"
        table.add_row(
            Text(_LABELS[result.status], style=_STYLES[result.status]),
            result.severity.value,
            Text(f"{result.check_id}\n{result.title}"),
            Text(detail),
        )
    stdout.print(table)
    counts = audit.summary()["by_status"]
    stdout.print(
        f"{len(audit.results)} checks on {audit.target} in {audit.seconds:.2f}s: "
        f"{counts['pass']} pass, {counts['fail']} fail, {counts['not_applicable']} not "
        f"applicable, {counts['error']} error; digest {audit.digest[:16]}",
        markup=False,
    )


@app.command()
def host(
    root: RootOption = None,
    check: CheckOption = None,
    area: AreaOption = None,
    json_: JsonOption = False,
    fail_on: FailOnOption = None,
) -> None:
    """Run the host checks on this machine, or on the root filesystem at --root."""
    checks = _checks(check, area)
    audit = _run(root, checks, show_progress=stderr.is_terminal)
    if json_:
        print_json(audit.to_dict())
    else:
        _table(audit)
    if fail_on is not None and audit.failed_at_or_above(fail_on):
        raise typer.Exit(1)


def _check_dict(check: Check) -> dict[str, Any]:
    data = check.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["area"] = check.area
    return data


@app.command("checks")
def list_checks(area: AreaOption = None, json_: JsonOption = False) -> None:
    """List the host checks."""
    checks = _checks(None, area)
    if json_:
        print_json([_check_dict(c) for c in checks])
        return
    table = Table(title=f"{len(checks)} host checks", title_justify="left")
    for column in ("check", "severity", "title", "probe", "CIS v8.1", "CSF 2.0"):
        table.add_column(column, overflow="fold")
    for c in checks:
        refs = c.references
        row = (
            c.id,
            c.severity.value,
            c.title,
            c.probe.type,
            " ".join(refs.cis),
            " ".join(refs.csf),
        )
        table.add_row(*(Text(cell) for cell in row))
    stdout.print(table)
