"""Reading an asset register from CSV. Pure: bytes in, checked rows or every problem out.

The file is UTF-8 (with or without a BOM) with a header row naming its columns, in any order:
`name` and `kind` are required; `criticality`, `owner`, `data_classification`, `identifiers`
(`hostname:web1;ip:10.0.0.5`), `tags` (`a;b`) and `description` are optional. A column the
header leaves out is left as it is when an existing asset is updated (and takes its default,
`medium` and `internal`, or empty, for a new one); a blank cell in a present column sets the
default or clears the field. Commas, semicolons or tabs separate the cells (whichever the
header uses most: Excel writes semicolons in some locales).

Refused as a whole, before any row is read: files over MAX_INPUT_BYTES, empty files, other
encodings (UTF-16/32, Latin-1...), binary data (workbooks, NUL bytes), malformed CSV, a header
without `name` or `kind`, with unknown or repeated columns, more than MAX_ROWS rows. Then every
row is checked and every problem is listed with its line (where the record starts) and
column: unknown kinds, criticalities or classifications, a missing name, bad identifiers (IP
addresses, MAC addresses, hostnames), over-long fields, control characters, cells starting
with `=` (formulas are not accepted; a cell exported as `'=...` is read back as `=...`), and
names or identifiers given on two rows. Checks against the stored register (names that exist,
identifiers of other assets) are the importer's (`assets/importing.py`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from assay.assets.csv_export import COLUMNS, unneutralize
from assay.assets.validation import (
    DEFAULT_CLASSIFICATION,
    DEFAULT_CRITICALITY,
    AssetData,
    Identifier,
    clean_asset_name,
    clean_description,
    clean_identifiers,
    clean_owner,
    clean_tags,
    format_identifier,
    parse_classification,
    parse_criticality,
    parse_kind,
    split_identifiers,
    split_tags,
)
from assay.catalog.oscal.inputs import human_size, wide_encoding
from assay.errors import InvalidInput

MAX_INPUT_BYTES = 5 * 1024 * 1024
"""Largest file an import reads."""
MAX_ROWS = 50_000
"""Most data rows (blank lines not counted) an import accepts."""
MAX_PROBLEMS = 1000
"""Problems listed in a refusal; the rest are counted."""
REQUIRED = ("name", "kind")
ALIASES = {"classification": "data_classification", "identifier": "identifiers", "tag": "tags"}

_UTF8_BOM = b"\xef\xbb\xbf"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LINE = re.compile(r"line (\d+):")


class ImportRejected(InvalidInput):
    """An import refused as a whole. `message` names the file and the first problem;
    `problems` lists every problem found (up to MAX_PROBLEMS), each with its line."""

    def __init__(self, file: str, problems: Sequence[str]) -> None:
        listed = list(problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            listed.append(f"... and {len(problems) - MAX_PROBLEMS} more problems not listed")
        first = listed[0] if listed else "cannot be imported"
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(f"{file}: {first}{suffix}")
        self.file = file
        self.problems = listed


def reject(file: str, *problems: str) -> NoReturn:
    raise ImportRejected(file, problems)


def line_of(problem: str) -> int:
    """The line a problem names (0 for the file as a whole), to sort problems by."""
    match = _LINE.match(problem)
    return int(match.group(1)) if match else 0


def display_name(name: str) -> str:
    """The uploaded file's name as shown in messages: its last component, printable, short."""
    base = re.split(r"[\\/]", name.strip())[-1]
    base = "".join(c if c.isprintable() else "?" for c in base)
    return base[:120] or "uploaded file"


@dataclass(frozen=True)
class AssetRow:
    """One checked row: the asset it describes and the line it starts on."""

    line: int
    data: AssetData


@dataclass(frozen=True)
class ParsedFile:
    """Every row of a file, checked. `columns` are those its header names: an update changes
    only these."""

    file: str
    columns: frozenset[str]
    rows: tuple[AssetRow, ...]


# --- bytes to records -------------------------------------------------------------------------


def _decode(data: bytes, file: str) -> str:
    if len(data) > MAX_INPUT_BYTES:
        reject(
            file, f"file too large: {human_size(len(data))}, limit {human_size(MAX_INPUT_BYTES)}"
        )
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    if not body.strip():
        reject(file, "file is empty")
    if data.startswith(_ZIP_MAGIC):
        reject(file, "an XLSX workbook (or another zip archive), not CSV; save it as CSV UTF-8")
    if data.startswith(_OLE_MAGIC):
        reject(file, "a legacy Excel (.xls) workbook, not CSV; save it as CSV UTF-8")
    wide = wide_encoding(data)
    if wide:
        reject(file, f"the file is encoded as {wide}; save it as CSV UTF-8")
    if b"\x00" in body:
        line = body.count(b"\n", 0, body.index(b"\x00")) + 1
        reject(file, f"line {line}: binary data (a NUL byte), not CSV text")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        reject(
            file,
            f"line {line}: not UTF-8 text (byte 0x{body[exc.start]:02x}); perhaps Latin-1 or "
            "Windows-1252: save it as CSV UTF-8",
        )


