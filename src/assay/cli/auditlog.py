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


@app.command()
def verify() -> None:
    """Recompute the hash chain; exit 1 and name the first event that does not match."""
    from assay.auditlog.service import verify_chain

    with work() as w:
        report = verify_chain(w.session)
    if report.intact:
        stdout.print(f"audit trail intact: {report.checked} events verified", markup=False)
        return
    stderr.print(
        f"audit trail TAMPERED: event {report.first_bad_id}: {report.problem} "
        f"({report.checked} events before it verified)",
        markup=False,
    )
    raise typer.Exit(1)
