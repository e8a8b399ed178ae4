"""Crosswalks from spreadsheets: a plain CSV, and NIST's OLIR workbooks (CSF 2.0 -> SP 800-53).

CSV: UTF-8 (a BOM is allowed), comma-separated, a header row naming the columns `source`,
`target`, `relationship` and optionally `note` (any order, any case); blank rows are skipped.
Relationships are Assay's (`equivalent`, `subset-of`, `superset-of`, `intersects-with`,
`related`) or OSCAL's spelling (`equivalent-to`, `equal-to`); anything else is an error naming
the line. A pair listed twice is an error.

OLIR workbook: the sheet with the columns "Focal Document Element" (source) and "Reference
Document Element" (target); rows without a target (functions, categories without a mapping)
are skipped. SP 800-53 ids are normalized to their official labels: `PM-09` -> `PM-9`,
`AC-02(01)` -> `AC-2(1)`, trailing blanks and newlines removed; family ids (`PT`) stay. The
concept crosswalk states no set-theory relationship, so entries are `related` unless the sheet
has a "Relationship" column. Identical rows are merged. (`normalize_target` replaces the
800-53 normalization for workbooks whose reference document is another framework.)

Both accept `source_ids` / `target_ids`: when given, an id outside them is an error naming
the line (row) where it appears.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Collection, Iterator
from typing import Any

from pydantic import ValidationError

from assay.catalog.oscal.inputs import (
    DEFAULT_MAX_BYTES,
    KEY_PATTERN,
    check_size,
    decode_utf8,
    derive_key,
    fail,
    human_size,
)
from assay.catalog.schema import MappingDocument, MappingEntry, Relationship

RELATIONSHIPS: dict[str, Relationship] = {r.value: r for r in Relationship} | {
    "equivalent-to": Relationship.EQUIVALENT,
    "equal-to": Relationship.EQUIVALENT,
    "equal": Relationship.EQUIVALENT,
}
_OLIR_RELATIONSHIPS: dict[str, Relationship | None] = {
    "equal": Relationship.EQUIVALENT,
    "equivalent": Relationship.EQUIVALENT,
    "subset of": Relationship.SUBSET_OF,
    "superset of": Relationship.SUPERSET_OF,
    "intersects with": Relationship.INTERSECTS_WITH,
    "not related to": None,
    "not related": None,
}
_SP800_53 = re.compile(r"^([A-Za-z]{2})-0*(\d+)(?:\s*\(\s*0*(\d+)\s*\))?$")
_FAMILY = re.compile(r"^[A-Za-z]{2}$")
_MAX_UNCOMPRESSED = 500 * 1024 * 1024
_MAX_LABEL = 64


def normalize_sp800_53_id(text: str) -> str:
    """Official SP 800-53 label of a written id: `AC-02(01)\\n` -> `AC-2(1)`, `pt` -> `PT`.

    Text that is not an 800-53 id is returned with its blanks collapsed and stripped.
    """
    value = " ".join(text.split())
    match = _SP800_53.match(value)
    if match:
        family, number, enhancement = match.groups()
        label = f"{family.upper()}-{int(number)}"
        return f"{label}({int(enhancement)})" if enhancement else label
    if _FAMILY.match(value):
        return value.upper()
    return value


def _check_keys(name: str, *keys: str | None) -> None:
    for key in keys:
        if key is not None and not KEY_PATTERN.match(key):
            fail(name, None, f"invalid key '{key}' (lower-case letters, digits, . and -)")


def _document(
    name: str,
    entries: list[MappingEntry],
    *,
    key: str | None,
    title: str | None,
    version: str,
    source_framework: str,
    target_framework: str,
    notice: str = "",
) -> MappingDocument:
    if not entries:
        fail(name, None, "no mappings in the file")
    try:
        return MappingDocument(
            id=key or derive_key(f"{source_framework}-to-{target_framework}"),
            name=(title or f"{source_framework} to {target_framework}")[:200],
            version=version,
            source_framework=source_framework,
            target_framework=target_framework,
            notice=notice,
            mappings=entries,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        place = ".".join(str(p) for p in error["loc"])
        fail(name, None, f"{place}: {error['msg']}")


def _check_label(
    name: str, line: str, column: str, value: str, known: Collection[str] | None
) -> None:
    if not value:
        fail(name, line, f"empty {column}")
    if len(value) > _MAX_LABEL:
        fail(name, line, f"{column} '{value[:40]}…' is longer than {_MAX_LABEL} characters")
    if known is not None and value not in known:
        fail(name, line, f"unknown {column} control {value}")


# -- CSV ------------------------------------------------------------------------------------


def read_csv_mapping(
    data: bytes,
    name: str,
    *,
    source_framework: str,
    target_framework: str,
    key: str | None = None,
    title: str | None = None,
    version: str = "1",
    source_ids: Collection[str] | None = None,
    target_ids: Collection[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MappingDocument:
    """A crosswalk from a CSV file with columns source,target,relationship[,note]."""
    _check_keys(name, source_framework, target_framework, key)
    check_size(data, name, max_bytes)
    text = decode_utf8(data, name)
    if "\x00" in text:
        fail(name, None, "file contains NUL bytes; it is not a UTF-8 CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            fail(name, None, "file is empty")
        columns = [cell.strip().lower() for cell in header]
        header_line = f"line {reader.line_num}"
        expected = ("source", "target", "relationship")
        missing = [c for c in expected if c not in columns]
        if missing:
            fail(
                name,
                header_line,
                f"missing column(s) {', '.join(missing)}; the header must name "
                "source,target,relationship[,note]",
            )
        unknown = [c for c in columns if c not in (*expected, "note")]
        if unknown:
            fail(name, header_line, f"unknown column(s) {', '.join(unknown)}")
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            fail(name, header_line, f"column(s) named twice: {', '.join(duplicated)}")
        index = {c: i for i, c in enumerate(columns)}
        entries: list[MappingEntry] = []
        seen: dict[tuple[str, str], int] = {}
        for row in reader:
            line_no = reader.line_num
            line = f"line {line_no}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(columns):
                fail(name, line, f"{len(row)} fields, the header has {len(columns)}")
            cells = {c: (row[i].strip() if i < len(row) else "") for c, i in index.items()}
            source, target = cells["source"], cells["target"]
            _check_label(name, line, "source", source, source_ids)
            _check_label(name, line, "target", target, target_ids)
            raw = cells["relationship"].lower()
            relationship = RELATIONSHIPS.get(raw)
            if relationship is None:
                allowed = ", ".join(r.value for r in Relationship)
                shown = f"'{cells['relationship']}'" if raw else "empty"
                fail(name, line, f"relationship {shown} is not one of {allowed}")
            note = " ".join(cells.get("note", "").split())
            if len(note) > 1000:
                fail(name, line, "note longer than 1000 characters")
            pair = (source, target)
            if pair in seen:
                fail(name, line, f"{source} -> {target} is listed twice (also line {seen[pair]})")
            seen[pair] = line_no
            entries.append(
                MappingEntry(source=source, target=target, relationship=relationship, note=note)
            )
    except csv.Error as exc:
        fail(name, f"line {reader.line_num}", f"malformed CSV: {exc}")
    return _document(
        name,
        entries,
        key=key,
        title=title,
        version=version,
        source_framework=source_framework,
        target_framework=target_framework,
    )


# -- OLIR workbook --------------------------------------------------------------------------


def _header(value: Any) -> str:
    return " ".join(str(value).split()).lower() if value is not None else ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _open_workbook(data: bytes, name: str) -> Any:
    from openpyxl import load_workbook  # imported here: only this importer needs it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        fail(name, None, "not an Excel workbook (.xlsx)")
    if total > _MAX_UNCOMPRESSED:
        fail(
            name,
            None,
            f"workbook expands to {human_size(total)}, limit {human_size(_MAX_UNCOMPRESSED)}",
        )
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        fail(name, None, f"not a readable Excel workbook (.xlsx): {type(exc).__name__}")


def _olir_rows(workbook: Any, name: str) -> Iterator[tuple[int, str, str, str, str]]:
    """(row number, source, target, relationship cell, comment) of the mapping sheet."""
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        for header_row, values in enumerate(rows, start=1):
            headers = [_header(v) for v in values]
            if "focal document element" in headers and "reference document element" in headers:
                src = headers.index("focal document element")
                dst = headers.index("reference document element")
                rel = next((i for i, h in enumerate(headers) if h == "relationship"), None)
                note = next((i for i, h in enumerate(headers) if h.startswith("comments")), None)
                for row_no, row in enumerate(rows, start=header_row + 1):

                    def cell(i: int | None, row: tuple[Any, ...] = row) -> str:
                        return _cell(row[i]) if i is not None and i < len(row) else ""

                    yield row_no, cell(src), cell(dst), cell(rel), cell(note)
                return
            if header_row >= 20:
                break
    fail(
        name,
        None,
        "no sheet with the columns 'Focal Document Element' and 'Reference Document Element'",
    )


def read_olir_xlsx(
    data: bytes,
    name: str,
    *,
    source_framework: str,
    target_framework: str,
    key: str | None = None,
    title: str | None = None,
    version: str = "1",
    source_ids: Collection[str] | None = None,
    target_ids: Collection[str] | None = None,
    normalize_target: Callable[[str], str] = normalize_sp800_53_id,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MappingDocument:
    """A crosswalk from a NIST OLIR workbook such as the CSF 2.0 -> SP 800-53 concept crosswalk."""
    _check_keys(name, source_framework, target_framework, key)
    check_size(data, name, max_bytes)
    workbook = _open_workbook(data, name)
    entries: dict[tuple[str, str], MappingEntry] = {}
    try:
        sheet_rows = _olir_rows(workbook, name)
        for row_no, source, raw_target, raw_relationship, comment in sheet_rows:
            line = f"row {row_no}"
            if not raw_target:
                continue
            if not source:
                fail(name, line, f"target {raw_target} has no focal document element")
            target = normalize_target(raw_target)
            _check_label(name, line, "source", source, source_ids)
            _check_label(name, line, "target", target, target_ids)
            relationship: Relationship | None = Relationship.RELATED
            if raw_relationship:
                key_rel = raw_relationship.lower()
                if key_rel not in _OLIR_RELATIONSHIPS and key_rel not in RELATIONSHIPS:
                    fail(name, line, f"unknown relationship '{raw_relationship}'")
                relationship = _OLIR_RELATIONSHIPS.get(key_rel, RELATIONSHIPS.get(key_rel))
            if relationship is None:
                continue
            pair = (source, target)
            if pair not in entries:
                entries[pair] = MappingEntry(
                    source=source,
                    target=target,
                    relationship=relationship,
                    note=comment[:1000],
                )
    finally:
        workbook.close()
    return _document(
        name,
        list(entries.values()),
        key=key,
        title=title,
        version=version,
        source_framework=source_framework,
        target_framework=target_framework,
        notice=f"Imported from {name}",
    )
