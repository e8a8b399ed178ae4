"""Answers to and from spreadsheets (XLSX and CSV), so that people can answer in a spreadsheet.

Export: one row per assessed control in framework order, with the editable columns (`status`,
`maturity`, `justification`, `notes`, `owner`, `implemented_by`) and read-only ones for
reference (`title`, the CIS properties, `state`, `evidence_count`), which an import ignores.
The XLSX has a header row, frozen panes, drop-downs on status and maturity, read-only columns
shaded grey, and an "About" sheet. The CSV is UTF-8 with a BOM, for Excel.

Every exported text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return (or a
single quote, so that the rule can be undone exactly) is prefixed with a single quote, so that
spreadsheet software never evaluates it as a formula. An import removes that quote again.

Import: the file (XLSX told by its zip signature, else CSV) is read and EVERY row checked
before anything is written; any problem rejects the whole file with `ImportRejected`
(an `InvalidInput` naming the file and the first problem and carrying them all, each with its
row). Otherwise each row goes through `answers.answer_control`, exactly as an answer given in
the UI (audit events, re-opening verified answers), in the caller's transaction, inside a
savepoint; one `answer.import` audit event sums the import up. A blank status skips the row;
a row equal to the current answer changes nothing. Columns Assay does not know, and sheets
other than "Answers", are ignored. Refused: formula cells (XLSX) and CSV cells starting with
`=`, files over `MAX_INPUT_BYTES`, workbooks whose parts expand beyond
`MAX_UNCOMPRESSED_BYTES`, CSV not in UTF-8, more than `MAX_ROWS` rows.

XLSX cannot hold the control characters U+0000-U+001F other than tab, LF and CR; an export
drops them from text (the CSV keeps them).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, NoReturn

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from assay.accounts.models import User
from assay.assess.access import load_assessment, require_open
from assay.assess.answers import (
    ANSWER_FIELDS,
    MAX_TEXT_CHARS,
    AnswerInput,
    answer_control,
    parse_status,
)
from assay.assess.models import Answer, AnswerEvidence, Assessment, Status
from assay.assess.workflow import assessed_controls
from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.catalog.models import Baseline, Control, Framework
from assay.catalog.oscal.inputs import human_size, wide_encoding
from assay.db.base import utcnow
from assay.errors import InvalidInput, NotFound
from assay.tenancy.models import Membership, Organization

MAX_INPUT_BYTES = 20 * 1024 * 1024
"""Largest file an import reads."""
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
"""Largest total a workbook's parts may expand to (checked before openpyxl opens it)."""
MAX_ROWS = 10_000
"""Most data rows (not counting blank ones) an import accepts."""
MAX_COLUMNS = 64
"""Columns read from each row; the known columns must be among the first ones."""
MAX_EMAIL_CHARS = 254

SHEET = "Answers"
ABOUT_SHEET = "About"
FORMATS = ("xlsx", "csv")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or an encrypted workbook
_ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_READ_ONLY_FILL = "D9D9D9"
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Column:
    key: str
    editable: bool
    width: int
    cis: bool = False  # only present when the framework's controls carry CIS properties


COLUMNS: tuple[Column, ...] = (
    Column("control", False, 12),
    Column("title", False, 48),
    Column("implementation_groups", False, 12, cis=True),
    Column("asset_type", False, 14, cis=True),
    Column("security_function", False, 14, cis=True),
    Column("status", True, 18),
    Column("maturity", True, 10),
    Column("justification", True, 40),
    Column("notes", True, 40),
    Column("owner", True, 28),
    Column("implemented_by", True, 28),
    Column("state", False, 10),
    Column("evidence_count", False, 10),
)
_COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED_ON_IMPORT = ("control", *(c.key for c in COLUMNS if c.editable))
READ_ONLY = tuple(c.key for c in COLUMNS if not c.editable and c.key != "control")
_CIS_PROPERTIES = {
    "implementation_groups": "implementation-groups",
    "asset_type": "asset-type",
    "security_function": "security-function",
}


# -- neutralizing formulas -------------------------------------------------------------------


def neutralize(text: str) -> str:
    """`text` as a spreadsheet shows it literally: a leading quote before = + - @ tab CR (and
    before a quote, so that `unneutralize` restores every string exactly)."""
    if text and (text[0] in FORMULA_TRIGGERS or text[0] == QUOTE):
        return QUOTE + text
    return text


