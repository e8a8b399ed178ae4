"""The built-in CIS Controls v8.1 catalog: its facts equal CIS's official workbook exactly.

The catalog ships facts only (identifiers, implementation groups, asset types, security
functions) with the project's own topic labels; CIS's titles and descriptions are licensed
CC BY-NC-ND and must never appear in it. The guard below fails if any of our text equals or
contains a workbook title or description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

import assay.catalog
from assay.catalog.schema import FrameworkDocument, walk

CONTENT = Path(assay.catalog.__file__).parent / "content"
CIS_YAML = CONTENT / "frameworks" / "cis-controls-v8.1.yaml"
WORKBOOK = Path("cis-controls-v8") / "CIS_Controls_Version_8.1_6_24_2024.xlsx"
SHEET = "Controls V8"


@dataclass(frozen=True)
class Row:
    """One row of the workbook: a control (safeguard is None) or a safeguard."""

    control: str
    safeguard: str | None
    asset_type: str
    security_function: str
    title: str
    description: str
    groups: tuple[int, ...]


def _text(value: Any) -> str:
    return "" if value is None else str(value).replace("\xa0", " ").strip()


def _safeguard_id(cell: Any) -> str:
    """The id as displayed: a cell formatted 0.00 holding 3.1 reads 3.10, not 3.1."""
    value = cell.value
    if isinstance(value, str):
        return _text(value)
    decimals = re.search(r"\.(0+)$", cell.number_format or "")
    return f"{value:.{len(decimals.group(1))}f}" if decimals else repr(float(value))


def _read_workbook(path: Path) -> list[Row]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = book[SHEET]
        header = [_text(c.value) for c in next(sheet.iter_rows(min_row=1, max_row=1))]
        assert header == [
            "CIS Control",
            "CIS Safeguard",
            "Asset Type",
            "Security Function",
            "Title",
            "Description",
            "IG1",
            "IG2",
            "IG3",
        ]
        rows: list[Row] = []
        seen: dict[str, int] = {}
        for cells in sheet.iter_rows(min_row=2):
            if cells[0].value is None:
                continue
            control = _text(cells[0].value)
            safeguard = None
            if cells[1].value is not None:
                safeguard = _safeguard_id(cells[1])
                # Cross-check against the row order: the n-th safeguard of control c is c.n.
                seen[control] = seen.get(control, 0) + 1
                assert safeguard == f"{control}.{seen[control]}", (safeguard, control)
            groups = tuple(n for n, c in zip((1, 2, 3), cells[6:9], strict=True) if _x(c.value))
            rows.append(
                Row(
                    control=control,
                    safeguard=safeguard,
                    asset_type=_text(cells[2].value),
                    security_function=_text(cells[3].value),
                    title=_text(cells[4].value),
                    description=_text(cells[5].value),
                    groups=groups,
                )
            )
        return rows
    finally:
        book.close()


def _x(value: Any) -> bool:
    return _text(value).lower() == "x"


@pytest.fixture(scope="module")
def workbook(reference_dir: Path) -> list[Row]:
    return _read_workbook(reference_dir / WORKBOOK)


@pytest.fixture(scope="module")
def catalog() -> FrameworkDocument:
    return FrameworkDocument.model_validate(yaml.safe_load(CIS_YAML.read_text("utf-8")))


def _safeguards(workbook: list[Row]) -> list[Row]:
    return [r for r in workbook if r.safeguard is not None]


def _our_safeguards(catalog: FrameworkDocument) -> dict[str, tuple[str, Any]]:
    """Safeguard id -> (parent control id, entry), in document order."""
    return {
        safeguard.id: (control.id, safeguard)
        for control in catalog.controls
        for safeguard in control.controls
    }


def _normal(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").lower().split())


def test_header(catalog: FrameworkDocument) -> None:
    assert catalog.id == "cis-controls-v8.1"
    assert catalog.name == "CIS Critical Security Controls"
    assert catalog.version == "8.1"
    assert catalog.publisher == "Center for Internet Security"
    assert catalog.levels == ["control", "safeguard"]
    assert "assay catalog import-cis" in catalog.notice


def test_eighteen_controls_with_safeguards_beneath(catalog: FrameworkDocument) -> None:
    assert [c.id for c in catalog.controls] == [str(n) for n in range(1, 19)]
    for depth, entry in walk(catalog.controls):
        assert entry.kind == ("control", "safeguard")[depth]
        if depth == 1:
            assert entry.controls == []
            assert entry.description == ""
    assert len(_our_safeguards(catalog)) == 153


def test_workbook_is_as_expected(workbook: list[Row]) -> None:
    safeguards = _safeguards(workbook)
    assert len(safeguards) == 153
    assert len({r.control for r in workbook if r.safeguard is None}) == 18
    ids = {r.safeguard for r in safeguards}
    assert {"3.10", "4.10", "8.10", "13.10", "16.10"} <= ids
    assert len(ids) == 153


def test_safeguard_ids_and_parents_equal_workbook(
    catalog: FrameworkDocument, workbook: list[Row]
) -> None:
    ours = [(sid, parent) for sid, (parent, _) in _our_safeguards(catalog).items()]
    theirs = [(r.safeguard, r.control) for r in _safeguards(workbook)]
    assert ours == theirs


def test_safeguard_facts_equal_workbook(catalog: FrameworkDocument, workbook: list[Row]) -> None:
    ours = {
        sid: (
            tuple(entry.properties["implementation-groups"]),
            entry.properties["asset-type"],
            entry.properties["security-function"],
        )
        for sid, (_, entry) in _our_safeguards(catalog).items()
    }
    theirs = {
        r.safeguard: (r.groups, r.asset_type, r.security_function) for r in _safeguards(workbook)
    }
    assert ours == theirs
    for _, entry in _our_safeguards(catalog).values():
        assert set(entry.properties) == {
            "implementation-groups",
            "asset-type",
            "security-function",
        }


def test_implementation_group_sizes(workbook: list[Row]) -> None:
    safeguards = _safeguards(workbook)
    groups = {n: {r.safeguard for r in safeguards if n in r.groups} for n in (1, 2, 3)}
    assert (len(groups[1]), len(groups[2]), len(groups[3])) == (56, 130, 153)
    assert groups[1] <= groups[2] <= groups[3]


def test_baselines_equal_implementation_groups(
    catalog: FrameworkDocument, workbook: list[Row]
) -> None:
    baselines = {b.id: b for b in catalog.baselines}
    assert sorted(baselines) == ["ig1", "ig2", "ig3"]
    assert baselines["ig1"].name == "Implementation Group 1"
    for n, size in ((1, 56), (2, 130), (3, 153)):
        expected = {r.safeguard for r in _safeguards(workbook) if n in r.groups}
        baseline = baselines[f"ig{n}"]
        assert len(baseline.controls) == len(set(baseline.controls)) == size
        assert set(baseline.controls) == expected


def test_labels_are_short_topic_labels(catalog: FrameworkDocument) -> None:
    for _, entry in walk(catalog.controls):
        assert 2 <= len(entry.title.split()) <= 5, entry.id
        assert entry.description.count(". ") == 0, entry.id  # one sentence at most


def test_no_cis_title_or_description_is_copied(
    catalog: FrameworkDocument, workbook: list[Row]
) -> None:
    cis_texts = {_normal(t) for r in workbook for t in (r.title, r.description) if _normal(t)}
    assert len(cis_texts) > 300
    ours = [(entry.id, _normal(entry.title)) for _, entry in walk(catalog.controls)]
    ours += [(entry.id, _normal(entry.description)) for _, entry in walk(catalog.controls)]
    ours += [("notice", _normal(catalog.notice)), ("name", _normal(catalog.name))]
    ours += [(b.id, _normal(b.name)) for b in catalog.baselines]
    copied = [(where, text) for where, text in ours for cis in cis_texts if cis in text]
    assert copied == []


def test_no_cis_title_or_description_anywhere_in_the_file(workbook: list[Row]) -> None:
    """Comments included: the whole file, normalized, contains no CIS title or description."""
    text = _normal(CIS_YAML.read_text("utf-8"))
    cis_texts = {_normal(t) for r in workbook for t in (r.title, r.description) if _normal(t)}
    assert sorted(cis for cis in cis_texts if cis in text) == []
