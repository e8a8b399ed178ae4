"""Answers to and from spreadsheets: round trips, formula neutralization, hostile input, access.

Every refused import must name the file and the row, and leave answers, verifications and the
audit trail exactly as they were.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.assess import answers, spreadsheet, workflow
from assay.assess.models import Answer, AnswerState, Status, Verification
from assay.assess.spreadsheet import (
    ImportRejected,
    export_answers,
    import_answers,
    neutralize,
    unneutralize,
)
from assay.auditlog.models import AuditEvent
from assay.auditlog.service import verify_chain
from assay.auth.actor import Actor
from assay.catalog.models import Control
from assay.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from assay.tenancy.models import Role
from tests.assess.conftest import AssessWorld
from tests.factories import SYSTEM

EVIL = '=HYPERLINK("http://evil.example/x","click")'
HOSTILE_NOTES = [EVIL, "@SUM(A1)", "+1 555 0100", "-2+3", "'quoted already", "''two", "'=x"]
FORMATS = ["xlsx", "csv"]
OPERATOR = ("client-a", Role.IT_OPERATOR)
OWNER = "it-operator@client-a.test"


# -- helpers ---------------------------------------------------------------------------------


def operator(aw: AssessWorld) -> Actor:
    return aw.world.actor(*OPERATOR)


def give(session: Session, aw: AssessWorld, label: str, **fields: Any) -> Answer:
    return answers.answer_control(
        session, operator(aw), aw.assessment.id, label, answers.AnswerInput(**fields)
    )


def seed(session: Session, aw: AssessWorld) -> None:
    """Four answers: one verified, one with a hostile note, one not applicable, one plain."""
    verified = give(session, aw, "1.1", status="fully", maturity=3, owner_email=OWNER)
    give(session, aw, "1.2", status="partially", maturity=1, notes=EVIL)
    give(session, aw, "2.1", status="not_applicable", justification="-no software of our own")
    give(session, aw, "2.2", status="largely", maturity=2, implemented_by_email=OWNER)
    answers.verify_answer(session, aw.world.actor("sentinel", Role.AUDITOR), verified.id, "ok")
    session.commit()


def snapshot(session: Session) -> dict[str, Any]:
    """What a refused import must leave untouched."""
    session.expire_all()
    rows = session.execute(
        select(Answer.control_id, Answer.status, Answer.maturity, Answer.notes, Answer.state)
    ).all()
    return {
        "answers": sorted(tuple(map(str, r)) for r in rows),
        "events": session.scalar(select(func.count()).select_from(AuditEvent)),
        "verifications": session.scalar(
            select(func.count())
            .select_from(Verification)
            .where(Verification.invalidated_at.is_(None))
        ),
    }


def events_after(session: Session, last_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id))
    )


def last_event_id(session: Session) -> int:
    return session.scalar(select(func.max(AuditEvent.id))) or 0


def answer_of(session: Session, aw: AssessWorld, label: str) -> Answer | None:
    session.expire_all()
    return session.scalar(
        select(Answer)
        .join(Control, Control.id == Answer.control_id)
        .where(Answer.assessment_id == aw.assessment.id, Control.label == label)
    )


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def write_csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def table(data: bytes, fmt: str) -> list[list[Any]]:
    """The Answers sheet (or the CSV) as rows of values, header first."""
    if fmt == "csv":
        return read_csv(data)
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [list(r) for r in book["Answers"].iter_rows(values_only=True)]


def row_number(data: bytes, fmt: str, label: str) -> int:
    rows = table(data, fmt)
    return next(i for i, r in enumerate(rows, start=1) if r[0] == label)


Edits = dict[tuple[str, str], Any]


def edit(data: bytes, fmt: str, edits: Edits) -> bytes:
    """Change cells, addressed by (control label, column name), as a person would."""
    if fmt == "csv":
        rows = read_csv(data)
        header = rows[0]
        by_label = {r[0]: r for r in rows[1:]}
        for (label, column), value in edits.items():
            by_label[label][header.index(column)] = "" if value is None else str(value)
        return write_csv(rows)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["Answers"]
    header = [c.value for c in ws[1]]
    cells = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    for (label, column), value in edits.items():
        cells[label][header.index(column)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rejected(
    session: Session, aw: AssessWorld, data: bytes, name: str, actor: Actor | None = None
) -> ImportRejected:
    before = snapshot(session)
    with pytest.raises(ImportRejected) as caught:
        import_answers(session, actor or operator(aw), aw.assessment.id, data, name)
    session.rollback()
    assert snapshot(session) == before
    assert caught.value.message.startswith(f"{name}: ")
    assert isinstance(caught.value, InvalidInput)
    return caught.value


# -- export ----------------------------------------------------------------------------------


def test_xlsx_export_layout(session: Session, aw: AssessWorld) -> None:
    seed(session, aw)
    data = export_answers(session, operator(aw), aw.assessment.id, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Answers", "About"]
    ws = book["Answers"]
    header = [c.value for c in ws[1]]
    assert header == [
        "control",
        "title",
        "implementation_groups",
        "asset_type",
        "security_function",
        "status",
        "maturity",
        "justification",
        "notes",
        "owner",
        "implemented_by",
        "state",
        "evidence_count",
    ]
    assert ws.freeze_panes == "C2"
    rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 56  # CIS v8.1 IG1
    expected = list(
        session.scalars(
            select(Control.label)
            .where(
                Control.id.in_(workflow.assessed_controls(aw.assessment, _framework(session, aw)))
            )
            .order_by(Control.position)
        )
    )
    assert [r[0] for r in rows] == expected
    by_label = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    first = by_label["1.1"]
    assert first["implementation_groups"] == "1, 2, 3"
    assert first["asset_type"] == "Devices"
    assert first["security_function"] == "Identify"
    assert (first["status"], first["maturity"], first["owner"]) == ("fully", 3, OWNER)
    assert (first["state"], first["evidence_count"]) == ("verified", 0)
    assert by_label["2.2"]["implemented_by"] == OWNER
    assert by_label["3.1"]["status"] is None and by_label["3.1"]["evidence_count"] == 0
    # drop-downs: the five statuses, and maturity as a whole number 0-5
    validations = {str(dv.sqref)[0]: dv for dv in ws.data_validations.dataValidation}
    status_dv, maturity_dv = validations["F"], validations["G"]
    assert status_dv.type == "list"
    assert status_dv.formula1 == '"' + ",".join(s.value for s in Status) + '"'
    assert str(status_dv.sqref) == "F2:F57"
    assert (maturity_dv.type, maturity_dv.operator) == ("whole", "between")
    assert (maturity_dv.formula1, maturity_dv.formula2) == ("0", "5")
    # read-only columns are shaded grey, editable ones are not
    grey = {c.value for c in ws[1] if c.fill.fgColor.rgb.endswith("D9D9D9")}
    assert grey == {
        "title",
        "implementation_groups",
        "asset_type",
        "security_function",
        "state",
        "evidence_count",
    }
    assert ws["B2"].fill.fgColor.rgb.endswith("D9D9D9")
    assert ws["F2"].fill.fill_type is None
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r[0]}
    assert about["Assessment"] == "2026 CIS"
    assert about["Assessment id"] == str(aw.assessment.id)
    assert "cis-controls-v8.1" in about["Framework"]
    assert "ignored on import" in about["Read-only columns"]


def _framework(session: Session, aw: AssessWorld) -> Any:
    from assay.catalog.models import Framework

    return session.get(Framework, aw.assessment.framework_id)


def test_csv_export_is_utf8_with_bom(session: Session, aw: AssessWorld) -> None:
    seed(session, aw)
    data = export_answers(session, operator(aw), aw.assessment.id, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data)
    assert rows[0][:2] == ["control", "title"] and rows[0][-1] == "evidence_count"
    assert len(rows) == 57
    one = dict(zip(rows[0], next(r for r in rows if r[0] == "1.1"), strict=True))
    assert (one["status"], one["maturity"], one["state"], one["evidence_count"]) == (
        "fully",
        "3",
        "verified",
        "0",
    )


def test_unknown_export_format(session: Session, aw: AssessWorld) -> None:
    with pytest.raises(InvalidInput, match="use xlsx or csv"):
        export_answers(session, operator(aw), aw.assessment.id, "ods")


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_without_edits_changes_nothing(
    session: Session, aw: AssessWorld, fmt: str
) -> None:
    seed(session, aw)
    data = export_answers(session, operator(aw), aw.assessment.id, fmt)
    before = snapshot(session)
    last = last_event_id(session)
    report = import_answers(session, operator(aw), aw.assessment.id, data, f"answers.{fmt}")
    session.commit()
    assert (report.created, report.changed, report.unchanged, report.skipped) == (0, 0, 4, 52)
    assert report.format == fmt and report.controls == ()
    assert [e.action for e in events_after(session, last)] == ["answer.import"]
    after = snapshot(session)
    assert after["answers"] == before["answers"]
    answer = answer_of(session, aw, "1.1")
    assert answer is not None and answer.state is AnswerState.VERIFIED  # not re-opened
    assert verify_chain(session, SYSTEM).intact


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_applies_exactly_the_edited_rows(
    session: Session, aw: AssessWorld, fmt: str
) -> None:
    seed(session, aw)
    data = export_answers(session, operator(aw), aw.assessment.id, fmt)
    edited = edit(
        data,
        fmt,
        {
            ("1.1", "maturity"): 4,  # the verified answer: back to claimed
            ("1.2", "status"): "largely",
            ("3.1", "status"): "fully",  # unanswered until now
            ("3.1", "owner"): "Admin@Northwind.test",  # the MSP's people may own work
            ("3.1", "notes"): "@see the wiki",
            ("1.1", "title"): "someone edited a read-only column",  # ignored
            ("2.2", "state"): "verified",  # ignored: verification is not an import's business
        },
    )
    last = last_event_id(session)
    report = import_answers(session, operator(aw), aw.assessment.id, edited, f"edited.{fmt}")
    session.commit()
    assert (report.created, report.changed, report.unchanged, report.skipped) == (1, 2, 2, 51)
    assert report.controls == ("1.1", "1.2", "3.1")
    events = events_after(session, last)
    assert [(e.action, e.detail.get("control")) for e in events] == [
        ("answer.reopen", None),
        ("answer.set", "1.1"),
        ("answer.set", "1.2"),
        ("answer.set", "3.1"),
        ("answer.import", None),
    ]
    assert events[1].detail["changed"] == ["maturity"]
    assert events[-1].detail["file"] == f"edited.{fmt}"
    assert events[-1].detail["created"] == 1 and events[-1].detail["changed"] == 2
    assert all(e.actor_label == OWNER for e in events)
    assert verify_chain(session, SYSTEM).intact

    one = answer_of(session, aw, "1.1")
    assert one is not None and (one.maturity, one.state) == (4, AnswerState.CLAIMED)
    verdict = session.scalar(select(Verification).where(Verification.answer_id == one.id))
    assert verdict is not None and verdict.invalidated_reason == "answer changed: maturity"
    two = answer_of(session, aw, "1.2")
    assert two is not None and (two.status, two.notes) == (Status.LARGELY, EVIL)
    new = answer_of(session, aw, "3.1")
    assert new is not None and new.status is Status.FULLY and new.notes == "@see the wiki"
    assert new.owner_id == aw.world.user("northwind", Role.ADMIN).id
    assert new.contributor_ids == [aw.world.user(*OPERATOR).id]
    untouched = answer_of(session, aw, "2.2")
    assert untouched is not None and untouched.state is AnswerState.CLAIMED

    again = export_answers(session, operator(aw), aw.assessment.id, fmt)
    report = import_answers(session, operator(aw), aw.assessment.id, again, f"again.{fmt}")
    assert (report.created, report.changed, report.unchanged) == (0, 0, 5)


@pytest.mark.parametrize("fmt", FORMATS)
def test_blank_status_skips_a_row_and_keeps_its_answer(
    session: Session, aw: AssessWorld, fmt: str
) -> None:
    seed(session, aw)
    data = edit(
        export_answers(session, operator(aw), aw.assessment.id, fmt), fmt, {("1.2", "status"): None}
    )
    report = import_answers(session, operator(aw), aw.assessment.id, data, f"a.{fmt}")
    assert (report.unchanged, report.skipped) == (3, 53)
    answer = answer_of(session, aw, "1.2")
    assert answer is not None and answer.status is Status.PARTIALLY


def test_a_framework_without_cis_properties(session: Session, aw: AssessWorld) -> None:
    """CSF 2.0: no CIS columns; labels are matched whatever their case."""
    csf = workflow.create_assessment(
        session,
        aw.world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(org_slug="client-a", framework="nist-csf-2.0", name="CSF"),
    )
    session.commit()
    data = export_answers(session, operator(aw), csf.id, "csv")
    rows = read_csv(data)
    assert "implementation_groups" not in rows[0]
    assert rows[1][0] == "GV.OC-01"
    status = rows[0].index("status")
    rows[2][0] = rows[2][0].lower()  # gv.oc-02
    rows[2][status] = "partially"
    report = import_answers(session, operator(aw), csf.id, write_csv(rows), "csf.csv")
    assert report.controls == ("GV.OC-02",)


# -- neutralization --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "plain", "=1+1", "+1", "-1", "@x", "\tx", "\rx", "'", "''", "'=", "'a", "a=b", "=", "'\t"],
)
def test_neutralize_is_undone_exactly(text: str) -> None:
    shown = neutralize(text)
    assert not shown.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unneutralize(shown) == text


@pytest.mark.parametrize("fmt", FORMATS)
def test_formula_like_text_is_neutralized_and_round_trips(
    session: Session, aw: AssessWorld, fmt: str
) -> None:
    labels = ["3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3"]
    for label, note in zip(labels, HOSTILE_NOTES, strict=True):
        give(session, aw, label, status="partially", notes=note, justification=note)
    session.commit()
    data = export_answers(session, operator(aw), aw.assessment.id, fmt)
    rows = table(data, fmt)
    header = rows[0]
    for label, note in zip(labels, HOSTILE_NOTES, strict=True):
        row = dict(zip(header, next(r for r in rows if r[0] == label), strict=True))
        for column in ("notes", "justification"):
            assert row[column] == "'" + note if note[0] in "=+-@'" else note
    if fmt == "xlsx":  # no cell of the workbook is a formula
        book = openpyxl.load_workbook(io.BytesIO(data))
        cells = [c for ws in book.worksheets for r in ws.iter_rows() for c in r]
        assert all(c.data_type != "f" for c in cells)
        assert not any(isinstance(c.value, str) and c.value.startswith("=") for c in cells)
    else:
        assert b'"=HYPERLINK' not in data and b",=" not in data
    report = import_answers(session, operator(aw), aw.assessment.id, data, f"x.{fmt}")
    assert (report.changed, report.unchanged) == (0, 7)
    for label, note in zip(labels, HOSTILE_NOTES, strict=True):
        answer = answer_of(session, aw, label)
        assert answer is not None and answer.notes == note and answer.justification == note


def test_titles_and_names_are_neutralized_too(session: Session, aw: AssessWorld) -> None:
    control = session.scalar(select(Control).where(Control.label == "1.1"))
    assert control is not None
    control.title = "=cmd|' /C calc'!A0"
    aw.assessment.name = "@2026 CIS"
    session.flush()
    for fmt in FORMATS:
        rows = table(export_answers(session, operator(aw), aw.assessment.id, fmt), fmt)
        assert next(r for r in rows if r[0] == "1.1")[1] == "'=cmd|' /C calc'!A0"
    book = openpyxl.load_workbook(
        io.BytesIO(export_answers(session, operator(aw), aw.assessment.id, "xlsx"))
    )
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r[0]}
    assert about["Assessment"] == "'@2026 CIS"
    session.rollback()


# -- bad input -------------------------------------------------------------------------------


def _xlsx_bytes(build: Callable[[Any], None]) -> bytes:
    book = openpyxl.Workbook()
    build(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROW_CASES: list[tuple[str, str, Edits, str]] = [
    # (id, label whose row is edited, edits, expected problem)
    ("unknown-control", "3.1", {("3.1", "control"): "99.99"}, "unknown control '99.99'"),
    ("not-in-assessment", "3.1", {("3.1", "control"): "1.3"}, "1.3 is not part of this assessment"),
    ("unknown-status", "3.1", {("3.1", "status"): "done"}, "unknown status 'done'"),
    ("maturity-too-high", "3.1", {("3.1", "status"): "fully", ("3.1", "maturity"): 7}, "maturity"),
    (
        "maturity-fraction",
        "3.1",
        {("3.1", "status"): "fully", ("3.1", "maturity"): 2.5},
        "not '2.5'",
    ),
    (
        "maturity-word",
        "3.1",
        {("3.1", "status"): "fully", ("3.1", "maturity"): "high"},
        "not 'high'",
    ),
    (
        "na-without-justification",
        "3.1",
        {("3.1", "status"): "not_applicable"},
        "not_applicable needs a justification",
    ),
    (
        "unknown-owner",
        "3.1",
        {("3.1", "status"): "fully", ("3.1", "owner"): "nobody@example.org"},
        "owner: no user 'nobody@example.org'",
    ),
    (
        "foreign-implementer",
        "3.1",
        {("3.1", "status"): "fully", ("3.1", "implemented_by"): "admin@client-b.test"},
        "admin@client-b.test is not a member of 'client-a'",
    ),
    (
        "oversized-notes",
        "3.1",
        {("3.1", "status"): "fully", ("3.1", "notes"): "x" * 10_001},
        "notes has 10001 characters",
    ),
    ("duplicate-control", "3.2", {("3.2", "control"): "1.1"}, "control 1.1 appears again"),
    ("formula", "3.1", {("3.1", "notes"): "=1+1"}, "formula"),
    (
        "missing-control",
        "3.1",
        {("3.1", "control"): None, ("3.1", "status"): "fully"},
        "no control id",
    ),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("label", "edits", "expected"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES]
)
def test_bad_rows_reject_the_whole_file(
    session: Session, aw: AssessWorld, fmt: str, label: str, edits: Edits, expected: str
) -> None:
    seed(session, aw)
    data = export_answers(session, operator(aw), aw.assessment.id, fmt)
    number = row_number(data, fmt, label)
    # a valid change in another row must not land either
    bad = edit(data, fmt, {**edits, ("2.2", "maturity"): 5, ("4.1", "status"): "fully"})
    error = rejected(session, aw, bad, f"bad.{fmt}")
    assert f"row {number}:" in error.message
    assert expected in error.message
    assert error.problems[0] == error.message.removeprefix(f"bad.{fmt}: ").split(" (and ")[0]
    answer = answer_of(session, aw, "2.2")
    assert answer is not None and answer.maturity == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_problem_is_listed_with_its_row(session: Session, aw: AssessWorld, fmt: str) -> None:
    data = export_answers(session, operator(aw), aw.assessment.id, fmt)
    rows = {label: row_number(data, fmt, label) for label in ("1.1", "3.1", "4.1")}
    bad = edit(
        data,
        fmt,
        {
            ("4.1", "status"): "sometimes",
            ("1.1", "status"): "fully",
            ("1.1", "maturity"): 9,
            ("1.1", "owner"): "ghost@example.org",
            ("3.1", "control"): "77",
        },
    )
    error = rejected(session, aw, bad, "many.problems")
    assert error.problems == [
        f"row {rows['1.1']}: maturity must be a whole number from 0 to 5, not '9'",
        f"row {rows['1.1']}: owner: no user 'ghost@example.org'",
        f"row {rows['3.1']}: unknown control '77' (not in cis-controls-v8.1)",
        f"row {rows['4.1']}: unknown status 'sometimes' (use not_implemented, partially, "
        "largely, fully, not_applicable)",
    ]
    assert error.message == f"many.problems: {error.problems[0]} (and 3 more problems)"


def test_csv_text_that_starts_with_a_quote_protected_formula_is_text(
    session: Session, aw: AssessWorld
) -> None:
    rows = read_csv(export_answers(session, operator(aw), aw.assessment.id, "csv"))
    header = rows[0]
    row = next(r for r in rows if r[0] == "3.1")
    row[header.index("status")] = "fully"
    row[header.index("notes")] = "'=SUM(A1:A3)"
    import_answers(session, operator(aw), aw.assessment.id, write_csv(rows), "ok.csv")
    answer = answer_of(session, aw, "3.1")
    assert answer is not None and answer.notes == "=SUM(A1:A3)"


def test_xlsx_formula_anywhere_in_a_known_column_is_refused(
    session: Session, aw: AssessWorld
) -> None:
    data = export_answers(session, operator(aw), aw.assessment.id, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["Answers"]
    ws["F3"] = '=IF(1,"fully","")'  # status of row 3
    ws["B5"] = '=HYPERLINK("http://evil")'  # a read-only column
    ws["G7"] = "#N/A"  # an error value
    ws["A9"] = 3.1  # a control id typed as a number
    out = io.BytesIO()
    book.save(out)
    error = rejected(session, aw, out.getvalue(), "formulas.xlsx")
    assert error.problems == [
        "row 3: status: holds a formula; formulas are not accepted",
        "row 5: title: holds a formula; formulas are not accepted",
        "row 7: maturity: holds the spreadsheet error #N/A",
        "row 9: control: 3.1 is a number, not text; format the cell as text "
        "(3.1 and 3.10 are different safeguards)",
    ]


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (51 * 1024 * 1024))
    return out.getvalue()


def _missing_column(fmt: str) -> Callable[[bytes], bytes]:
    def build(data: bytes) -> bytes:
        rows = table(data, fmt)
        drop = rows[0].index("maturity")
        rows = [r[:drop] + r[drop + 1 :] for r in rows]
        if fmt == "csv":
            return write_csv(rows)
        return _xlsx_bytes(lambda book: [book.active.append(r) for r in rows])

    return build


def _duplicate_column(data: bytes) -> bytes:
    rows = read_csv(data)
    return write_csv([[*r, r[5]] for r in rows])


def _latin1(data: bytes) -> bytes:
    rows = read_csv(data)
    rows[3][8] = "Mitarbeiterschulung für Zugänge"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("latin-1")


FILE_CASES: list[tuple[str, str, Callable[[bytes], bytes], str]] = [
    # (id, file name, export -> hostile bytes, expected problem); the export is CSV unless the
    # name ends in .xlsx
    ("empty", "empty.csv", lambda _: b"", "file is empty"),
    ("blank", "blank.csv", lambda _: b" \r\n\r\n", "file is empty"),
    ("too-large", "huge.csv", lambda d: d + b"x" * (20 * 1024 * 1024), "file too large"),
    ("utf16", "wide.csv", lambda d: d.decode("utf-8-sig").encode("utf-16"), "encoded as UTF-16"),
    ("latin1", "latin.csv", _latin1, "line 4: not UTF-8 text (byte 0xfc)"),
    ("header-only", "header.csv", lambda d: d.split(b"\r\n")[0] + b"\r\n", "no rows below"),
    ("no-header", "nohead.csv", lambda d: b",,,\r\n1.1,x\r\n", "row 1: no header"),
    ("missing-column", "cols.csv", _missing_column("csv"), "lacks the column maturity"),
    ("missing-xlsx-column", "cols.xlsx", _missing_column("xlsx"), "lacks the column maturity"),
    ("duplicate-column", "dup.csv", _duplicate_column, "column 'status' appears twice"),
    (
        "garbage-xlsx",
        "garbage.xlsx",
        lambda _: b"this is not a workbook at all",
        "not a valid XLSX",
    ),
    ("garbage-zip", "garbage.xlsx", lambda d: b"PK\x03\x04" + d[4:200], "damaged zip archive"),
    ("truncated-xlsx", "cut.xlsx", lambda d: d[: len(d) // 2], "not a valid XLSX workbook"),
    (
        "zip-not-xlsx",
        "other.xlsx",
        lambda _: _zip_of({"hello.txt": b"hi"}),
        "not a readable XLSX workbook",
    ),
    ("zip-bomb", "bomb.xlsx", lambda _: _zip_bomb(), "workbook expands to 51.0 MB, limit 50.0 MB"),
    ("lying-zip-sizes", "liar.xlsx", lambda d: _understate_sizes(d), "not a readable XLSX"),
    ("legacy-xls", "old.xls", lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xls"),
    (
        "malformed-csv",
        "quote.csv",
        lambda d: d.replace(b"\r\n", b'\r\n"1.1"x,\r\n', 1),
        "row 2: malformed CSV",
    ),
]


def _understate_sizes(data: bytes) -> bytes:
    """A workbook whose central directory claims every part is one byte long: zipfile stops
    at the stated size (then fails its CRC), so the stated sizes bound what is inflated."""
    patched = bytearray(data)
    at = patched.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<I", patched, at + 24, 1)
        at = patched.find(b"PK\x01\x02", at + 4)
    return bytes(patched)


def _zip_of(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "build", "expected"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_hostile_files_are_refused_whole(
    session: Session, aw: AssessWorld, name: str, build: Callable[[bytes], bytes], expected: str
) -> None:
    seed(session, aw)
    fmt = "xlsx" if name.endswith(".xlsx") else "csv"
    data = build(export_answers(session, operator(aw), aw.assessment.id, fmt))
    error = rejected(session, aw, data, name)
    assert expected in error.message, error.message
    assert len(error.problems) == 1


def test_a_failure_half_way_leaves_nothing_behind(
    session: Session, aw: AssessWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last guard: should a row fail while being applied (after every check passed), the
    rows applied before it are undone too, even before the caller rolls back."""
    seed(session, aw)
    data = edit(
        export_answers(session, operator(aw), aw.assessment.id, "csv"),
        "csv",
        {("1.2", "maturity"): 2, ("3.1", "status"): "fully"},
    )
    calls: list[str] = []

    def flaky(session: Session, actor: Actor, assessment_id: int, label: str, data: Any) -> Any:
        calls.append(label)
        if label == "3.1":
            raise InvalidInput("the database said no")
        return answers.answer_control(session, actor, assessment_id, label, data)

    monkeypatch.setattr(spreadsheet, "answer_control", flaky)
    before = snapshot(session)
    with pytest.raises(ImportRejected) as caught:
        import_answers(session, operator(aw), aw.assessment.id, data, "flaky.csv")
    assert caught.value.message == (
        f"flaky.csv: row {row_number(data, 'csv', '3.1')}: the database said no"
    )
    assert "1.2" in calls
    assert snapshot(session) == before  # no rollback by the caller yet


