"""CSV import and export: every kind of bad file is a clear error naming the line and column,
and nothing is stored (counted in the database); exported cells never run as formulas."""

from __future__ import annotations

import csv
import io
import os

import pytest
from sqlalchemy.orm import Session

from assay.assets import service
from assay.assets.csv_export import COLUMNS, assets_csv, neutralize, unneutralize
from assay.assets.csv_import import (
    MAX_INPUT_BYTES,
    MAX_PROBLEMS,
    MAX_ROWS,
    ImportRejected,
    parse_assets_csv,
)
from assay.assets.importing import import_assets
from assay.assets.validation import AssetInput
from assay.tenancy.models import Role
from tests.assets.conftest import stored
from tests.factories import World

HEADER = "name,kind,criticality,owner,data_classification,identifiers,tags,description\n"
GOOD = HEADER + "web1,host,high,ops@client-a.test,confidential,hostname:web1;ip:10.0.0.5,dmz,Web\n"


def rejected(data: bytes, name: str = "assets.csv") -> ImportRejected:
    with pytest.raises(ImportRejected) as raised:
        parse_assets_csv(data, name)
    return raised.value


# (case, file bytes, text expected in the first problem)
BAD_FILES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "file is empty"),
    ("blank", b" \r\n\n\t\n", "file is empty"),
    ("bom-only", b"\xef\xbb\xbf", "file is empty"),
    ("header-only", HEADER.encode(), "line 1: only a header, no assets below it"),
    ("latin-1", (HEADER + "café,host,,,,,,\n").encode("latin-1"), "line 2: not UTF-8 text"),
    ("utf-16", GOOD.encode("utf-16"), "encoded as UTF-16; save it as CSV UTF-8"),
    ("utf-16-no-bom", GOOD.encode("utf-16-le"), "encoded as UTF-16"),
    ("utf-32", GOOD.encode("utf-32"), "encoded as UTF-32"),
    ("xlsx", b"PK\x03\x04" + os.urandom(200), "an XLSX workbook (or another zip archive)"),
    ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "legacy Excel"),
    ("binary", bytes(range(256)) * 4, "binary data (a NUL byte)"),
    ("garbage", b"name,kind\n\xff\xfe\xfa\xfb\xfc", "line 2: not UTF-8 text (byte 0xff)"),
    ("unterminated-quote", b'name,kind\n"web1,host\n', "malformed CSV"),
    ("no-kind-column", b"name,criticality\nweb1,high\n", "the header lacks kind"),
    ("no-header", b"web1,host,high\n", "line 1: no header (the first row names the columns"),
    ("header-lacks-name", b"kind,owner\nhost,me\n", "the header lacks name (columns: name, kind"),
    ("unknown-column", b"name,kind,colour\nweb1,host,red\n", "unknown column 'colour'"),
    ("repeated-column", b"name,kind,Kind\nweb1,host,host\n", "column 'kind' appears twice"),
    ("huge-cell", b"name,kind\n" + b"x" * 200_000 + b",host\n", "malformed CSV"),
]


