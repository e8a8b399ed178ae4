"""The built-in NIST CSF 2.0 catalog: valid, complete, and identical in structure to NIST's files.

NIST's OSCAL catalog still carries the withdrawn CSF 1.1 items. There, an active subcategory is
one with at least one implementation example and an active category is one with a statement.
The OSCAL file lists categories alphabetically and its `sort-id` properties disagree with the
publication (DE.AE before DE.CM, duplicated values), so the official order is taken from NIST's
CSF 2.0 Reference Tool export (csf2.xlsx), which follows CSWP 29.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from lxml import etree

import assay.catalog
from assay.catalog.schema import ControlEntry, FrameworkDocument, walk

CSF_YAML = Path(assay.catalog.__file__).parent / "content" / "frameworks" / "nist-csf-2.0.yaml"
OSCAL = "{http://csrc.nist.gov/ns/oscal/1.0}"
SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
LEVELS = ["function", "category", "subcategory"]


def load_builtin() -> FrameworkDocument:
    return FrameworkDocument.model_validate(yaml.safe_load(CSF_YAML.read_text(encoding="utf-8")))


def nodes_by_kind(doc: FrameworkDocument) -> dict[str, list[tuple[ControlEntry, str | None]]]:
    """Entries of each level in file order, each with its parent's id."""
    found: dict[str, list[tuple[ControlEntry, str | None]]] = {kind: [] for kind in LEVELS}

    def visit(entries: list[ControlEntry], parent: str | None) -> None:
        for entry in entries:
            found[entry.kind].append((entry, parent))
            visit(entry.controls, entry.id)

    visit(doc.controls, None)
    return found


def normalize(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split()).lower().rstrip(".")


# --- without reference data -------------------------------------------------------------------


def test_builtin_csf_shape() -> None:
    doc = load_builtin()
    assert doc.id == "nist-csf-2.0"
    assert doc.version == "2.0"
    assert doc.levels == LEVELS
    assert doc.notice and doc.source and doc.publisher

    found = nodes_by_kind(doc)
    assert [len(found[kind]) for kind in LEVELS] == [6, 22, 106]
    assert max(depth for depth, _ in walk(doc.controls)) == len(LEVELS) - 1
    for depth, entry in walk(doc.controls):
        assert entry.kind == LEVELS[depth], entry.id
        assert entry.description.strip(), f"{entry.id} has no description"
        assert not entry.withdrawn, entry.id
        assert entry.description.isascii() and entry.title.isascii(), entry.id

    for entry, parent in found["category"]:
        assert re.fullmatch(rf"{parent}\.[A-Z]{{2}}", entry.id), entry.id
    for entry, parent in found["subcategory"]:
        assert re.fullmatch(rf"{re.escape(str(parent))}-\d{{2}}", entry.id), entry.id
        assert 2 <= len(entry.title.split()) <= 6, f"{entry.id}: title should be a short label"
        assert not entry.controls


# --- against NIST's files ---------------------------------------------------------------------


@dataclass
class Nist:
    functions: dict[str, str] = field(default_factory=dict)  # id -> title
    categories: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (function, title)
    subcategories: dict[str, str] = field(default_factory=dict)  # id -> category
    withdrawn: set[str] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)  # every statement, overview and example
    order: list[str] = field(default_factory=list)  # active ids, publication order


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _text(element: etree._Element) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _statement(element: etree._Element) -> str:
    part = element.find(f"{OSCAL}part[@name='statement']")
    return _text(part) if part is not None else ""


def _read_oscal(path: Path, nist: Nist) -> None:
    root = etree.parse(str(path), _parser()).getroot()
    nist.texts = [_text(part) for part in root.iter(f"{OSCAL}part") if _text(part)]
    for group in root.findall(f"{OSCAL}group"):
        assert group.get("class") == "function"
        nist.functions[group.get("id")] = group.findtext(f"{OSCAL}title")
        for category in group.findall(f"{OSCAL}control"):
            assert category.get("class") == "category"
            if not _statement(category):
                nist.withdrawn.add(category.get("id"))
            else:
                nist.categories[category.get("id")] = (
                    group.get("id"),
                    category.findtext(f"{OSCAL}title"),
                )
            for sub in category.findall(f"{OSCAL}control"):
                assert sub.get("class") == "subcategory"
                if sub.find(f"{OSCAL}part[@name='example']") is None:
                    nist.withdrawn.add(sub.get("id"))
                else:
                    nist.subcategories[sub.get("id")] = category.get("id")


