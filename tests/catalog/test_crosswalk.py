"""Crosswalks from CSV files and from NIST's OLIR workbooks."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from assay.catalog.crosswalk import normalize_sp800_53_id, read_csv_mapping, read_olir_xlsx
from assay.catalog.oscal import read_catalog
from assay.catalog.schema import Relationship, walk
from assay.errors import InvalidInput

OLIR = "mappings/Cybersecurity_Framework_v2-0_Concept_Crosswalk_800-53_final.xlsx"
SP800_53 = "nist-800-53-r5/oscal-catalog-5.0.1/NIST_SP-800-53_rev5_catalog.json"
KEYS = {"source_framework": "cis-controls-v8.1", "target_framework": "nist-csf-2.0"}


def _csv(text: str, **kwargs: Any) -> Any:
    return read_csv_mapping(text.encode(), "map.csv", **(KEYS | kwargs))


def _csv_error(data: str | bytes, **kwargs: Any) -> str:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(InvalidInput) as caught:
        read_csv_mapping(raw, "map.csv", **(KEYS | kwargs))
    message = caught.value.message
    assert message.startswith("map.csv: ") and "\n" not in message
    return message


# --- CSV ----------------------------------------------------------------------------------


def test_csv_mapping() -> None:
    text = (
        "\ufeffSource,Target,Relationship,Note\r\n"
        "1.1,ID.AM-01,subset-of,\r\n"
        '1.2 , DE.CM-01 ,EQUIVALENT-TO,"note, with comma"\r\n'
        ",,,\r\n"
        "2.1,ID.AM-02,related,\r\n"
    )
    doc = _csv(text)
    assert (doc.id, doc.version) == ("cis-controls-v8.1-to-nist-csf-2.0", "1")
    assert (doc.source_framework, doc.target_framework) == ("cis-controls-v8.1", "nist-csf-2.0")
    assert [(m.source, m.target, m.relationship, m.note) for m in doc.mappings] == [
        ("1.1", "ID.AM-01", Relationship.SUBSET_OF, ""),
        ("1.2", "DE.CM-01", Relationship.EQUIVALENT, "note, with comma"),
        ("2.1", "ID.AM-02", Relationship.RELATED, ""),
    ]


def test_csv_columns_in_any_order_and_options() -> None:
    doc = _csv(
        "relationship,target,source\nintersects-with,GV.OC-01,3.1\n",
        key="my-map",
        title="Mine",
        version="2",
    )
    assert (doc.id, doc.name, doc.version) == ("my-map", "Mine", "2")
    assert doc.mappings[0].relationship is Relationship.INTERSECTS_WITH


def test_csv_bad_row_names_the_line() -> None:
    text = "source,target,relationship\n1.1,ID.AM-01,subset-of\n1.2,ID.AM-02,sort-of\n"
    assert _csv_error(text) == (
        "map.csv: line 3: relationship 'sort-of' is not one of equivalent, subset-of, "
        "superset-of, intersects-with, related"
    )
    assert _csv_error("source,target,relationship\n1.1,,related\n") == (
        "map.csv: line 2: empty target"
    )
    assert _csv_error("source,target,relationship\n1.1,X,\n") == (
        "map.csv: line 2: relationship empty is not one of equivalent, subset-of, "
        "superset-of, intersects-with, related"
    )
    assert _csv_error("source,target,relationship\n1.1,X,related,extra\n") == (
        "map.csv: line 2: 4 fields, the header has 3"
    )
    assert _csv_error("source,target,relationship\n1,X,related\n1,X,subset-of\n") == (
        "map.csv: line 3: 1 -> X is listed twice (also line 2)"
    )
    assert "line 2: malformed CSV" in _csv_error('source,target,relationship\n"1,X,related\n')


def test_csv_multiline_note_reports_the_line_where_the_row_ends() -> None:
    text = 'source,target,relationship,note\n1,X,related,"two\nlines"\n2,Y,bad,\n'
    assert _csv_error(text).startswith("map.csv: line 4: relationship 'bad'")


def test_csv_header_problems() -> None:
    assert _csv_error("source,target\n1,X\n") == (
        "map.csv: line 1: missing column(s) relationship; the header must name "
        "source,target,relationship[,note]"
    )
    assert _csv_error("source,target,relationship,notes\n") == (
        "map.csv: line 1: unknown column(s) notes"
    )
    assert _csv_error("source,target,relationship\n") == "map.csv: no mappings in the file"
    assert _csv_error("") == "map.csv: file is empty"
    assert _csv_error(" \n\n") == "map.csv: file is empty"


def test_csv_encodings() -> None:
    text = "source,target,relationship,note\n1,X,related,café\n"
    assert _csv_error(text.encode("utf-16")) == (
        "map.csv: file is encoded as UTF-16; save it as UTF-8"
    )
    assert _csv_error(text.encode("latin-1")).startswith(
        "map.csv: line 2: not valid UTF-8 (byte 0xe9"
    )
    assert "NUL" in _csv_error(b"source,target,relationship\n1,X\x00,related\n" * 3)


def test_csv_known_ids_and_size_cap() -> None:
    text = "source,target,relationship\n1.1,ID.AM-01,related\n9.9,ID.AM-01,related\n"
    assert _csv_error(text, source_ids={"1.1"}) == "map.csv: line 3: unknown source control 9.9"
    assert _csv_error(text, max_bytes=10).startswith("map.csv: file too large: ")
    assert _csv_error(text, source_framework="Not A Key").startswith("map.csv: invalid key")


# --- OLIR workbooks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "label"),
    [
        ("PM-09", "PM-9"),
        ("AC-02(01)", "AC-2(1)"),
        ("AC-20\n\n", "AC-20"),
        ("sa-4 (10)", "SA-4(10)"),
        (" PT ", "PT"),
        ("GV.OC-01", "GV.OC-01"),
    ],
)
def test_normalize_sp800_53_id(written: str, label: str) -> None:
    assert normalize_sp800_53_id(written) == label


def _workbook(rows: list[list[Any]], title: str = "Relationships") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(["Title row"])
    sheet.append(
        [
            "Focal Document\nElement",
            "Focal Document Element Description",
            "Reference Document\nElement",
            "Reference Document\nElement Description\n(Optional)",
            "Comments\n(Optional)",
        ]
    )
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _olir(data: bytes, **kwargs: Any) -> Any:
    keys = {"source_framework": "nist-csf-2.0", "target_framework": "nist-sp-800-53-r5"}
    return read_olir_xlsx(data, "olir.xlsx", **(keys | kwargs))


def test_olir_workbook_normalizes_targets() -> None:
    data = _workbook(
        [
            ["GV", "Govern", None],
            ["GV.OC-01", "Mission", "PM-11"],
            ["GV.OC-02", "Stakeholders", "PM-09\n", None, "see also"],
            ["GV.OC-02", "Stakeholders", "PM-09"],  # the same pair again: merged
            ["ID.RA-01", "Vulns", "SA-11(02) "],
            ["GV.OC-03", "Legal", "PT"],
        ]
    )
    doc = _olir(data)
    assert [(m.source, m.target, m.relationship, m.note) for m in doc.mappings] == [
        ("GV.OC-01", "PM-11", Relationship.RELATED, ""),
        ("GV.OC-02", "PM-9", Relationship.RELATED, "see also"),
        ("ID.RA-01", "SA-11(2)", Relationship.RELATED, ""),
        ("GV.OC-03", "PT", Relationship.RELATED, ""),
    ]


def test_olir_errors_name_the_row() -> None:
    data = _workbook([["GV.OC-01", "x", "PM-11"], [None, None, "PM-12"]])
    with pytest.raises(InvalidInput, match=r"^olir\.xlsx: row 4: target PM-12 has no focal"):
        _olir(data)
    data = _workbook([["GV.OC-01", "x", "PM-11"], ["GV.OC-02", "x", "ZZ-1"]])
    with pytest.raises(InvalidInput, match=r"^olir\.xlsx: row 4: unknown target control ZZ-1$"):
        _olir(data, target_ids={"PM-11"})


@pytest.mark.parametrize(
    "data",
    [
        b"not a workbook at all",
        b"PK\x03\x04garbage",
        b"\x00" * 100,
    ],
)
def test_olir_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"^olir\.xlsx: not an Excel workbook \(\.xlsx\)$"):
        _olir(data)


def test_olir_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InvalidInput, match=r"^olir\.xlsx: not a readable Excel workbook"):
        _olir(buffer.getvalue())


def test_olir_workbook_without_the_columns() -> None:
    book = Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(InvalidInput, match="no sheet with the columns 'Focal Document Element'"):
        _olir(buffer.getvalue())


def test_nist_csf2_to_sp800_53_crosswalk(reference_dir: Path) -> None:
    path = reference_dir / OLIR
    doc = _olir(path.read_bytes())
    assert len(doc.mappings) == 740
    assert {m.relationship for m in doc.mappings} == {Relationship.RELATED}
    pairs = {(m.source, m.target) for m in doc.mappings}
    assert ("GV.OC-02", "PM-9") in pairs  # written "PM-09\n"
    assert ("ID.AM-04", "AC-20") in pairs  # written "AC-20\n\n"
    assert ("GV.OC-04", "CP-2(8)") in pairs  # written "CP-02(08)"
    assert ("PR.IR-03", "CP") in pairs  # a whole family
    label = re.compile(r"^[A-Z]{2}(-[1-9]\d*(\([1-9]\d*\))?)?$")
    assert all(label.match(m.target) for m in doc.mappings)
    assert len({m.source for m in doc.mappings}) == 108


def test_crosswalk_targets_against_the_5_0_1_catalog(reference_dir: Path) -> None:
    """Every target is an 800-53 5.0.1 label except IA-13, which release 5.1.1 added."""
    catalog_path = reference_dir / SP800_53
    catalog = read_catalog(catalog_path.read_bytes(), catalog_path.name)
    labels = {e.id for _, e in walk(catalog.controls)}
    doc = _olir((reference_dir / OLIR).read_bytes())
    assert sorted({m.target for m in doc.mappings} - labels) == ["IA-13"]
    with pytest.raises(InvalidInput, match=r"^olir\.xlsx: row \d+: unknown target control IA-13$"):
        _olir((reference_dir / OLIR).read_bytes(), target_ids=labels)
    raw = json.loads(catalog_path.read_text(encoding="utf-8"))
    assert raw["catalog"]["metadata"]["version"] == "5.0.1"