@pytest.mark.parametrize(("case", "data", "expected"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_files_are_refused_whole_and_store_nothing(
    case: str, data: bytes, expected: str, session: Session, world: World
) -> None:
    error = rejected(data)
    assert expected in error.message, error.message
    assert error.message.startswith("assets.csv: ")
    assert "\x00" not in error.message and len(error.message) < 400
    before = stored(session)
    with pytest.raises(ImportRejected):
        import_assets(session, world.actor("client-a", Role.ADMIN), "client-a", data, "assets.csv")
    session.commit()
    assert stored(session) == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    data = (HEADER + "web1,host,,,,,,\n").encode() + b"#" * MAX_INPUT_BYTES
    assert "file too large" in rejected(data).message


def test_more_rows_than_the_limit_are_refused() -> None:
    rows = "".join(f"a{i},host\n" for i in range(MAX_ROWS + 1))
    error = rejected(("name,kind\n" + rows).encode())
    assert f"more than {MAX_ROWS} rows; split the file" in error.message


def test_the_row_limit_itself_is_accepted() -> None:
    rows = "".join(f"a{i},host\n" for i in range(MAX_ROWS))
    assert len(parse_assets_csv(("name,kind\n" + rows).encode(), "big.csv").rows) == MAX_ROWS


def test_every_bad_row_is_listed_with_its_line_and_column(session: Session, world: World) -> None:
    data = (
        HEADER
        + "web1,host,high,,internal,ip:10.0.0.5,,\n"
        + "web2,spaceship,urgent,,secret,ip:999.1.1.1;hostname:web2,,\n"  # line 3
        + ",host,,,,,,\n"  # line 4: no name
        + "web1,host,,,,ip:10.0.0.6,,\n"  # line 5: name again
        + "web3,host,,,,ip:10.0.0.5,,\n"  # line 6: identifier again
        + '"db\n1",data_store,,,,,,"=HYPERLINK(""http://evil/"",""x"")"\n'  # lines 7-8
        + "web4,host,,"
        + "o" * 300
        + ",,,"
        + "t" * 41
        + ",\n"  # line 9
        + "web5,host,,,,,,,extra\n"  # line 10
    ).encode()
    error = rejected(data)
    assert error.problems == [
        "line 3: kind: unknown asset kind 'spaceship' (use host, application, cloud_account, "
        "network_device, data_store, saas)",
        "line 3: criticality: unknown criticality 'urgent' (use low, medium, high, critical)",
        "line 3: data_classification: unknown data classification 'secret' (use public, "
        "internal, confidential, restricted)",
        "line 3: identifiers: '999.1.1.1' is not an IP address",
        "line 4: name: missing (every asset needs a name)",
        "line 5: name: 'web1' is given again (first on line 2)",
        "line 6: identifiers: ip:10.0.0.5 is also given on line 2 (asset 'web1')",
        "line 7: name: asset name must not contain control characters",
        "line 7: description: starts with '=' like a formula; formulas are not accepted "
        "(to keep it as text, start it with a single quote)",
        "line 9: owner: owner must have at most 254 characters",
        "line 9: tags: tag '" + "t" * 19 + "…' is longer than 40 characters",
        "line 10: has 9 cells, more than the header names",
    ]
    assert error.message.startswith("assets.csv: line 3: kind: unknown asset kind")
    assert error.message.endswith("(and 11 more problems)")
    before = stored(session)
    with pytest.raises(ImportRejected):
        import_assets(session, world.actor("client-a", Role.ADMIN), "client-a", data, "x.csv")
    assert stored(session) == before


def test_a_flood_of_problems_is_listed_up_to_a_limit() -> None:
    rows = "".join(f"a{i},spaceship\n" for i in range(MAX_PROBLEMS + 5))
    error = rejected(("name,kind\n" + rows).encode())
    assert len(error.problems) == MAX_PROBLEMS + 1
    assert error.problems[-1] == "... and 5 more problems not listed"


def test_formula_looking_cells_other_than_equals_are_kept_as_text() -> None:
    data = (
        b"name,kind,owner,description\n"
        b"'=SUM(A1),host,@admins,-2+3 is not a formula\n"
        b"+plus,host,\"'=cmd|' /C calc'!A0\",\"'@x\"\n"
    )
    rows = parse_assets_csv(data, "f.csv").rows
    assert [(r.data.name, r.data.owner, r.data.description) for r in rows] == [
        ("=SUM(A1)", "@admins", "-2+3 is not a formula"),
        ("+plus", "=cmd|' /C calc'!A0", "@x"),
    ]


def test_excel_flavours_are_read_bom_semicolons_crlf_and_any_column_order() -> None:
    data = (
        "\ufeffKind;Name;Data Classification;Tags\r\n"
        'saas;Microsoft 365;confidential;"mail;docs"\r\n'
    )
    parsed = parse_assets_csv(data.encode("utf-8"), "C:\\Users\\me\\excel.csv")
    assert parsed.file == "excel.csv"
    assert parsed.columns == {"name", "kind", "data_classification", "tags"}
    [row] = parsed.rows
    assert (row.line, row.data.name, row.data.kind, row.data.tags) == (
        2,
        "Microsoft 365",
        "saas",
        ("mail", "docs"),
    )
    assert (row.data.criticality, row.data.data_classification) == ("medium", "confidential")


def test_line_numbers_follow_quoted_newlines_and_blank_lines() -> None:
    data = b'name,kind,description\n\nweb1,host,"two\nlines"\n\n\nweb2,spaceship,\n'
    assert rejected(data).problems == [
        "line 7: kind: unknown asset kind 'spaceship' (use host, application, cloud_account, "
        "network_device, data_store, saas)"
    ]


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'quoted", "plain", "", "'"]
)
def test_neutralize_is_undone_exactly(text: str) -> None:
    shown = neutralize(text)
    assert not shown or shown[0] not in "=+-@\t\r" or shown == text == ""
    assert unneutralize(shown) == text


def test_exported_cells_never_start_a_formula_and_import_back_unchanged(
    session: Session, world: World
) -> None:
    admin = world.actor("client-a", Role.ADMIN)
    hostile = ['=HYPERLINK("http://evil")', "+cmd", "-2+3", "@SUM(A1)", "'quoted"]
    for index, text in enumerate(hostile):
        service.create_asset(
            session,
            admin,
            "client-a",
            AssetInput(
                name=text,
                kind="host",
                owner=text,
                description=f"{text}\nsecond line",
                identifiers=[("other", f"{text}-{index}")],
            ),
        )
    session.commit()
    data = service.export_assets(session, admin, "client-a")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    before = stored(session)
    report = import_assets(session, admin, "client-a", data, "export.csv", update=True)
    session.commit()
    assert report.created == () and report.updated == ()
    assert sorted(report.unchanged) == sorted(hostile)
    assert stored(session)[:2] == before[:2]


def test_export_of_nothing_is_a_header() -> None:
    assert assets_csv([]) == ("\ufeff" + ",".join(COLUMNS) + "\r\n").encode("utf-8")
