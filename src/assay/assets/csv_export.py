"""Writing an asset register to CSV, in the columns `csv_import` reads back. Pure: no I/O.

UTF-8 with a BOM (so that Excel reads it as UTF-8), CRLF line ends. Every cell that begins
with `=`, `+`, `-`, `@`, a tab or a carriage return (or a single quote, so that the rule can be
undone exactly) is prefixed with a single quote, so that spreadsheet software never evaluates
it as a formula; the import removes that quote again (the same rule as assessment exports,
assess/spreadsheet.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from assay.assets.models import Asset
from assay.assets.validation import format_identifier

COLUMNS = (
    "name",
    "kind",
    "criticality",
    "owner",
    "data_classification",
    "identifiers",
    "tags",
    "description",
)
MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralize(text: str) -> str:
    """`text` as a spreadsheet shows it literally (see the module docstring)."""
    if text and (text[0] in FORMULA_TRIGGERS or text[0] == QUOTE):
        return QUOTE + text
    return text


def unneutralize(text: str) -> str:
    """The inverse of `neutralize`: drop one leading quote that protects a trigger or a quote."""
    if len(text) >= 2 and text[0] == QUOTE and (text[1] in FORMULA_TRIGGERS or text[1] == QUOTE):
        return text[1:]
    return text


def asset_cells(asset: Asset) -> list[str]:
    """One asset as the cells of its row, in COLUMNS order, before neutralizing."""
    return [
        asset.name,
        str(asset.kind),
        str(asset.criticality),
        asset.owner or "",
        str(asset.data_classification),
        ";".join(format_identifier(str(i.kind), i.value) for i in asset.identifiers),
        ";".join(asset.tags or ()),
        asset.description,
    ]


def assets_csv(assets: Iterable[Asset]) -> bytes:
    """The register as CSV bytes, every cell neutralized."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for asset in assets:
        writer.writerow([neutralize(cell) for cell in asset_cells(asset)])
    return out.getvalue().encode("utf-8-sig")