def _records(text: str, file: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) of every non-blank record, header first."""
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            reject(file, f"line {start}: malformed CSV: {exc}")
        if record is None:
            return
        if any(cell.strip() for cell in record):
            yield start, record


def _header_key(value: str) -> str:
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    return ALIASES.get(key, key)


def _columns(header: list[str], line: int, file: str) -> dict[str, int]:
    """Column -> index, refusing unknown, repeated and missing columns."""
    names = ", ".join(COLUMNS)
    found: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(header):
        key = _header_key(unneutralize(cell.strip()))
        if not key:
            continue
        if key not in COLUMNS:
            unknown.append(cell.strip()[:40])
        elif key in found:
            reject(file, f"line {line}: column '{key}' appears twice in the header")
        else:
            found[key] = index
    if unknown and not found:
        reject(file, f"line {line}: no header (the first row names the columns: {names})")
    if unknown:
        reject(
            file,
            f"line {line}: unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)} (the columns are {names})",
        )
    missing = [key for key in REQUIRED if key not in found]
    if missing:
        reject(file, f"line {line}: the header lacks {' and '.join(missing)} (columns: {names})")
    return found


# --- records to rows ------------------------------------------------------------------------


_CHECKS: dict[str, Callable[[str], Any]] = {
    "name": clean_asset_name,
    "kind": parse_kind,
    "criticality": lambda v: parse_criticality(v) if v else DEFAULT_CRITICALITY,
    "data_classification": lambda v: parse_classification(v) if v else DEFAULT_CLASSIFICATION,
    "owner": clean_owner,
    "description": clean_description,
    "tags": lambda v: tuple(clean_tags(split_tags(v))),
    "identifiers": lambda v: tuple(clean_identifiers(split_identifiers(v))),
}
_DEFAULTS: dict[str, Any] = {
    "criticality": DEFAULT_CRITICALITY,
    "data_classification": DEFAULT_CLASSIFICATION,
    "owner": None,
    "description": "",
    "tags": (),
    "identifiers": (),
}


def _row(
    line: int, record: list[str], columns: dict[str, int], problems: list[str]
) -> AssetRow | None:
    """One record checked field by field; its problems are appended to `problems`."""
    found: list[str] = []
    if len(record) > len(columns) and any(
        record[i].strip() for i in range(len(record)) if i not in columns.values()
    ):
        found.append(f"has {len(record)} cells, more than the header names")
    values: dict[str, Any] = dict(_DEFAULTS)
    for key, index in columns.items():
        raw = record[index] if index < len(record) else ""
        if raw.strip().startswith("="):
            found.append(
                f"{key}: starts with '=' like a formula; formulas are not accepted "
                "(to keep it as text, start it with a single quote)"
            )
            continue
        cell = unneutralize(raw.strip())
        if key == "name" and not cell.strip():
            found.append("name: missing (every asset needs a name)")
            continue
        try:
            values[key] = _CHECKS[key](cell)
        except InvalidInput as exc:
            found.append(f"{key}: {exc.message}")
    if found:
        problems.extend(f"line {line}: {problem}" for problem in found)
        return None
    return AssetRow(line, AssetData(**values))


def _unique(rows: list[AssetRow]) -> list[str]:
    """Names and identifiers given on two rows."""
    problems: list[str] = []
    names: dict[str, int] = {}
    owners: dict[Identifier, AssetRow] = {}
    for row in rows:
        first = names.setdefault(row.data.name, row.line)
        if first != row.line:
            problems.append(
                f"line {row.line}: name: '{row.data.name}' is given again (first on line {first})"
            )
        for identifier in row.data.identifiers:
            other = owners.setdefault(identifier, row)
            if other is not row:
                problems.append(
                    f"line {row.line}: identifiers: {format_identifier(*identifier)} is also "
                    f"given on line {other.line} (asset '{other.data.name}')"
                )
    return problems


def parse_assets_csv(data: bytes, name: str) -> ParsedFile:
    """Every row of an asset CSV, checked; ImportRejected lists every problem found."""
    file = display_name(name)
    records = _records(_decode(data, file), file)
    first = next(records, None)
    if first is None:
        reject(file, "file is empty")
    header_line, header = first
    columns = _columns(header, header_line, file)
    rows: list[AssetRow] = []
    problems: list[str] = []
    count = 0
    for line, record in records:
        count += 1
        if count > MAX_ROWS:
            reject(file, f"more than {MAX_ROWS} rows; split the file")
        row = _row(line, record, columns, problems)
        if row is not None:
            rows.append(row)
    if count == 0:
        reject(file, f"line {header_line}: only a header, no assets below it")
    problems.extend(_unique(rows))
    if problems:
        problems.sort(key=line_of)  # stable: a line's problems keep their order
        reject(file, *problems)
    return ParsedFile(file, frozenset(columns), tuple(rows))
