"""`assay assess`: assessments, answers, evidence, independent verification, scores, trends and
spreadsheets.

Commands that act on an assessment resolve `--as EMAIL` through the user's membership that
reaches the assessment's organization, so the audit trail records that user, via the CLI.
Answering, attaching evidence, verifying, rejecting, moving between states, cloning and
importing are people's acts: they require `--as`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.auth.actor import Actor
from assay.cli.context import (
    AsOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    Work,
    actor_for_owner,
    errors_reported,
    fail,
    page_note,
    print_json,
    print_table,
    stderr,
    stdout,
    work,
    work_on,
)

if TYPE_CHECKING:
    from assay.assess.models import Assessment, Evidence
    from assay.assess.spreadsheet import ImportReport
    from assay.assess.worksheet import Worksheet

app = typer.Typer(
    help="Assessments: answers, evidence, independent verification, scores.",
    no_args_is_help=True,
)

RequiredAs = Annotated[
    str,
    typer.Option(
        "--as",
        help="Act as this user (required: their role and separation of duties apply).",
    ),
]
IdArgument = Annotated[int, typer.Argument(help="Assessment id.", min=1)]
ControlArgument = Annotated[str, typer.Argument(help="Control id, e.g. 1.1 or PR.AA-01.")]
DATE_FORMATS = ["%Y-%m-%d"]


class SheetFormat(enum.StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


# --- acting on an assessment ---------------------------------------------------------------


def _actor_for(session: Session, as_email: str | None, assessment_id: int) -> Actor:
    """The user acting through the membership that reaches the assessment's organization."""
    from assay.assess.worksheet import organization_of

    return actor_for_owner(session, as_email, organization_of(session, assessment_id=assessment_id))


@contextmanager
def on_assessment(assessment_id: int, as_email: str | None) -> Iterator[Work]:
    """One transaction acting on one assessment, as `as_email` (else the local operator)."""
    from assay.assess.worksheet import organization_of

    with work_on(
        lambda session: organization_of(session, assessment_id=assessment_id), as_email
    ) as w:
        yield w


# --- assessments ---------------------------------------------------------------------------


def _assessment_row(session: Session, assessment: Assessment) -> dict[str, Any]:
    from assay.assess.models import Answer
    from assay.catalog.models import Baseline, Framework
    from assay.tenancy.models import Organization

    framework = session.get(Framework, assessment.framework_id)
    org = session.get(Organization, assessment.organization_id)
    baseline = session.get(Baseline, assessment.baseline_id) if assessment.baseline_id else None
    answered = session.scalar(
        select(func.count(Answer.id)).where(Answer.assessment_id == assessment.id)
    )
    return {
        "id": assessment.id,
        "name": assessment.name,
        "organization": org.slug if org else None,
        "framework": framework.key if framework else None,
        "baseline": baseline.key if baseline else None,
        "target_ig": assessment.target_ig,
        "state": str(assessment.state),
        "due_on": assessment.due_on.isoformat() if assessment.due_on else None,
        "previous": assessment.previous_id,
        "answered": answered,
        "created_at": assessment.created_at.isoformat(),
    }


@app.command()
def create(
    org: Annotated[str, typer.Option(help="Client organization slug.")],
    framework: Annotated[str, typer.Option(help="Framework id, e.g. cis-controls-v8.1.")],
    name: Annotated[str, typer.Option(help="Assessment name.")],
    ig: Annotated[
        int | None, typer.Option(min=1, max=3, help="CIS target implementation group.")
    ] = None,
    baseline: Annotated[str | None, typer.Option(help="Only controls of this baseline.")] = None,
    target_maturity: Annotated[
        int | None, typer.Option(min=0, max=5, help="Target maturity for every control.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Owner's email.")] = None,
    due: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="Due date, YYYY-MM-DD.")
    ] = None,
    scope: Annotated[str, typer.Option(help="What the assessment covers.")] = "",
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """Create an assessment of a client organization against a framework (starts as draft)."""
    from assay.assess.workflow import NewAssessment, create_assessment

    spec = NewAssessment(
        org_slug=org,
        framework=framework,
        name=name,
        scope=scope,
        owner_email=owner,
        due_on=_day(due),
        target_ig=ig,
        baseline=baseline,
        target_maturity=target_maturity,
    )
    with work(as_email, org) as w:
        row = _assessment_row(w.session, create_assessment(w.session, w.actor, spec))
    if json_:
        print_json(row)
        return
    stdout.print(
        f"created assessment {row['id']}: {row['name']} ({row['framework']}"
        f"{', ' + row['baseline'] if row['baseline'] else ''}) for {row['organization']}, "
        f"{row['state']}",
        markup=False,
    )