def unneutralize(text: str) -> str:
    """The inverse of `neutralize`: drop one leading quote that protects a trigger or a quote."""
    if len(text) >= 2 and text[0] == QUOTE and (text[1] in FORMULA_TRIGGERS or text[1] == QUOTE):
        return text[1:]
    return text


# -- errors and reports ----------------------------------------------------------------------


class ImportRejected(InvalidInput):
    """An import refused as a whole. `message` names the file and the first problem;
    `problems` lists every problem found, each starting with its row where it has one."""

    def __init__(self, file: str, problems: Sequence[str]) -> None:
        first = problems[0] if problems else "cannot be imported"
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(f"{file}: {first}{suffix}")
        self.file = file
        self.problems = list(problems)


def _reject(file: str, *problems: str) -> NoReturn:
    raise ImportRejected(file, problems)


@dataclass(frozen=True)
class ImportReport:
    """What an import did. `controls` are the labels of the answers created or changed."""

    file: str
    format: str
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    controls: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return self.created + self.changed + self.unchanged + self.skipped


# -- export ----------------------------------------------------------------------------------


@dataclass
class _Export:
    columns: list[Column]
    rows: list[list[str | int | None]]
    about: list[tuple[str, str]]


def export_answers(session: Session, actor: Actor, assessment_id: int, fmt: str) -> bytes:
    """The assessment's answers as an XLSX workbook or a CSV file (`fmt`: xlsx or csv)."""
    kind = fmt.strip().lower()
    if kind not in FORMATS:
        raise InvalidInput(f"unknown export format '{fmt[:20]}' (use xlsx or csv)")
    assessment, _ = load_assessment(session, actor, assessment_id, "assessment.view")
    sheet = _collect(session, actor, assessment)
    return _to_xlsx(sheet) if kind == "xlsx" else _to_csv(sheet)