def _read_reference_tool_order(path: Path) -> list[str]:
    """Ids of the non-withdrawn rows of the 'CSF 2.0' sheet, top to bottom."""
    with zipfile.ZipFile(path) as book:

        def xml(name: str) -> etree._Element:
            return etree.fromstring(book.read(name), _parser())

        sheet_rel = next(
            s.get(f"{DOC_REL}id")
            for s in xml("xl/workbook.xml").iter(f"{SHEET}sheet")
            if s.get("name") == "CSF 2.0"
        )
        target = next(
            r.get("Target")
            for r in xml("xl/_rels/workbook.xml.rels").iter(f"{RELS}Relationship")
            if r.get("Id") == sheet_rel
        )
        strings = ["".join(si.itertext()) for si in xml("xl/sharedStrings.xml").iter(f"{SHEET}si")]
        sheet = xml("xl/" + target.removeprefix("/xl/"))
    label = re.compile(
        r"^(?:[A-Za-z ,]+ \((?P<group>[A-Z]{2}(?:\.[A-Z]{2})?)\)"  # GOVERN (GV), Policy (GV.PO)
        r"|(?P<sub>[A-Z]{2}\.[A-Z]{2}-\d{2})):"  # GV.PO-01
    )
    order = []
    for cell in sheet.iter(f"{SHEET}c"):
        value = cell.find(f"{SHEET}v")
        if cell.get("t") != "s" or value is None:
            continue
        text = strings[int(value.text)]
        match = label.match(text)
        if match and "[Withdrawn" not in text:
            order.append(match.group("group") or match.group("sub"))
    return order


@pytest.fixture(scope="module")
def nist(reference_dir: Path) -> Nist:
    folder = reference_dir / "nist-csf-2"
    nist = Nist()
    _read_oscal(folder / "NIST_CSF_v2.0_catalog.xml", nist)
    nist.order = _read_reference_tool_order(folder / "csf2.xlsx")
    return nist


def test_reference_files_agree(nist: Nist) -> None:
    assert [len(nist.functions), len(nist.categories), len(nist.subcategories)] == [6, 22, 106]
    active = [*nist.functions, *nist.categories, *nist.subcategories]
    assert sorted(nist.order) == sorted(active)
    assert not nist.withdrawn & set(active)


def test_ids_order_and_hierarchy_match_nist(nist: Nist) -> None:
    doc = load_builtin()
    assert [entry.id for _, entry in walk(doc.controls)] == nist.order

    found = nodes_by_kind(doc)

    assert [e.id for e, _ in found["function"]] == [i for i in nist.order if i in nist.functions]
    assert [e.id for e, _ in found["category"]] == [i for i in nist.order if i in nist.categories]
    assert [e.id for e, _ in found["subcategory"]] == [
        i for i in nist.order if i in nist.subcategories
    ]
    assert {e.id: p for e, p in found["category"]} == {
        cid: function for cid, (function, _) in nist.categories.items()
    }
    assert {e.id: p for e, p in found["subcategory"]} == nist.subcategories


def test_names_match_nist(nist: Nist) -> None:
    found = nodes_by_kind(load_builtin())
    # NIST sets function names in capitals (GOVERN); the publication's prose writes "Govern".
    assert {e.id: e.title for e, _ in found["function"]} == {
        fid: title.capitalize() for fid, title in nist.functions.items()
    }
    assert {e.id: e.title for e, _ in found["category"]} == {
        cid: title for cid, (_, title) in nist.categories.items()
    }


def test_no_withdrawn_items(nist: Nist) -> None:
    ids = {entry.id for _, entry in walk(load_builtin().controls)}
    assert len(nist.withdrawn) == 12 + 79
    assert not ids & nist.withdrawn


def test_summaries_are_our_own_words(nist: Nist) -> None:
    official = {normalize(text) for text in nist.texts}
    assert len(official) > 300  # statements, overviews and implementation examples
    for _, entry in walk(load_builtin().controls):
        assert entry.description.strip(), entry.id
        for field_name, ours in (("description", entry.description), ("title", entry.title)):
            copied = [text for text in official if text in normalize(ours)]
            assert not copied, f"{entry.id} {field_name} contains NIST's text: {copied[0]!r}"