@app.command("list")
def list_(
    org: Annotated[str, typer.Option(help="Organization slug.")],
    json_: JsonOption = False,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_email: AsOption = None,
) -> None:
    """List an organization's assessments, newest first."""
    from assay.assess.workflow import list_assessments

    with work(as_email, org) as w:
        found, total = list_assessments(w.session, w.actor, org, limit=limit, offset=offset)
        rows = [_assessment_row(w.session, a) for a in found]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        f"Assessments of {org}",
        ["id", "name", "framework", "baseline", "state", "answered", "due"],
        [
            [
                r["id"],
                r["name"],
                r["framework"],
                r["baseline"],
                r["state"],
                r["answered"],
                r["due_on"],
            ]
            for r in rows
        ],
    )
    page_note(len(rows), total, offset)


def _evidence_cell(count: int, expired: int) -> str:
    return f"{count} ({expired} expired)" if expired else str(count)


def _questionnaire(sheet: Worksheet) -> dict[str, Any]:
    """The worksheet as JSON: the header, progress per group, and one entry per control shown."""
    a = sheet.assessment
    questions: list[dict[str, Any]] = []
    states: dict[str, int] = {}
    for item in sheet.items:
        answer = item.answer
        verdict = answer.verdict if answer is not None else None
        if answer is not None:
            states[answer.state] = states.get(answer.state, 0) + 1
        questions.append(
            {
                "control": item.label,
                "title": item.title,
                "group": item.group,
                "target": item.target,
                "status": answer.status if answer else None,
                "maturity": answer.maturity if answer else None,
                "state": answer.state if answer else None,
                "justification": answer.justification if answer else None,
                "notes": answer.notes if answer else None,
                "owner": answer.owner if answer else None,
                "implemented_by": answer.implemented_by if answer else None,
                "answered_by": answer.answered_by if answer else None,
                "verdict": None
                if verdict is None
                else {
                    "verdict": verdict.verdict,
                    "comment": verdict.comment,
                    "independence": verdict.independence,
                    "verifier": verdict.verifier,
                    "at": verdict.at.isoformat(),
                },
                "evidence": len(item.evidence),
                "expired_evidence": sum(1 for e in item.evidence if e.expired),
            }
        )
    return {
        "id": a.id,
        "name": a.name,
        "organization": sheet.organization.slug,
        "framework": sheet.framework.key,
        "baseline": sheet.baseline,
        "target_ig": a.target_ig,
        "state": str(a.state),
        "scope": a.scope,
        "owner": sheet.owner,
        "due_on": a.due_on.isoformat() if a.due_on else None,
        "previous": a.previous_id,
        "created_at": a.created_at.isoformat(),
        "closed_at": a.closed_at.isoformat() if a.closed_at else None,
        "next_states": list(sheet.transitions),
        "controls": sheet.assessed,
        "answered": sheet.answered,
        "verified": sheet.verified,
        "groups": [
            {
                "label": g.label,
                "title": g.title,
                "controls": g.assessed,
                "answered": g.answered,
                "verified": g.verified,
            }
            for g in sheet.groups
        ],
        "shown": len(questions),
        "states": states,
        "questions": questions,
    }