def _property(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _collect(session: Session, actor: Actor, assessment: Assessment) -> _Export:
    framework = session.get(Framework, assessment.framework_id)
    org = session.get(Organization, assessment.organization_id)
    assert framework is not None and org is not None
    owner, implementer = aliased(User), aliased(User)
    query = (
        select(
            Control.label,
            Control.title,
            Control.official_title,
            Control.properties,
            Answer.id,
            Answer.status,
            Answer.maturity,
            Answer.justification,
            Answer.notes,
            owner.email.label("owner_email"),
            implementer.email.label("implementer_email"),
            Answer.state,
        )
        .outerjoin(
            Answer, and_(Answer.control_id == Control.id, Answer.assessment_id == assessment.id)
        )
        .outerjoin(owner, owner.id == Answer.owner_id)
        .outerjoin(implementer, implementer.id == Answer.implemented_by_id)
        .where(Control.id.in_(assessed_controls(assessment, framework)))
        .order_by(Control.position, Control.id)
    )
    records = session.execute(query).all()
    evidence = dict(
        session.execute(
            select(AnswerEvidence.answer_id, func.count())
            .join(Answer, Answer.id == AnswerEvidence.answer_id)
            .where(Answer.assessment_id == assessment.id)
            .group_by(AnswerEvidence.answer_id)
        ).all()
    )
    cis = any(key in (r.properties or {}) for r in records for key in _CIS_PROPERTIES.values())
    columns = [c for c in COLUMNS if cis or not c.cis]
    rows: list[list[str | int | None]] = []
    for r in records:
        props = r.properties or {}
        values: dict[str, str | int | None] = {
            "control": r.label,
            "title": r.official_title or r.title,
            "status": str(r.status) if r.status is not None else "",
            "maturity": r.maturity,
            "justification": r.justification or "",
            "notes": r.notes or "",
            "owner": r.owner_email or "",
            "implemented_by": r.implementer_email or "",
            "state": str(r.state) if r.state is not None else "",
            "evidence_count": evidence.get(r.id, 0) if r.id is not None else 0,
        }
        for key, prop in _CIS_PROPERTIES.items():
            values[key] = _property(props.get(prop))
        rows.append([values[c.key] for c in columns])
    baseline = (
        session.scalar(select(Baseline.key).where(Baseline.id == assessment.baseline_id))
        if assessment.baseline_id is not None
        else None
    )
    editable = ", ".join(c.key for c in columns if c.editable)
    read_only = ", ".join(c.key for c in columns if not c.editable and c.key != "control")
    about = [
        ("Assay answers export", ""),
        ("Assessment", assessment.name),
        ("Assessment id", str(assessment.id)),
        ("Organization", org.slug),
        ("Framework", f"{framework.name} {framework.version} ({framework.key})"),
        ("Baseline", baseline or "none (every assessable control)"),
        ("Assessment state", str(assessment.state)),
        ("Controls", str(len(rows))),
        ("Exported at", utcnow().isoformat(timespec="seconds")),
        ("Exported by", actor.label),
        ("", ""),
        ("Editable columns", editable),
        (
            "Read-only columns",
            f"{read_only}: shaded grey, for reference only; ignored on import",
        ),
        ("status", ", ".join(s.value for s in Status) + "; blank = not answered (row skipped)"),
        ("maturity", "a whole number from 0 to 5 (see docs/scoring.md), or blank"),
        ("not_applicable", "needs a justification"),
        ("owner, implemented_by", "e-mail of a member of the client or of its MSP, or blank"),
        (
            "Text starting with = + - @",
            "is prefixed with a single quote so it is shown as text; import removes the quote",
        ),
        ("Formulas", "are refused on import; every row is checked before anything is saved"),
    ]
    return _Export(columns, rows, about)


def _cell_text(value: str) -> str:
    """Text for an XLSX cell: without the control characters XML cannot hold, neutralized."""
    return neutralize(_ILLEGAL_XML_CHARS.sub("", value))


def _put(ws: Any, row: int, column: int, value: str | int | None) -> Any:
    """Write one cell; text always as text, never as a formula or an error value."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = _cell_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def _to_xlsx(sheet: _Export) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    ws = book.active
    ws.title = SHEET
    grey = PatternFill("solid", fgColor=_READ_ONLY_FILL)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    letters: dict[str, str] = {}
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        letters[column.key] = letter
        cell = _put(ws, 1, index, column.key)
        cell.font = bold
        if not column.editable and column.key != "control":
            cell.fill = grey
            cell.comment = Comment("Read-only: ignored on import", "Assay")
        ws.column_dimensions[letter].width = column.width
    for row_index, row in enumerate(sheet.rows, start=2):
        for index, (column, value) in enumerate(zip(sheet.columns, row, strict=True), start=1):
            cell = _put(ws, row_index, index, value)
            if not column.editable and column.key != "control":
                cell.fill = grey
            if column.key in ("title", "justification", "notes"):
                cell.alignment = wrap
    last = max(len(sheet.rows) + 1, 2)
    status = DataValidation(
        type="list",
        formula1='"' + ",".join(s.value for s in Status) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Unknown status",
        error="Choose one of: " + ", ".join(s.value for s in Status),
    )
    maturity = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="5",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Maturity",
        error="A whole number from 0 to 5",
    )
    for validation, key in ((status, "status"), (maturity, "maturity")):
        ws.add_data_validation(validation)
        validation.add(f"{letters[key]}2:{letters[key]}{last}")
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{last}"

    about = book.create_sheet(ABOUT_SHEET)
    for row_index, (key, value) in enumerate(sheet.about, start=1):
        _put(about, row_index, 1, key or None)
        _put(about, row_index, 2, value or None)
    about["A1"].font = Font(bold=True, size=13)
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 90
    for cell in about["A"]:
        if cell.row > 1:
            cell.font = bold
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _to_csv(sheet: _Export) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.key for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow(
            ["" if v is None else neutralize(v) if isinstance(v, str) else v for v in row]
        )
    return out.getvalue().encode("utf-8-sig")


# -- import: reading -------------------------------------------------------------------------


@dataclass
class _Row:
    """The known columns of one non-blank row, as text; `broken` names cells already refused."""

    number: int
    values: dict[str, str]
    broken: set[str] = field(default_factory=set)


@dataclass
class _Table:
    format: str
    rows: list[_Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, row: _Row, file: str) -> None:
        if row.broken or any(v.strip() for v in row.values.values()):
            self.rows.append(row)
            if len(self.rows) > MAX_ROWS:
                _reject(file, f"more than {MAX_ROWS} rows; split the file")

    def refuse(self, row: _Row, key: str, message: str) -> None:
        row.broken.add(key)
        self.problems.append(f"row {row.number}: {key}: {message}")


def _display_name(name: str) -> str:
    base = re.split(r"[\\/]", name.strip())[-1]
    base = "".join(c if c.isprintable() else "?" for c in base)
    return base[:120] or "uploaded file"


def _header_key(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.strip().lower().replace("(read-only)", "").strip()
    return re.sub(r"[\s\-]+", "_", text)


def _columns(file: str, header: Sequence[Any], where: str) -> dict[str, int]:
    """Known column -> index in the row, refusing duplicates and missing editable columns."""
    found: dict[str, int] = {}
    for index, value in enumerate(header):
        key = _header_key(value)
        if key not in _COLUMN_BY_KEY:
            continue  # columns Assay does not know are ignored
        if key in found:
            _reject(file, f"{where}row 1: column '{key}' appears twice in the header")
        found[key] = index
    missing = [key for key in REQUIRED_ON_IMPORT if key not in found]
    if missing:
        _reject(
            file,
            f"{where}row 1: the header lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (it must name {', '.join(REQUIRED_ON_IMPORT)})",
        )
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _read_table(data: bytes, file: str) -> _Table:
    """The rows of an uploaded spreadsheet (XLSX by its zip signature, else CSV)."""
    if len(data) > MAX_INPUT_BYTES:
        _reject(
            file, f"file too large: {human_size(len(data))}, limit {human_size(MAX_INPUT_BYTES)}"
        )
    if not data.strip():
        _reject(file, "file is empty")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, file)
    if data.startswith(_OLE_MAGIC):
        _reject(
            file,
            "a legacy Excel 97-2003 (.xls) or encrypted workbook; save it as .xlsx without a "
            "password, or as CSV UTF-8",
        )
    if file.lower().endswith((".xlsx", ".xlsm")):
        _reject(file, "not a valid XLSX workbook (no zip signature)")
    return _read_csv(data, file)


def _read_xlsx(data: bytes, file: str) -> _Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        _reject(file, "not a valid XLSX workbook (damaged zip archive)")
    if total > MAX_UNCOMPRESSED_BYTES:
        _reject(
            file,
            f"workbook expands to {human_size(total)}, limit {human_size(MAX_UNCOMPRESSED_BYTES)}",
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on damaged or foreign files
        _reject(file, f"not a readable XLSX workbook ({type(exc).__name__})")
    try:
        sheets = book.worksheets
        if not sheets:
            _reject(file, "the workbook has no worksheet")
        return _xlsx_rows(book[SHEET] if SHEET in book.sheetnames else sheets[0], file)
    except ImportRejected:
        raise
    except Exception as exc:  # damage found while streaming the sheet
        _reject(file, f"not a readable XLSX workbook ({type(exc).__name__})")
    finally:
        book.close()


def _formula(cell: Any) -> bool:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    return bool(cell.data_type == "f" or isinstance(cell.value, ArrayFormula | DataTableFormula))


def _xlsx_rows(ws: Any, file: str) -> _Table:
    where = "" if ws.title == SHEET else f"sheet '{str(ws.title)[:40]}': "
    ws.reset_dimensions()  # a file's stated dimensions may be wrong, or hostile
    rows: Iterator[tuple[Any, ...]] = ws.iter_rows(max_col=MAX_COLUMNS)
    header = next(rows, None)
    if header is None or all(c.value is None for c in header):
        _reject(file, f"{where}row 1: no header (row 1 must name the columns)")
    columns = _columns(file, [c.value for c in header], where)
    table = _Table("xlsx")
    for number, cells in enumerate(rows, start=2):
        row = _Row(number, {})
        for key, index in columns.items():
            cell = cells[index] if index < len(cells) else None
            if cell is None or cell.value is None:
                continue
            if _formula(cell):
                table.refuse(row, key, "holds a formula; formulas are not accepted")
            elif cell.data_type == "e":
                table.refuse(row, key, f"holds the spreadsheet error {str(cell.value)[:20]}")
            elif key == "control" and isinstance(cell.value, float):
                table.refuse(
                    row,
                    key,
                    f"{cell.value!r} is a number, not text; format the cell as text "
                    "(3.1 and 3.10 are different safeguards)",
                )
            else:
                row.values[key] = _text(cell.value)
        table.add(row, file)
    return table


def _decode(data: bytes, file: str) -> str:
    wide = wide_encoding(data)
    if wide:
        _reject(file, f"the file is encoded as {wide}; save it as CSV UTF-8")
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        _reject(
            file,
            f"line {line}: not UTF-8 text (byte 0x{body[exc.start]:02x}); perhaps Latin-1 or "
            "Windows-1252: save it as CSV UTF-8",
        )


def _read_csv(data: bytes, file: str) -> _Table:
    text = _decode(data, file)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)  # Excel writes ';' in some locales
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = _Table("csv")
    number = 0
    try:
        header = next(reader, None)
        number = 1
        if header is None or not any(h.strip() for h in header):
            _reject(file, "row 1: no header (row 1 must name the columns)")
        columns = _columns(file, header[:MAX_COLUMNS], "")
        for number, record in enumerate(reader, start=2):
            row = _Row(number, {})
            for key, index in columns.items():
                value = record[index] if index < len(record) else ""
                if value.strip().startswith("="):
                    table.refuse(
                        row,
                        key,
                        "starts with '=' like a formula; formulas are not accepted "
                        "(to keep it as text, start it with a single quote)",
                    )
                else:
                    row.values[key] = value
            table.add(row, file)
    except csv.Error as exc:
        _reject(file, f"row {number + 1}: malformed CSV: {exc}")
    return table


# -- import: checking ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    number: int
    label: str
    control_id: int
    data: AnswerInput | None  # None: the status is blank, the row is skipped


def _clean(value: str) -> str:
    return unneutralize(value.strip()).strip()


def _maturity(value: str) -> int | None:
    """A maturity cell: blank, or a whole number 0-5 (3 and 3.0 alike); ValueError otherwise."""
    if not value:
        return None
    number = float(value)
    if not number.is_integer() or not 0 <= number <= 5:
        raise ValueError(value)
    return int(number)


def _people(
    session: Session, org: Organization, emails: Iterable[str]
) -> tuple[dict[str, int], set[int]]:
    """Users by e-mail among `emails`, and which of them belong to the client or its MSP."""
    wanted = sorted(set(emails))
    users: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for email, user_id in session.execute(
            select(User.email, User.id).where(User.email.in_(chunk))
        ):
            users[email] = user_id
    orgs = [org.id] + ([org.parent_id] if org.parent_id else [])
    members = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.organization_id.in_(orgs), Membership.user_id.in_(users.values())
            )
        )
    )
    return users, members


@dataclass
class _Catalog:
    """What rows are checked against: the framework's labels, the assessed controls, people."""

    framework: Framework
    org: Organization
    labels: dict[str, int]
    folded: dict[str, str | None]
    assessed: set[int]
    users: dict[str, int]
    members: set[int]

    def control(self, label: str) -> tuple[str, int | None, str | None]:
        """(canonical label, control id, problem)."""
        canonical = label if label in self.labels else self.folded.get(label.casefold())
        if canonical is None:
            return label, None, f"unknown control '{label[:64]}' (not in {self.framework.key})"
        if self.labels[canonical] not in self.assessed:
            return canonical, None, f"control {canonical} is not part of this assessment"
        return canonical, self.labels[canonical], None

    def person(self, key: str, email: str) -> str | None:
        if len(email) > MAX_EMAIL_CHARS or email not in self.users:
            return f"{key}: no user '{email[:64]}'"
        if self.users[email] not in self.members:
            return f"{key}: {email} is not a member of '{self.org.slug}' or its MSP"
        return None


def _catalog(session: Session, assessment: Assessment, table: _Table) -> _Catalog:
    framework = session.get(Framework, assessment.framework_id)
    org = session.get(Organization, assessment.organization_id)
    assert framework is not None and org is not None
    labels: dict[str, int] = dict(
        session.execute(
            select(Control.label, Control.id).where(Control.framework_id == framework.id)
        ).all()
    )
    folded: dict[str, str | None] = {}
    for label in labels:
        key = label.casefold()
        folded[key] = None if key in folded else label  # None: two labels fold alike
    emails = [
        _clean(row.values.get(key, "")).lower()
        for row in table.rows
        for key in ("owner", "implemented_by")
    ]
    users, members = _people(session, org, (e for e in emails if 0 < len(e) <= MAX_EMAIL_CHARS))
    assessed = set(session.scalars(assessed_controls(assessment, framework)))
    return _Catalog(framework, org, labels, folded, assessed, users, members)


def _check(row: _Row, catalog: _Catalog, seen: dict[int, int]) -> tuple[list[str], _Planned | None]:
    """The problems of one row, or what to do with it."""
    problems: list[str] = []
    values = {key: _clean(value) for key, value in row.values.items()}
    label = values.get("control", "")
    control_id: int | None = None
    if label:
        label, control_id, problem = catalog.control(label)
        if problem:
            problems.append(problem)
        elif control_id is not None and control_id in seen:
            problems.append(f"control {label} appears again (first in row {seen[control_id]})")
        elif control_id is not None:
            seen[control_id] = row.number
    elif "control" not in row.broken:
        problems.append("no control id")
    status: Status | None = None
    if values.get("status"):
        try:
            status = parse_status(values["status"])
        except InvalidInput as exc:
            problems.append(exc.message)
    maturity: int | None = None
    try:
        maturity = _maturity(values.get("maturity", ""))
    except ValueError:
        shown = values.get("maturity", "")[:20]
        problems.append(f"maturity must be a whole number from 0 to 5, not '{shown}'")
    for key in ("justification", "notes"):
        if len(values.get(key, "")) > MAX_TEXT_CHARS:
            size = len(values[key])
            problems.append(f"{key} has {size} characters; at most {MAX_TEXT_CHARS} allowed")
    if status is Status.NOT_APPLICABLE and not values.get("justification"):
        problems.append("status not_applicable needs a justification")
    for key in ("owner", "implemented_by"):
        email = values.get(key, "").lower()
        problem = catalog.person(key, email) if email else None
        if problem:
            problems.append(problem)
    problems = [f"row {row.number}: {p}" for p in problems]
    if problems or row.broken or control_id is None:
        return problems, None
    data = None
    if status is not None:
        data = AnswerInput(
            status=status.value,
            maturity=maturity,
            justification=values.get("justification", ""),
            notes=values.get("notes", ""),
            owner_email=values.get("owner", "").lower() or None,
            implemented_by_email=values.get("implemented_by", "").lower() or None,
        )
    return problems, _Planned(row.number, label, control_id, data)


def _plan(session: Session, assessment: Assessment, table: _Table, file: str) -> list[_Planned]:
    """Every row checked; all problems (sorted by row) reject the file, else the rows to apply."""
    if not table.rows and not table.problems:
        _reject(file, "no rows below the header")
    catalog = _catalog(session, assessment, table)
    problems = list(table.problems)
    planned: list[_Planned] = []
    seen: dict[int, int] = {}
    for row in table.rows:
        found, plan = _check(row, catalog, seen)
        problems.extend(found)
        if plan is not None:
            planned.append(plan)
    if problems:
        problems.sort(key=_row_of)  # stable: a row's problems keep their order
        _reject(file, *problems)
    return planned


def _row_of(problem: str) -> int:
    match = re.match(r"row (\d+):", problem)
    return int(match.group(1)) if match else 0


# -- import: applying ------------------------------------------------------------------------


def import_answers(
    session: Session, actor: Actor, assessment_id: int, data: bytes, name: str
) -> ImportReport:
    """Apply an answers spreadsheet (XLSX or CSV) to an assessment: all rows or none."""
    file = _display_name(name)
    assessment, _ = load_assessment(session, actor, assessment_id, "answer.submit")
    require_open(assessment)
    table = _read_table(data, file)
    planned = _plan(session, assessment, table, file)
    current = {
        a.control_id: tuple(getattr(a, f) for f in ANSWER_FIELDS)
        for a in session.scalars(select(Answer).where(Answer.assessment_id == assessment.id))
    }
    created = changed = unchanged = skipped = 0
    written: list[str] = []
    with session.begin_nested():  # a failure half-way leaves nothing behind
        for row in planned:
            if row.data is None:
                skipped += 1
                continue
            try:
                answer = answer_control(session, actor, assessment.id, row.label, row.data)
            except (InvalidInput, NotFound) as exc:  # checked above; kept as a last guard
                _reject(file, f"row {row.number}: {exc.message}")
            before = current.get(row.control_id)
            after = tuple(getattr(answer, f) for f in ANSWER_FIELDS)
            if before is None:
                created += 1
            elif before != after:
                changed += 1
            else:
                unchanged += 1
                continue
            written.append(row.label)
        report = ImportReport(
            file=file,
            format=table.format,
            created=created,
            changed=changed,
            unchanged=unchanged,
            skipped=skipped,
            controls=tuple(written),
        )
        record(
            session,
            actor,
            "answer.import",
            organization_id=assessment.organization_id,
            object_type="assessment",
            object_id=assessment.id,
            detail={
                "file": file,
                "format": table.format,
                "sha256": hashlib.sha256(data).hexdigest(),
                "created": created,
                "changed": changed,
                "unchanged": unchanged,
                "skipped": skipped,
            },
        )
    return report