def test_too_many_rows(session: Session, aw: AssessWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 10)
    data = export_answers(session, operator(aw), aw.assessment.id, "csv")
    error = rejected(session, aw, data, "long.csv")
    assert "more than 10 rows" in error.message


def test_hostile_file_names_are_shown_safely(session: Session, aw: AssessWorld) -> None:
    with pytest.raises(ImportRejected) as caught:
        import_answers(session, operator(aw), aw.assessment.id, b"", "../../etc/\x1b[31mpw.csv")
    assert caught.value.message == "?[31mpw.csv: file is empty"


def test_extra_sheets_and_columns_are_ignored(session: Session, aw: AssessWorld) -> None:
    seed(session, aw)
    data = edit(
        export_answers(session, operator(aw), aw.assessment.id, "xlsx"),
        "xlsx",
        {("3.1", "status"): "fully"},
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    scratch = book.create_sheet("Scratch", 0)  # first, before Answers
    scratch["A1"] = "=SUM(1,2)"
    ws = book["Answers"]
    ws.cell(row=1, column=20, value="my remarks")
    ws.cell(row=2, column=20, value="=NOW()")  # a formula in a column Assay does not read
    out = io.BytesIO()
    book.save(out)
    report = import_answers(session, operator(aw), aw.assessment.id, out.getvalue(), "x.xlsx")
    assert (report.created, report.changed) == (1, 0)


def test_a_renamed_answers_sheet_and_semicolon_csv_are_read(
    session: Session, aw: AssessWorld
) -> None:
    data = edit(
        export_answers(session, operator(aw), aw.assessment.id, "xlsx"),
        "xlsx",
        {("3.1", "status"): "Fully"},
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    book["Answers"].title = "Antworten"
    out = io.BytesIO()
    book.save(out)
    assert (
        import_answers(session, operator(aw), aw.assessment.id, out.getvalue(), "a.xlsx").created
        == 1
    )
    rows = read_csv(export_answers(session, operator(aw), aw.assessment.id, "csv"))
    header = rows[0]
    next(r for r in rows if r[0] == "3.2")[header.index("status")] = "partially"
    semicolons = write_csv(rows, delimiter=";")
    report = import_answers(session, operator(aw), aw.assessment.id, semicolons, "de.csv")
    assert (report.created, report.unchanged) == (1, 1)


# -- access ----------------------------------------------------------------------------------

READERS = [
    ("client-a", Role.ADMIN),
    ("client-a", Role.IT_OPERATOR),
    ("client-a", Role.AUDITOR),
    ("client-a", Role.EXECUTIVE),
    ("northwind", Role.ADMIN),
    ("northwind", Role.IT_OPERATOR),
    ("northwind", Role.AUDITOR),  # the MSP's own auditors see its clients' assessments
    ("sentinel", Role.AUDITOR),
]
WRITERS = [
    ("client-a", Role.ADMIN),
    ("client-a", Role.IT_OPERATOR),
    ("northwind", Role.ADMIN),
    ("northwind", Role.IT_OPERATOR),
]
REFUSED = [
    ("client-a", Role.AUDITOR),
    ("client-a", Role.EXECUTIVE),
    ("sentinel", Role.AUDITOR),
    ("northwind", Role.AUDITOR),
    ("northwind", Role.EXECUTIVE),
]
INVISIBLE = [(slug, role) for slug in ("client-b", "watchtower", "otherco") for role in Role]


def _who(value: Any) -> str:
    return f"{value[0]}-{value[1].value}" if isinstance(value, tuple) else str(value)


@pytest.mark.parametrize("who", READERS, ids=_who)
def test_who_may_export(session: Session, aw: AssessWorld, who: tuple[str, Role]) -> None:
    data = export_answers(session, aw.world.actor(*who), aw.assessment.id, "xlsx")
    assert data.startswith(b"PK")


@pytest.mark.parametrize("who", [*INVISIBLE, ("northwind", Role.EXECUTIVE)], ids=_who)
def test_others_cannot_export(session: Session, aw: AssessWorld, who: tuple[str, Role]) -> None:
    error = NotFound if who in INVISIBLE else PermissionDenied
    with pytest.raises(error):
        export_answers(session, aw.world.actor(*who), aw.assessment.id, "csv")


@pytest.mark.parametrize("who", WRITERS, ids=_who)
def test_who_may_import(session: Session, aw: AssessWorld, who: tuple[str, Role]) -> None:
    data = edit(
        export_answers(session, operator(aw), aw.assessment.id, "csv"),
        "csv",
        {("3.1", "status"): "fully"},
    )
    report = import_answers(session, aw.world.actor(*who), aw.assessment.id, data, "a.csv")
    assert report.created == 1


@pytest.mark.parametrize("who", REFUSED + INVISIBLE, ids=_who)
def test_others_cannot_import(session: Session, aw: AssessWorld, who: tuple[str, Role]) -> None:
    data = edit(
        export_answers(session, operator(aw), aw.assessment.id, "csv"),
        "csv",
        {("3.1", "status"): "fully"},
    )
    before = snapshot(session)
    error = NotFound if who in INVISIBLE else PermissionDenied
    with pytest.raises(error):
        import_answers(session, aw.world.actor(*who), aw.assessment.id, data, "a.csv")
    assert snapshot(session) == before


def test_unknown_assessment_is_not_found(session: Session, aw: AssessWorld) -> None:
    with pytest.raises(NotFound):
        import_answers(session, operator(aw), aw.assessment.id + 999, b"x", "a.csv")
    with pytest.raises(NotFound):
        export_answers(session, operator(aw), aw.assessment.id + 999, "csv")


def test_a_closed_assessment_takes_no_import(session: Session, aw: AssessWorld) -> None:
    data = edit(
        export_answers(session, operator(aw), aw.assessment.id, "csv"),
        "csv",
        {("3.1", "status"): "fully"},
    )
    admin = aw.world.actor("northwind", Role.ADMIN)
    for state in ("in_progress", "in_review", "closed"):
        workflow.change_state(session, admin, aw.assessment.id, state)
    session.commit()
    before = snapshot(session)
    with pytest.raises(Conflict, match="closed"):
        import_answers(session, operator(aw), aw.assessment.id, data, "a.csv")
    assert snapshot(session) == before
    assert export_answers(session, operator(aw), aw.assessment.id, "csv")  # still readable