@app.command()
def show(
    assessment_id: IdArgument,
    group: Annotated[
        str | None, typer.Option(help="Only the controls under this one (a CSF function, ...).")
    ] = None,
    answer_state: Annotated[
        list[str] | None,
        typer.Option(
            "--state", help="Only answers in this state (claimed, verified, rejected); repeatable."
        ),
    ] = None,
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """Show an assessment as a questionnaire: every control with its answer, state and evidence
    (`--state claimed` is the auditor's review queue)."""
    from assay.assess.worksheet import worksheet

    with on_assessment(assessment_id, as_email) as w:
        payload = _questionnaire(
            worksheet(w.session, w.actor, assessment_id, group=group, states=answer_state)
        )
    if json_:
        print_json(payload)
        return
    baseline = f" {payload['baseline']}" if payload["baseline"] else ""
    stdout.print(
        f"Assessment {payload['id']}: {payload['name']}  ({payload['organization']}, "
        f"{payload['framework']}{baseline}, {payload['state']})",
        markup=False,
    )
    for key in ("scope", "owner", "due_on", "previous", "closed_at"):
        if payload[key]:
            stdout.print(f"  {key.replace('_', ' ')}: {payload[key]}", markup=False)
    states = ", ".join(f"{n} {s}" for s, n in sorted(payload["states"].items()))
    stdout.print(
        f"  answered {payload['answered']} of {payload['controls']}, "
        f"verified {payload['verified']}" + (f"; shown: {states}" if states else ""),
        markup=False,
    )
    print_table(
        "Questionnaire",
        ["control", "title", "status", "maturity", "target", "state", "evidence"],
        [
            [
                q["control"],
                q["title"],
                (q["status"] or "-").replace("_", " "),
                q["maturity"],
                q["target"],
                q["state"] or "unanswered",
                _evidence_cell(q["evidence"], q["expired_evidence"]),
            ]
            for q in payload["questions"]
        ],
    )


@app.command()
def state(
    assessment_id: IdArgument,
    to_state: Annotated[
        str, typer.Argument(metavar="STATE", help="draft, in_progress, in_review or closed.")
    ],
    as_email: RequiredAs,
) -> None:
    """Move an assessment to another state (closing locks it; reopening is in_progress)."""
    from assay.assess.workflow import change_state

    with on_assessment(assessment_id, as_email) as w:
        assessment = change_state(w.session, w.actor, assessment_id, to_state)
        now = str(assessment.state)
    stdout.print(f"assessment {assessment_id} is now {now}", markup=False)


@app.command()
def clone(
    assessment_id: IdArgument,
    as_email: RequiredAs,
    name: Annotated[str | None, typer.Option(help="Name of the new cycle.")] = None,
    json_: JsonOption = False,
) -> None:
    """Start the next cycle: answers carried over as claimed, needing verification again."""
    from assay.assess.workflow import clone_assessment

    with on_assessment(assessment_id, as_email) as w:
        row = _assessment_row(w.session, clone_assessment(w.session, w.actor, assessment_id, name))
    if json_:
        print_json(row)
        return
    stdout.print(
        f"created assessment {row['id']}: {row['name']} from {assessment_id} "
        f"({row['answered']} answers carried over as claimed)",
        markup=False,
    )


# --- answers, evidence, verification -------------------------------------------------------


@app.command()
def answer(
    assessment_id: IdArgument,
    control: ControlArgument,
    status: Annotated[
        str,
        typer.Option(
            help="not_implemented, partially, largely, fully or not_applicable (needs a "
            "justification)."
        ),
    ],
    as_email: RequiredAs,
    maturity: Annotated[int | None, typer.Option(min=0, max=5, help="Maturity 0-5.")] = None,
    justification: Annotated[str, typer.Option(help="Why (required for not_applicable).")] = "",
    notes: Annotated[str, typer.Option(help="Notes.")] = "",
    owner: Annotated[str | None, typer.Option(help="Owner's email.")] = None,
    implemented_by: Annotated[
        str | None, typer.Option(help="Email of who implemented the control.")
    ] = None,
) -> None:
    """Answer a control (the whole answer: fields left out are cleared). Changing a verified
    answer puts it back to claimed."""
    from assay.assess.answers import AnswerInput, answer_control

    data = AnswerInput(
        status=status,
        maturity=maturity,
        justification=justification,
        notes=notes,
        owner_email=owner,
        implemented_by_email=implemented_by,
    )
    with on_assessment(assessment_id, as_email) as w:
        saved = answer_control(w.session, w.actor, assessment_id, control, data)
        line = (
            f"{control.strip()}: {str(saved.status).replace('_', ' ')}"
            + (f", maturity {saved.maturity}" if saved.maturity is not None else "")
            + f" ({saved.state})"
        )
    stdout.print(line, markup=False)


@app.command()
def evidence(
    assessment_id: IdArgument,
    control: ControlArgument,
    as_email: RequiredAs,
    collected: Annotated[
        datetime,
        typer.Option(formats=DATE_FORMATS, help="When the evidence was collected, YYYY-MM-DD."),
    ],
    file: Annotated[
        Path | None, typer.Option(help="A file to upload (streamed, stored by SHA-256).")
    ] = None,
    url: Annotated[str | None, typer.Option(help="A link (http or https).")] = None,
    expires: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="Expiry date, YYYY-MM-DD.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title (default: file name or URL).")] = None,
    json_: JsonOption = False,
) -> None:
    """Attach evidence to a control's answer: a file (--file) or a link (--url)."""
    from assay.assess.answers import find_answer
    from assay.assess.evidence import EvidenceDates, add_file, add_link

    if (file is None) == (url is None):
        fail("give either --file or --url", 2)
    dates = EvidenceDates(collected_on=collected.date(), expires_on=_day(expires))
    if file is not None:
        if file.is_dir():
            fail(f"{file}: is a directory, not a file")
        try:
            stream = file.open("rb")
        except OSError as exc:
            fail(f"{file}: {exc.strerror or exc}")
        with stream, on_assessment(assessment_id, as_email) as w:
            target = find_answer(w.session, w.actor, assessment_id, control)
            added = add_file(
                w.session,
                w.actor,
                target.id,
                filename=file.name,
                stream=stream,
                dates=dates,
                title=title,
            )
            row = _evidence_row(added, control)
    else:
        assert url is not None
        with on_assessment(assessment_id, as_email) as w:
            target = find_answer(w.session, w.actor, assessment_id, control)
            added = add_link(w.session, w.actor, target.id, url=url, dates=dates, title=title)
            row = _evidence_row(added, control)
    if json_:
        print_json(row)
        return
    what = (
        f"file {row['name']} ({row['size']} bytes, {row['media_type']}, sha256 {row['sha256']})"
        if row["kind"] == "file"
        else f"link {row['url']}"
    )
    stdout.print(f"attached evidence {row['id']} to {row['control']}: {what}", markup=False)


