"""`assay audit-log`: read and verify the hash-chained audit trail."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from assay.cli.context import (
    AsOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    page_note,
    print_json,
    print_table,
    stderr,
    stdout,
    work,
)

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("list")
def list_(
    org: Annotated[str | None, typer.Option(help="Only events of this organization.")] = None,
    json_: JsonOption = False,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    as_email: AsOption = None,
) -> None:
    """List events, newest first."""
    from assay.auditlog.service import list_events
    from assay.tenancy.models import Organization

    with work(as_email, org) as w:
        events, total = list_events(w.session, w.actor, org_slug=org, limit=limit, offset=offset)
        slugs = {
            o.id: o.slug
            for o in w.session.query(Organization).filter(
                Organization.id.in_({e.organization_id for e in events if e.organization_id})
            )
        }
        rows: list[dict[str, Any]] = [
            {
                "id": e.id,
                "occurred_at": e.occurred_at.isoformat(),
                "actor": e.actor_label,
                "actor_user_id": e.actor_user_id,
                "via": e.via,
                "organization": slugs.get(e.organization_id) if e.organization_id else None,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "detail": e.detail,
                "digest": e.digest,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
            }
            for e in events
        ]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        "Audit trail",
        ["id", "time (UTC)", "actor", "via", "org", "action", "object"],
        [
            [
                r["id"],
                r["occurred_at"][:19].replace("T", " "),
                r["actor"],
                r["via"],
                r["organization"],
                r["action"],
                f"{r['object_type']} {r['object_id'] or ''}".strip(),
            ]
            for r in rows
        ],
    )
    page_note(len(rows), total, offset)


ExpectHead = Annotated[
    str | None,
    typer.Option(
        "--expect-head",
        metavar="HASH",
        help="The head hash recorded earlier (from a previous verify): exit 1 unless the chain "
        "still ends there. Catches deletion of the newest events, which the chain alone cannot.",
    ),
]


@app.command()
def verify(expect_head: ExpectHead = None, json_: JsonOption = False) -> None:
    """Recompute the hash chain; exit 1 and name the first event that does not match.

    Prints the number of events and the head hash (the last event's): keep it elsewhere and
    pass it to --expect-head later to detect events removed from the end of the chain."""
    from sqlalchemy import func, select

    from assay.auditlog.models import AuditEvent
    from assay.auditlog.service import verify_chain

    expected = expect_head.strip().lower() if expect_head is not None else None
    with work() as w:
        report = verify_chain(w.session, w.actor)
        expected_at = (
            w.session.scalar(select(AuditEvent.id).where(AuditEvent.hash == expected))
            if expected is not None and report.intact and report.head != expected
            else None
        )
        newer = (
            w.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.id > expected_at)
            )
            if expected_at is not None
            else None
        )
    if not report.intact:
        problem = (
            f"audit trail TAMPERED: event {report.first_bad_id}: {report.problem} "
            f"({report.checked} events before it verified)"
        )
    elif expected is not None and report.head != expected:
        where = (
            f"the expected head is event {expected_at}, followed by {newer} newer "
            f"event{'' if newer == 1 else 's'}"
            if expected_at is not None
            else "the expected head is not in the chain (newest events deleted, or chain rebuilt)"
        )
        problem = (
            f"audit trail does not end at the expected head: {report.checked} events end at "
            f"{report.head}; {where}"
        )
    else:
        problem = None
    if json_:
        print_json(
            {
                "intact": problem is None,
                "events": report.checked,
                "head": report.head,
                "expected_head": expected,
                "first_bad_id": report.first_bad_id,
                "problem": problem,
            }
        )
    elif problem is None:
        stdout.print(
            f"audit trail intact: {report.checked} events verified, head {report.head}",
            markup=False,
        )
    if problem is not None:
        stderr.print(problem, markup=False)
        raise typer.Exit(1)
