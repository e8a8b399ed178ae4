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


OrgOption = Annotated[
    str | None,
    typer.Option("--org", help="Store the run in this client organization (on --asset)."),
]
AssetOption = Annotated[
    str | None,
    typer.Option(
        "--asset",
        help="The asset the run belongs to: its name or an identifier such as its host name "
        "(default: the audited host's name from /etc/hostname).",
    ),
]
SubmitOption = Annotated[
    str | None,
    typer.Option(
        "--submit",
        help="Post the run to an Assay server at this URL (agent mode) instead of a local "
        "database; needs --token.",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="ASSAY_TOKEN",
        help="API token for --submit (or the ASSAY_TOKEN environment variable).",
    ),
]
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Store the run as this user (their role decides who collected it)."),
]


@app.command()
def host(
    root: RootOption = None,
    check: CheckOption = None,
    area: AreaOption = None,
    json_: JsonOption = False,
    fail_on: FailOnOption = None,
    org: OrgOption = None,
    asset: AssetOption = None,
    submit: SubmitOption = None,
    token: TokenOption = None,
    as_email: AsOption = None,
) -> None:
    """Run the host checks on this machine, or on the root filesystem at --root; with --org,
    store the run on an asset in the local database; with --submit, post it to a server."""
    if submit is not None and token is None:
        fail("--submit needs --token (or ASSAY_TOKEN)", 2)
    if submit is None and as_email is not None and org is None:
        fail("--as needs --org: the organization to store the run in", 2)
    checks = _checks(check, area)
    audit = _run(root, checks, show_progress=stderr.is_terminal)
    stored: dict[str, Any] | None = None
    if submit is not None or org is not None:
        from assay.audit import agent
        from assay.errors import AssayError

        try:
            name = asset or agent.host_name(root)
            if submit is not None:
                assert token is not None
                stored = agent.submit(submit, token, org, name, audit)
        except AssayError as exc:
            fail(str(exc))
        if submit is None:
            assert org is not None
            stored = _store(org, name, audit, as_email)
    if json_:
        payload = audit.to_dict()
        if stored is not None:
            payload["stored"] = stored
        print_json(payload)
    else:
        _table(audit)
        if stored is not None:
            stderr.print(
                f"stored as run {stored['id']} on asset {stored['asset']} "
                f"({stored['collected_by']}-collected); backs {stored['linked_answers']} answer(s)",
                markup=False,
            )
    if fail_on is not None and audit.failed_at_or_above(fail_on):
        raise typer.Exit(1)


def _store(org: str, asset: str, audit: AuditRun, as_email: str | None) -> dict[str, Any]:
    from assay.audit import service
    from assay.audit.submission import SubmittedRun
    from assay.cli.context import work

    with work(as_email, org) as w:
        stored = service.store_run(w.session, w.actor, org, asset, SubmittedRun.from_run(audit))
        return {
            **service.run_row(stored.run, stored.asset),
            "evidence_id": stored.evidence_id,
            "linked_answers": stored.linked_answers,
            "verified_left": stored.verified_left,
        }


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


# --- stored runs ---------------------------------------------------------------------------

RunArgument = Annotated[int, typer.Argument(help="Audit run id.", min=1)]
OrgRequired = Annotated[str, typer.Option("--org", help="The client organization.")]