def _evidence_row(evidence: Evidence, control: str) -> dict[str, Any]:
    return {
        "id": evidence.id,
        "control": control.strip(),
        "kind": str(evidence.kind),
        "title": evidence.title,
        "name": evidence.original_name,
        "size": evidence.size,
        "media_type": evidence.media_type,
        "sha256": evidence.sha256,
        "url": evidence.url,
        "collected_on": evidence.collected_on.isoformat(),
        "expires_on": evidence.expires_on.isoformat() if evidence.expires_on else None,
    }


CommentOption = Annotated[str, typer.Option(help="What was checked, or what is missing.")]


@app.command()
def verify(
    assessment_id: IdArgument,
    control: ControlArgument,
    as_email: RequiredAs,
    comment: CommentOption = "",
) -> None:
    """Verify a control's answer (auditors independent of the work only)."""
    from assay.assess.answers import find_answer, verify_answer

    with on_assessment(assessment_id, as_email) as w:
        target = find_answer(w.session, w.actor, assessment_id, control)
        verdict = verify_answer(w.session, w.actor, target.id, comment)
        independence = str(verdict.independence)
    stdout.print(f"{control.strip()}: verified ({independence})", markup=False)


@app.command()
def reject(
    assessment_id: IdArgument,
    control: ControlArgument,
    as_email: RequiredAs,
    comment: Annotated[str, typer.Option(help="What is missing (required).")],
) -> None:
    """Reject a control's answer, saying what is missing (auditors independent of the work)."""
    from assay.assess.answers import find_answer, reject_answer

    with on_assessment(assessment_id, as_email) as w:
        target = find_answer(w.session, w.actor, assessment_id, control)
        verdict = reject_answer(w.session, w.actor, target.id, comment)
        independence = str(verdict.independence)
    stdout.print(f"{control.strip()}: rejected ({independence})", markup=False)


