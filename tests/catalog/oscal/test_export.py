"""export_catalog: valid OSCAL (official v1.2.3 schema), deterministic, and a lossless round trip.

Preserved by `read_catalog(export_catalog(doc))`: every field of the document except `source`
(it becomes the name of the file read) and `baselines` (a baseline is an OSCAL profile).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from assay.catalog.oscal import export_catalog, read_catalog
from assay.catalog.schema import BaselineEntry, ControlEntry, FrameworkDocument, walk

from .conftest import Validate
from .samples import CATALOG_XML

NOT_PRESERVED = {"source", "baselines"}


def _round_trip(doc: FrameworkDocument) -> FrameworkDocument:
    return read_catalog(export_catalog(doc).encode(), "exported.json")


def _same(a: FrameworkDocument, b: FrameworkDocument) -> None:
    assert a.model_dump(exclude=NOT_PRESERVED) == b.model_dump(exclude=NOT_PRESERVED)


def _csf_like() -> FrameworkDocument:
    return FrameworkDocument(
        id="tiny-csf",
        name="Tiny *CSF* [draft](#x)",
        version="2.0",
        content_version="3",
        publisher="Example Publisher",
        source="tiny.yaml",
        notice="Public domain.\nSecond line of the notice.",
        levels=["function", "category", "subcategory"],
        controls=[
            ControlEntry(
                id="GV",
                kind="function",
                title="GOVERN",
                description="Strategy is set.",
                controls=[
                    ControlEntry(
                        id="GV.OC",
                        kind="category",
                        title="Organizational Context",
                        description=(
                            "a. Item with *stars* and a [link](#ac-1) and a back\\slash\n"
                            "  indented line  with  double  spaces\n\n\n"
                            "{{ insert: param, not-a-param }} and [Assignment: kept]"
                        ),
                        properties={
                            "sort-id": "00001.00001",
                            "weight": 3,
                            "ratio": 0.5,
                            "flag": True,
                            "tags": ["a", "b c"],
                            "levels": [1, 2],
                            "empty": "",
                            "multi": "line one\nline two",
                            "1st-party": "yes",
                            "padded": " x ",
                        },
                        controls=[
                            ControlEntry(
                                id="GV.OC-01",
                                kind="subcategory",
                                title="",
                                description="Mission is understood",
                            ),
                            ControlEntry(
                                id="GV.OC-02",
                                oscal_id="GV.OC-02",
                                kind="subcategory",
                                title="Multi\nline   title",
                                withdrawn=True,
                            ),
                        ],
                    )
                ],
            ),
            ControlEntry(id="ID", oscal_id="4.1", kind="2nd-kind", title="IDENTIFY"),
        ],
        baselines=[BaselineEntry(id="core", name="Core", controls=["GV.OC-01"])],
    )


def _cis_like() -> FrameworkDocument:
    return FrameworkDocument(
        id="tiny-cis",
        name="Tiny CIS",
        version="8.1",
        levels=["control", "safeguard"],
        controls=[
            ControlEntry(
                id="1",
                kind="control",
                title="Inventory",
                controls=[
                    ControlEntry(id="1.1", kind="safeguard", title="Detailed inventory"),
                    ControlEntry(id="1.2", oscal_id="dup", kind="safeguard", title="Unauthorized"),
                ],
            ),
            ControlEntry(
                id="2",
                oscal_id="dup",
                kind="control",
                title="Software",
                properties={"ig": [1, 2, 3]},
            ),
        ],
    )


@pytest.mark.parametrize("build", [_csf_like, _cis_like])
def test_round_trip_of_hand_built_documents(build: Any) -> None:
    doc = build()
    back = _round_trip(doc)
    _same(doc, back)
    assert back.source == "exported.json"
    assert back.baselines == []


def test_round_trip_keeps_property_types() -> None:
    back = _round_trip(_csf_like())
    props = next(e for _, e in walk(back.controls) if e.id == "GV.OC").properties
    assert props["weight"] == 3 and type(props["weight"]) is int
    assert props["ratio"] == 0.5 and props["flag"] is True
    assert props["tags"] == ["a", "b c"] and props["levels"] == [1, 2]
    assert props["empty"] == "" and props["multi"] == "line one\nline two"


def test_exported_structure() -> None:
    out = json.loads(export_catalog(_csf_like()))["catalog"]
    assert out["metadata"]["oscal-version"].startswith("1.2")
    group = out["groups"][0]
    assert (group["id"], group["class"], group["title"]) == ("gv", "function", "GOVERN")
    category = group["controls"][0]
    assert category["id"] == "gv.oc"
    props = {(p["name"], p.get("ns")): p for p in category["props"]}
    assert props[("label", None)]["value"] == "GV.OC"
    assert props[("sort-id", None)]["value"] == "00001.00001"
    assert props[("_1st-party", "https://assay.dev/ns/oscal/property")]["value"] == "yes"
    assert props[("weight", "https://assay.dev/ns/oscal/property")]["class"] == "json"
    assert category["parts"][0]["name"] == "statement"
    assert category["parts"][0]["id"] == "gv.oc_smt"
    withdrawn = category["controls"][1]
    assert {"name": "status", "value": "withdrawn"} in withdrawn["props"]
    cis = json.loads(export_catalog(_cis_like()))["catalog"]
    assert "groups" not in cis
    assert [c["id"] for c in cis["controls"]] == ["control-1", "control-2"]
    assert [c["id"] for c in cis["controls"][0]["controls"]] == ["safeguard-1.1", "dup"]


def test_export_is_deterministic() -> None:
    doc = _csf_like()
    assert export_catalog(doc) == export_catalog(doc.model_copy(deep=True))
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    stamped = json.loads(export_catalog(doc, last_modified=when))
    assert stamped["catalog"]["metadata"]["last-modified"] == "2025-01-02T03:04:05+00:00"
    other = doc.model_copy(update={"version": "2.1"})
    assert (
        json.loads(export_catalog(other))["catalog"]["uuid"]
        != json.loads(export_catalog(doc))["catalog"]["uuid"]
    )


@pytest.mark.parametrize("build", [_csf_like, _cis_like])
def test_export_validates_against_the_oscal_schema(build: Any, oscal_validate: Validate) -> None:
    assert oscal_validate("catalog", json.loads(export_catalog(build()))) == []


def test_sp800_53_export_validates_and_round_trips(
    sp800_53: FrameworkDocument, oscal_validate: Validate
) -> None:
    text = export_catalog(sp800_53)
    assert oscal_validate("catalog", json.loads(text)) == []
    back = read_catalog(text.encode(), "exported.json")
    _same(sp800_53, back)
    assert export_catalog(back) == text


def test_csf2_export_validates_and_round_trips(
    csf2: FrameworkDocument, oscal_validate: Validate
) -> None:
    text = export_catalog(csf2)
    assert oscal_validate("catalog", json.loads(text)) == []
    _same(csf2, read_catalog(text.encode(), "exported.json"))


def test_the_validator_catches_a_broken_catalog(oscal_validate: Validate) -> None:
    broken = json.loads(export_catalog(_cis_like()))
    broken["catalog"]["controls"][0]["id"] = "not a token"
    del broken["catalog"]["metadata"]["version"]
    assert len(oscal_validate("catalog", broken)) >= 2


def test_xml_catalog_with_literal_markdown_characters_round_trips() -> None:
    doc = read_catalog(CATALOG_XML.encode(), "tiny.xml")
    assert "*as is*" in doc.controls[0].controls[0].description
    _same(doc, _round_trip(doc))