@app.command("runs")
def list_runs(
    org: OrgRequired,
    asset: Annotated[str | None, typer.Option(help="Only runs of this asset.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """An organization's stored audit runs, newest first."""
    from assay.audit import service
    from assay.cli.context import page_note, print_table, work

    with work(as_email, org) as w:
        rows, total = service.list_runs(
            w.session, w.actor, org, asset=asset, limit=limit, offset=offset
        )
        found = [dict(service.run_row(run, a)) for run, a in rows]
    if json_:
        print_json({"items": found, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        f"Audit runs of {org}",
        ["id", "asset", "target", "collected by", "started", "pass", "fail", "n/a", "error"],
        [
            [
                r["id"],
                r["asset"],
                r["target"],
                r["collected_by"],
                r["started_at"][:19],
                r["passed"],
                r["failed"],
                r["not_applicable"],
                r["errors"],
            ]
            for r in found
        ],
    )
    page_note(len(found), total, offset)


@app.command("show")
def show_run(run_id: RunArgument, json_: JsonOption = False, as_email: AsOption = None) -> None:
    """One stored run with every result: observed, expected, where."""
    from assay.audit import service
    from assay.audit.models import CheckResultRecord
    from assay.cli.context import work_on

    def result_row(r: CheckResultRecord) -> dict[str, Any]:
        return {
            "check": r.check_id,
            "title": r.title,
            "severity": r.severity,
            "status": r.status,
            "observed": r.observed,
            "expected": r.expected,
            "reason": r.reason,
            "locations": r.locations,
        }

    with work_on(lambda session: service.organization_of_run(session, run_id), as_email) as w:
        view = service.get_run(w.session, w.actor, run_id)
        payload = {
            **service.run_row(view.run, view.asset),
            "organization": view.organization.slug,
            "results": [result_row(r) for r in view.results],
        }
    if json_:
        print_json(payload)
        return
    table = Table(
        title=f"Run {run_id}: {payload['asset']} ({payload['target']})", title_justify="left"
    )
    for column in ("status", "severity", "check", "observed / reason"):
        table.add_column(column, overflow="fold")
    for r in payload["results"]:
        detail = r["reason"] if r["status"] in ("not_applicable", "error") else r["observed"]
        table.add_row(
            Text(_LABELS[r["status"]], style=_STYLES[r["status"]]),
            r["severity"],
            Text(f"{r['check']}\n{r['title']}"),
            Text(detail),
        )
    stdout.print(table)


@app.command("diff")
def diff_runs(
    before: RunArgument,
    after: RunArgument,
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """Drift between two runs: checks that broke, were fixed or changed."""
    from assay.audit import service
    from assay.cli.context import print_table, work_on

    with work_on(lambda session: service.organization_of_run(session, before), as_email) as w:
        found = service.compare_runs(w.session, w.actor, before, after)
        changes = [
            {"check": c.check_id, "kind": c.kind, "before": c.before, "after": c.after}
            for c in found.changes
        ]
        counts = found.counts
    if json_:
        print_json({"before": before, "after": after, "counts": counts, "changes": changes})
        return
    print_table(
        f"Run {before} -> run {after}",
        ["change", "check", "before", "after"],
        [[c["kind"], c["check"], c["before"] or "-", c["after"] or "-"] for c in changes],
    )
    stdout.print(", ".join(f"{n} {kind}" for kind, n in counts.items()), markup=False)


@app.command("fleet")
def show_fleet(org: OrgRequired, json_: JsonOption = False, as_email: AsOption = None) -> None:
    """Every asset of an organization with its latest run."""
    from assay.audit import service
    from assay.cli.context import print_table, work

    with work(as_email, org) as w:
        rows: list[dict[str, Any]] = [
            {
                "asset": row.asset.name,
                "kind": str(row.asset.kind),
                "latest": dict(service.run_row(row.latest, row.asset)) if row.latest else None,
            }
            for row in service.fleet(w.session, w.actor, org)
        ]
    if json_:
        print_json(rows)
        return
    print_table(
        f"Fleet of {org}",
        ["asset", "kind", "latest run", "started", "pass", "fail", "error"],
        [
            [r["asset"], r["kind"]]
            + (
                [
                    r["latest"]["id"],
                    r["latest"]["started_at"][:19],
                    r["latest"]["passed"],
                    r["latest"]["failed"],
                    r["latest"]["errors"],
                ]
                if r["latest"]
                else ["never audited", "", "", "", ""]
            )
            for r in rows
        ],
    )


@app.command("suggestions")
def show_suggestions(
    assessment_id: Annotated[int, typer.Argument(help="Assessment id.", min=1)],
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """What the latest run of each audited asset suggests for an assessment's controls."""
    from assay.audit import service
    from assay.cli.assess import on_assessment
    from assay.cli.context import print_table

    with on_assessment(assessment_id, as_email) as w:
        rows = service.suggestion_rows(service.suggestions(w.session, w.actor, assessment_id))
    if json_:
        print_json(rows)
        return
    print_table(
        f"Suggestions for assessment {assessment_id} (answers still need a person and an auditor)",
        ["control", "suggested", "checks passing", "failing (asset: check)"],
        [
            [
                r["control"],
                r["suggested_status"],
                f"{r['passed']} of {r['passed'] + r['failed']}",
                "\n".join(r["failing"][:5]),
            ]
            for r in rows
        ],
    )


# --- fleets over SSH -------------------------------------------------------------------------


@app.command("inventory")
def audit_inventory(
    inventory: Annotated[
        Path, typer.Argument(help="YAML inventory of hosts (see docs/checks.md).", dir_okay=False)
    ],
    check: CheckOption = None,
    area: AreaOption = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Hosts audited at the same time.")
    ] = 20,
    insecure_no_host_check: Annotated[
        bool,
        typer.Option(
            "--insecure-no-host-check",
            help="Do not verify host keys against known_hosts (results say so).",
        ),
    ] = False,
    org: OrgOption = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
    fail_on: FailOnOption = None,
) -> None:
    """Audit every host of an inventory over SSH, a bounded number at a time; a host that
    fails is reported and never stops the others. With --org, each run is stored on the
    host's asset (its `asset` field, else its name)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from assay.audit.inventory import HostOutcome, audit_hosts, load_inventory
    from assay.audit.runner import run
    from assay.audit.source import FileSource
    from assay.errors import AssayError

    checks = _checks(check, area)
    try:
        hosts = load_inventory(inventory)
    except AssayError as exc:
        fail(exc.message, 2)
    except OSError as exc:
        fail(f"{inventory}: {exc.strerror or exc}", 2)

    def audit_one(source: FileSource) -> AuditRun:
        return run(source, checks)

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    ) as bar:
        task = bar.add_task(f"auditing {len(hosts)} hosts", total=len(hosts))

        def done(_outcome: HostOutcome[AuditRun]) -> None:
            bar.advance(task)

        outcomes = audit_hosts(
            hosts,
            audit_one,
            max_concurrent=concurrency,
            check_host_keys=not insecure_no_host_check,
            on_done=done,
        )
    rows: list[dict[str, Any]] = []
    for outcome in outcomes:
        row: dict[str, Any] = {
            "host": outcome.host.name,
            "target": outcome.description,
            "seconds": round(outcome.seconds, 3),
            "error": outcome.error,
            "error_kind": str(outcome.kind) if outcome.kind else None,
        }
        if outcome.result is not None:
            row["summary"] = outcome.result.summary()
            row["digest"] = outcome.result.digest
            if org is not None:
                row["stored"] = _store(
                    org, outcome.host.asset or outcome.host.name, outcome.result, as_email
                )
        rows.append(row)
    if json_:
        print_json({"hosts": rows, "results": {o.host.name: _results(o) for o in outcomes}})
    else:
        _fleet_table(rows)
    failed_hosts = [o for o in outcomes if o.result is None]
    gated = fail_on is not None and any(
        o.result is not None and o.result.failed_at_or_above(fail_on) for o in outcomes
    )
    if failed_hosts or gated:
        raise typer.Exit(1)


def _results(outcome: Any) -> list[dict[str, Any]] | None:
    return None if outcome.result is None else [r.to_dict() for r in outcome.result.results]


def _fleet_table(rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"Fleet audit: {len(rows)} hosts", title_justify="left")
    for column in ("host", "target", "pass", "fail", "n/a", "error", "stored / problem"):
        table.add_column(column, overflow="fold")
    for row in rows:
        if row["error"]:
            table.add_row(
                row["host"], row["target"], "", "", "", "", Text(row["error"], style="bold red")
            )
            continue
        counts = row["summary"]["by_status"]
        stored = f"run {row['stored']['id']}" if "stored" in row else ""
        table.add_row(
            row["host"],
            row["target"],
            str(counts["pass"]),
            str(counts["fail"]),
            str(counts["not_applicable"]),
            str(counts["error"]),
            stored,
        )
    stdout.print(table)