# --- scores and trends ---------------------------------------------------------------------


@app.command()
def score(assessment_id: IdArgument, json_: JsonOption = False, as_email: AsOption = None) -> None:
    """Scores, claimed and verified, with coverage, the assurance gap and blind spots."""
    from assay.assess.scoring import score_assessment

    with on_assessment(assessment_id, as_email) as w:
        payload = score_assessment(w.session, w.actor, assessment_id).to_dict()
    if json_:
        print_json(payload)
        return
    _print_score(payload)


@app.command()
def compare(
    first: Annotated[int, typer.Argument(help="The earlier assessment id.", min=1)],
    second: Annotated[int, typer.Argument(help="The later assessment id.", min=1)],
    json_: JsonOption = False,
    as_email: AsOption = None,
) -> None:
    """Compare two assessments of one organization: improvements, regressions, verification."""
    from assay.assess.compare import compare_assessments

    with on_assessment(first, as_email) as w:
        payload = compare_assessments(w.session, w.actor, first, second).to_dict()
    if json_:
        print_json(payload)
        return
    _print_comparison(payload)


# --- spreadsheets --------------------------------------------------------------------------


@app.command()
def export(
    assessment_id: IdArgument,
    format_: Annotated[SheetFormat, typer.Option("--format", help="xlsx or csv.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.", dir_okay=False)],
    as_email: AsOption = None,
) -> None:
    """Export the answers to a spreadsheet that `assess import` reads back."""
    from assay.assess.spreadsheet import export_answers

    with on_assessment(assessment_id, as_email) as w:
        data = export_answers(w.session, w.actor, assessment_id, format_.value)
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"{output}: {exc.strerror or exc}")
    stdout.print(f"wrote {output} ({len(data)} bytes)", markup=False)


@app.command("import")
def import_(
    assessment_id: IdArgument,
    path: Annotated[Path, typer.Argument(help="XLSX or CSV file, as exported.")],
    as_email: RequiredAs,
) -> None:
    """Import answers from a spreadsheet: every row is validated and all of it lands or none."""
    from assay.assess.spreadsheet import MAX_INPUT_BYTES, import_answers
    from assay.db.engine import unit_of_work
    from assay.errors import InvalidInput

    data = _read(path, MAX_INPUT_BYTES)
    with errors_reported():
        try:
            with unit_of_work() as session:
                actor = _actor_for(session, as_email, assessment_id)
                report = import_answers(session, actor, assessment_id, data, path.name)
                summary = _import_summary(report)
        except InvalidInput as exc:
            for problem in getattr(exc, "problems", ()):
                stderr.print(f"{path}: {problem}", markup=False)
            raise
    stdout.print(summary, markup=False)


def _read(path: Path, limit: int) -> bytes:
    if path.is_dir():
        fail(f"{path}: is a directory, not a file")
    try:
        size = path.stat().st_size
        if size > limit:
            fail(f"{path}: file too large ({size // 2**20} MB, limit {limit // 2**20} MB)")
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


def _import_summary(report: ImportReport) -> str:
    return (
        f"{report.file}: {report.created} created, {report.changed} changed, "
        f"{report.unchanged} unchanged, {report.skipped} skipped ({report.format})"
    )


# --- rendering -----------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _pts(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _figures(label: str, title: str, figures: dict[str, Any]) -> list[str]:
    maturity = figures["maturity"]
    return [
        label,
        title,
        _pct(figures["claimed"]),
        _pct(figures["verified"]),
        _pts(figures["assurance_gap"]),
        _pct(figures["coverage"]),
        f"{figures['answered']}/{figures['assessed']}",
        str(figures["verified_count"]),
        f"{_num(maturity['claimed'])} / {_num(maturity['verified'])}"
        + (f" / {_num(maturity['target'])}" if maturity["target"] is not None else ""),
    ]


