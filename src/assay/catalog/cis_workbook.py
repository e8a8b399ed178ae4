"""Reading CIS's official Controls v8.1 workbook, which licensees download from CIS.

Only the licensee's own copy is read, at run time; CIS's titles and descriptions go into that
user's database and never into this repository.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from assay.errors import InvalidInput

SHEET = "Controls V8"
HEADER = ("CIS Control", "CIS Safeguard", "Asset Type", "Security Function", "Title", "Description")


@dataclass(frozen=True)
class OfficialText:
    """CIS's own title and description of a control ("4") or a safeguard ("4.1")."""

    id: str
    title: str
    description: str


def _clean(value: object) -> str:
    return " ".join(str(value).replace("\xa0", " ").split()) if value is not None else ""


def safeguard_id(value: object, number_format: str) -> str:
    """The safeguard number as printed: 3.10 is stored as the float 3.1 shown with two decimals."""
    if isinstance(value, float):
        return f"{value:.2f}" if "0.00" in number_format else repr(value)
    return _clean(value)


def read_cis_workbook(data: bytes, name: str) -> list[OfficialText]:
    """Controls and safeguards with their official text, in workbook order."""
    import openpyxl

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidInput(f"{name}: not an XLSX workbook")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise InvalidInput(f"{name}: cannot read the workbook ({type(exc).__name__})") from None
    if SHEET not in book.sheetnames:
        raise InvalidInput(f"{name}: no sheet '{SHEET}'; is this the CIS Controls v8.1 workbook?")
    rows = book[SHEET].iter_rows()
    header = tuple(_clean(cell.value) for cell in next(rows, ()))
    if header[: len(HEADER)] != HEADER:
        raise InvalidInput(f"{name}: sheet '{SHEET}' does not start with the columns {HEADER}")
    found: list[OfficialText] = []
    for number, row in enumerate(rows, start=2):
        control, safeguard, title, description = row[0], row[1], row[4], row[5]
        if control.value is None and safeguard.value is None:
            continue
        if safeguard.value is None:
            ident = _clean(control.value)
        else:
            ident = safeguard_id(safeguard.value, safeguard.number_format or "")
        if not ident or not _clean(title.value):
            raise InvalidInput(f"{name}: row {number}: missing id or title")
        found.append(OfficialText(ident, _clean(title.value), _clean(description.value)))
    book.close()
    if not found:
        raise InvalidInput(f"{name}: sheet '{SHEET}' holds no controls")
    return found
