"""read_mapping: OSCAL 1.2 mapping-collection documents -> MappingDocument."""

from __future__ import annotations

import pytest

from assay.catalog.oscal import read_catalog, read_mapping
from assay.catalog.schema import FrameworkDocument, Relationship
from assay.errors import InvalidInput

from .conftest import Validate
from .samples import CATALOG, CATALOG_XML, dumps, mapping


@pytest.fixture(scope="module")
def example() -> FrameworkDocument:
    return read_catalog(dumps(CATALOG), "example_catalog.json", key="example")


@pytest.fixture(scope="module")
def tiny() -> FrameworkDocument:
    return read_catalog(CATALOG_XML.encode(), "tiny.xml", key="tiny")


def test_the_sample_is_a_valid_oscal_mapping(oscal_validate: Validate) -> None:
    assert oscal_validate("mapping", mapping()) == []


def test_mapping_with_catalogs_uses_official_labels(
    example: FrameworkDocument, tiny: FrameworkDocument
) -> None:
    doc = read_mapping(
        dumps(mapping()), "map.json", source_framework=example, target_framework=tiny
    )
    assert (doc.id, doc.name, doc.version) == ("example-to-tiny", "Example to Tiny", "0.9")
    assert (doc.source_framework, doc.target_framework) == ("example", "tiny")
    assert doc.notice == "oscal-uuid: 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    rows = [(m.source, m.target, m.relationship, m.note) for m in doc.mappings]
    assert rows == [
        ("EX-1", "GV.OC", Relationship.EQUIVALENT, "Same intent."),
        ("EX-1(1)", "GV.OC-01", Relationship.SUBSET_OF, ""),
        ("EX-2", "GV.OC-01", Relationship.SUBSET_OF, ""),
        # two statements of EX-1 (intersects-with, superset-of) merge into one pair
        (
            "EX-1",
            "GV.OC-01",
            Relationship.RELATED,
            "source ex-1_smt.a; source ex-1_smt.b",
        ),
        # an unknown relationship token is "related"; no-relationship maps are skipped
        ("EX-2", "GV", Relationship.RELATED, ""),
    ]


def test_mapping_with_keys_keeps_id_refs() -> None:
    doc = read_mapping(dumps(mapping()), "map.json", source_framework="a", target_framework="b")
    assert doc.mappings[0].source == "ex-1"
    assert ("ex-1_smt.a", "GV.OC-01") in {(m.source, m.target) for m in doc.mappings}


def test_framework_keys_from_the_resources() -> None:
    doc = read_mapping(dumps(mapping()), "map.json", key="m")
    assert (doc.id, doc.source_framework, doc.target_framework) == ("m", "example-catalog", "tiny")


def test_unknown_id_names_the_path(example: FrameworkDocument, tiny: FrameworkDocument) -> None:
    value = mapping()
    value["mapping-collection"]["mappings"][0]["maps"][1]["targets"][0]["id-ref"] = "XX-9"
    with pytest.raises(InvalidInput) as caught:
        read_mapping(dumps(value), "map.json", source_framework=example, target_framework=tiny)
    assert caught.value.message == (
        "map.json: mapping-collection.mappings[0].maps[1].targets[0].id-ref: "
        "XX-9 is not a control of Tiny Framework *2*"
    )


def test_bad_mapping_documents() -> None:
    value = mapping()
    del value["mapping-collection"]["mappings"][0]["maps"][0]["relationship"]
    with pytest.raises(
        InvalidInput, match=r"^m\.json: mapping-collection\.mappings\[0\]\.maps\[0\]\.relationship"
    ):
        read_mapping(dumps(value), "m.json", source_framework="a", target_framework="b")
    with pytest.raises(InvalidInput, match=r"^c\.json: expected an OSCAL mapping-collection"):
        read_mapping(dumps(CATALOG), "c.json", source_framework="a", target_framework="b")
    value = mapping()
    for entry in value["mapping-collection"]["mappings"][0]["maps"]:
        entry["relationship"] = "no-relationship"
    with pytest.raises(InvalidInput, match="no relationships"):
        read_mapping(dumps(value), "m.json", source_framework="a", target_framework="b")
    with pytest.raises(InvalidInput, match=r"^m\.json: line 1 column 2: malformed JSON"):
        read_mapping(b"{,}", "m.json", source_framework="a", target_framework="b")
