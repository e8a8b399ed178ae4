"""read_catalog on NIST's published catalogs (reference files, never copied into the repo)."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.catalog.oscal import read_catalog
from assay.catalog.schema import ControlEntry, FrameworkDocument, walk

from .conftest import BASELINES

WITHDRAWN_CSF_CATEGORIES = [
    *("ID.BE", "ID.GV", "ID.RM", "ID.SC"),
    *("PR.AC", "PR.IP", "PR.MA", "PR.PT"),
    *("DE.DP", "RS.IM", "RS.RP", "RC.IM"),
]


def _raw_controls(controls: list[dict[str, Any]], parent: str | None) -> Iterator[tuple[Any, ...]]:
    """(oscal id, label, parent label, class, withdrawn) straight from the JSON."""
    for control in controls:
        props = control.get("props", [])
        label = next(p["value"] for p in props if p["name"] == "label" and "class" not in p)
        withdrawn = any(p["name"] == "status" and p["value"] == "withdrawn" for p in props)
        yield control["id"], label, parent, control["class"], withdrawn
        yield from _raw_controls(control.get("controls", []), label)


def _tree(doc: FrameworkDocument) -> list[tuple[Any, ...]]:
    rows = []

    def visit(entries: list[ControlEntry], parent: str | None) -> None:
        for entry in entries:
            rows.append((entry.oscal_id, entry.id, parent, entry.kind, entry.withdrawn))
            visit(entry.controls, entry.id)

    visit(doc.controls, None)
    return rows


def test_sp800_53_counts_and_ids_match_the_file(
    sp800_53: FrameworkDocument, sp800_53_raw: dict[str, Any]
) -> None:
    groups = sp800_53_raw["catalog"]["groups"]
    kinds = {"SP800-53": "control", "SP800-53-enhancement": "enhancement"}
    expected = []
    for group in groups:
        expected.append((group["id"], group["id"].upper(), None, "family", False))
        expected += [
            (oid, label, parent or group["id"].upper(), kinds[cls], wd)
            for oid, label, parent, cls, wd in _raw_controls(group["controls"], None)
        ]
    assert _tree(sp800_53) == expected

    nodes = [entry for _, entry in walk(sp800_53.controls)]
    counts = collections.Counter(e.kind for e in nodes)
    assert counts == {"family": 20, "control": 322, "enhancement": 867}
    assert sum(e.withdrawn for e in nodes) == 182
    assert sum(not e.withdrawn for e in nodes if e.kind != "family") == 1007
    assert sp800_53.levels == ["family", "control", "enhancement"]
    assert sp800_53.version == "5.0.1"
    assert sp800_53.publisher == "Joint Task Force, Interagency Working Group"
    assert sp800_53.notice == "oscal-uuid: " + sp800_53_raw["catalog"]["uuid"]


def test_sp800_53_sample_controls(sp800_53: FrameworkDocument) -> None:
    nodes = {entry.id: entry for _, entry in walk(sp800_53.controls)}
    ac2 = nodes["AC-2"]
    assert nodes["AC-2(1)"].oscal_id == "ac-2.1"
    assert "AC-2(1)" in [c.id for c in ac2.controls]
    assert nodes["AC-2(1)"].description == (
        "Support the management of system accounts using "
        "[Assignment: organization-defined automated mechanisms]."
    )
    assert nodes["AC-2(10)"].withdrawn and nodes["AC-2(10)"].description == ""
    ac1 = nodes["AC-1"].description.splitlines()
    assert ac1[0] == (
        "a. Develop, document, and disseminate to "
        "[Assignment: organization-defined personnel or roles]:"
    )
    assert ac1[1].startswith(
        "1. [Selection (one or more): Organization-level; Mission/business process-level; "
        "System-level] access control policy that:"
    )
    assert ac1[2].startswith("(a) Addresses purpose, scope")
    # nested selections and markdown links become plain text
    assert "[Assignment: organization-defined time period]; lock the account" in (
        nodes["AC-7"].description
    )
    linked = [e.id for e in nodes.values() if "as defined in AU-2a on" in e.description]
    assert linked == ["AU-12"]  # "[AU-2a](#au-2_smt.a)" in the file
    assert all("{{" not in e.description and "](" not in e.description for e in nodes.values())
    assert nodes["AC-11(1)"].description.startswith("Conceal, via the device lock,")
    assert nodes["AC-1"].properties == {"sort-id": "ac-01"}
    assert nodes["PM"].description.startswith("FISMA, PRIVACT, and OMB A-130 require")


@pytest.mark.parametrize(
    ("level", "count"), [("LOW", 149), ("MODERATE", 287), ("HIGH", 370), ("PRIVACY", 102)]
)
def test_5_1_1_resolved_catalogs_read(reference_dir: Path, level: str, count: int) -> None:
    folder = reference_dir / BASELINES
    path = next(folder.glob(f"NIST_SP-800-53_rev5_{level}-baseline-resolved-profile_catalog*"))
    doc = read_catalog(path.read_bytes(), path.name)
    raw = json.loads(path.read_text(encoding="utf-8"))["catalog"]
    expected = [
        (oid, label)
        for group in raw["groups"]
        for oid, label, *_ in _raw_controls(group.get("controls", []), None)
    ]
    nodes = [(e.oscal_id, e.id) for d, e in walk(doc.controls) if d > 0]
    assert nodes == expected
    assert len(nodes) == count  # PRIVACY keeps 6 parents of selected enhancements
    assert doc.version == "5.1.1+u4"
    labels = [label for _, label in nodes]
    assert "AC-1" in labels and not any(label.startswith("AC-01") for label in labels)
    ac1 = next(e for _, e in walk(doc.controls) if e.id == "AC-1")
    assert "[Assignment: organization-defined personnel or roles]" in ac1.description


def test_csf2_xml_catalog(csf2: FrameworkDocument) -> None:
    nodes = [entry for _, entry in walk(csf2.controls)]
    counts = collections.Counter((e.kind, e.withdrawn) for e in nodes)
    assert counts == {
        ("function", False): 6,
        ("category", False): 22,
        ("category", True): 12,
        ("subcategory", False): 106,
        ("subcategory", True): 79,
    }
    by_id = {e.id: e for e in nodes}
    assert [e.id for e in csf2.controls] == ["GV", "ID", "PR", "DE", "RS", "RC"]
    assert by_id["GV"].title == "GOVERN"
    assert by_id["GV.OC"].oscal_id == "GV.OC"
    assert by_id["GV.OC-01"].description == (
        "The organizational mission is understood and informs cybersecurity risk management"
    )
    withdrawn_categories = sorted(e.id for e in nodes if e.kind == "category" and e.withdrawn)
    assert withdrawn_categories == sorted(WITHDRAWN_CSF_CATEGORIES)
    assert by_id["ID.AM-06"].withdrawn and by_id["ID.BE-01"].withdrawn
    assert not by_id["ID.AM-01"].withdrawn
    assert csf2.levels == ["function", "category", "subcategory"]
    assert csf2.name == "NIST Cybersecurity Framework 2.0"
    assert csf2.publisher == "National Institute of Standards and Technology"