SCORE_COLUMNS = [
    "",
    "title",
    "claimed",
    "verified",
    "gap (pts)",
    "coverage",
    "answered",
    "verified #",
    "maturity claimed / verified / target",
]


def _print_score(payload: dict[str, Any]) -> None:
    head = payload["assessment"]
    baseline = f" {head['baseline']}" if head["baseline"] else ""
    stdout.print(
        f"Assessment {head['id']}: {head['name']}  ({head['framework']}{baseline}, "
        f"{head['state']}), as of {payload['as_of']}",
        markup=False,
    )
    rows = [_figures("total", head["framework_name"], payload["totals"])]
    levels: dict[str, list[dict[str, Any]]] = payload["levels"]
    if levels:
        top = next(iter(levels))
        rows += [_figures(g["label"], g["title"], g) for g in levels[top]]
    rows += [_figures(g["label"], g["title"], g) for g in payload["implementation_groups"]]
    print_table("Scores: claimed vs verified", SCORE_COLUMNS, rows)
    derived = payload.get("derived")
    if derived and derived["levels"]:
        top = next(iter(derived["levels"]))
        print_table(
            f"Derived {derived['framework_name']} coverage (through the crosswalk, not answers)",
            ["", "title", "claimed", "verified", "gap (pts)", "mapped", "answered"],
            [
                [
                    g["label"],
                    g["title"],
                    _pct(g["claimed"]),
                    _pct(g["verified"]),
                    _pts(g["assurance_gap"]),
                    g["mapped"],
                    g["answered"],
                ]
                for g in derived["levels"][top]
            ],
        )
    spots: list[dict[str, Any]] = payload["blind_spots"]
    reasons: dict[str, int] = {}
    for spot in spots:
        for reason in spot["reasons"]:
            reasons[reason] = reasons.get(reason, 0) + 1
    detail = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in reasons.items())
    stdout.print(
        f"blind spots: {len(spots)} controls" + (f" ({detail})" if detail else ""), markup=False
    )


def _side_text(side: dict[str, Any] | None) -> str:
    if side is None:
        return "not covered"
    if side["status"] is None:
        return "unanswered"
    maturity = f" m{side['maturity']}" if side["maturity"] is not None else ""
    return f"{side['status'].replace('_', ' ')}{maturity} ({side['state']})"


def _print_comparison(payload: dict[str, Any]) -> None:
    first, second, delta = payload["first"], payload["second"], payload["delta"]
    stdout.print(
        f"{payload['framework']}: assessment {first['id']} ({first['name']}, {first['state']}) "
        f"-> {second['id']} ({second['name']}, {second['state']})",
        markup=False,
    )
    print_table(
        "Totals",
        ["", str(first["id"]), str(second["id"]), "change"],
        [
            [
                key.replace("_", " "),
                (_pts if key == "assurance_gap" else _pct)(first["totals"][key]),
                (_pts if key == "assurance_gap" else _pct)(second["totals"][key]),
                _pts(delta[key]),
            ]
            for key in ("claimed", "verified", "coverage", "assurance_gap")
        ],
    )
    summary = ", ".join(f"{n} {d}" for d, n in payload["summary"].items() if n)
    stdout.print(f"controls: {summary or 'none'}", markup=False)
    if payload["state_changes"]:
        changes = ", ".join(
            f"{n} {k.replace('->', ' -> ')}" for k, n in sorted(payload["state_changes"].items())
        )
        stdout.print(f"verification: {changes}", markup=False)
    moved = [c for c in payload["controls"] if c["direction"] != "unchanged"]
    if moved:
        print_table(
            "Changes",
            ["control", "title", "change", "before", "after"],
            [
                [
                    c["label"],
                    c["title"],
                    c["direction"],
                    _side_text(c["first"]),
                    _side_text(c["second"]),
                ]
                for c in moved
            ],
        )
