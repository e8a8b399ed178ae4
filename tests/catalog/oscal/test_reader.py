"""read_catalog on small hand-written OSCAL catalogs, JSON and XML, and on bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assay.catalog.oscal import oscal_uuid, read_catalog, read_profile
from assay.catalog.oscal.inputs import derive_key
from assay.catalog.schema import ControlEntry, FrameworkDocument, walk
from assay.errors import InvalidInput

from .samples import CATALOG, CATALOG_XML, EX_1_DESCRIPTION, PROFILE, catalog, dumps


def _by_id(doc: FrameworkDocument) -> dict[str, ControlEntry]:
    return {entry.id: entry for _, entry in walk(doc.controls)}


def test_json_catalog_maps_to_a_framework() -> None:
    doc = read_catalog(dumps(CATALOG), "example.json")
    assert (doc.id, doc.name, doc.version) == ("example-catalog", "Example Catalog", "1.2")
    assert doc.publisher == "Example Org"
    assert doc.source == "example.json"
    assert oscal_uuid(doc) == "0f7b4b4e-4d7c-4c55-9a50-8c0fa0b0e6a1"
    assert doc.levels == ["family", "control", "enhancement"]
    assert [(d, e.id) for d, e in walk(doc.controls)] == [
        (0, "EX"),
        (1, "EX-1"),
        (2, "EX-1(1)"),
        (2, "EX-1(2)"),
        (1, "EX-2"),
    ]
    nodes = _by_id(doc)
    family, ex1 = nodes["EX"], nodes["EX-1"]
    assert (family.kind, family.oscal_id, family.title) == ("family", "ex", "Example Family")
    assert (ex1.kind, ex1.oscal_id, ex1.title) == ("control", "ex-1", "First Control")
    assert ex1.description == EX_1_DESCRIPTION
    assert ex1.properties == {"sort-id": "ex-01"}
    assert nodes["EX-1(1)"].kind == "enhancement"
    assert nodes["EX-1(1)"].description == "Use [Assignment: nowhere_prm]."
    assert nodes["EX-1(2)"].withdrawn and not ex1.withdrawn
    assert nodes["EX-2"].kind == "control" and nodes["EX-2"].description == ""


def test_key_argument_wins() -> None:
    assert read_catalog(dumps(CATALOG), "e.json", key="my-key").id == "my-key"
    with pytest.raises(InvalidInput, match="invalid framework key 'Bad Key'"):
        read_catalog(dumps(CATALOG), "e.json", key="Bad Key")


def test_derived_key_leaves_the_version_out_and_fits() -> None:
    long = catalog()
    long["catalog"]["metadata"]["title"] = "A Very Long Title " * 10
    long["catalog"]["metadata"]["version"] = "5.1.1+u4"
    doc = read_catalog(dumps(long), "long.json")
    assert len(doc.id) <= 63
    assert doc.id.startswith("a-very-long-title-a-very") and "5" not in doc.id


@pytest.mark.parametrize(
    ("title", "version"),
    [
        ("NIST Special Publication 800-53 Revision 5: Security and Privacy Controls", "5.0.1"),
        ("NIST Special Publication 800-53 Revision 5.1.1: Security and Privacy Controls", "5.1.1"),
        ("NIST Special Publication 800-53 Revision 5.2.0", "5.2.0+u1"),
    ],
)
def test_every_release_of_a_catalog_gets_the_same_key(title: str, version: str) -> None:
    value = catalog()
    value["catalog"]["metadata"].update(title=title, version=version)
    assert read_catalog(dumps(value), "c.json").id == "nist-special-publication-800-53-revision-5"


def test_a_release_number_that_is_not_the_version_stays() -> None:
    assert derive_key("NIST Cybersecurity Framework 2.0", "1.0.0") == (
        "nist-cybersecurity-framework-2.0"
    )
    assert derive_key("Example Catalog", "1.2") == "example-catalog"


def test_xml_catalog_reads_like_json() -> None:
    doc = read_catalog(CATALOG_XML.encode(), "tiny.xml")
    assert (doc.name, doc.version, doc.publisher) == (
        "Tiny Framework *2*",
        "2.0",
        "Example Publisher",
    )
    assert doc.levels == ["function", "category", "subcategory"]
    nodes = _by_id(doc)
    assert list(nodes) == ["GV", "GV.OC", "GV.OC-01"]  # "GOVERN (GV)" unwrapped to GV
    assert nodes["GV"].description == "The organization's strategy is established"
    assert nodes["GV.OC"].description == (
        "The circumstances are understood within "
        "[Assignment: organization-defined context] *as is*\n\nSecond paragraph."
    )
    assert nodes["GV.OC-01"].withdrawn


def test_controls_without_groups_and_labels_fall_back_to_ids() -> None:
    value = catalog(
        groups=None,
        controls=[{"id": "c-1", "class": "safeguard-ish", "title": "One"}],
    )
    del value["catalog"]["groups"]
    doc = read_catalog(dumps(value), "flat.json")
    assert [(e.id, e.kind) for e in doc.controls] == [("C-1", "safeguard-ish")]
    assert doc.levels == ["safeguard-ish"]


def test_utf8_bom_is_accepted() -> None:
    assert read_catalog(b"\xef\xbb\xbf" + dumps(CATALOG), "bom.json").name == "Example Catalog"


# --- bad input: each is an InvalidInput naming the file and the place ---------------------------


def _error(data: bytes, name: str = "bad.json", **kwargs: Any) -> str:
    with pytest.raises(InvalidInput) as caught:
        read_catalog(data, name, **kwargs)
    message = caught.value.message
    assert message.startswith(f"{name}: ")
    assert "\n" not in message
    return message


def test_malformed_json_names_line_and_column() -> None:
    message = _error(b'{"catalog": {\n  "uuid": "x",\n  "metadata": }\n}')
    assert message.startswith("bad.json: line 3 column 15: malformed JSON: ")


def test_malformed_xml_names_the_line() -> None:
    data = f'<catalog xmlns="{"http://csrc.nist.gov/ns/oscal/1.0"}">\n<metadata>\n</catalog>'
    assert _error(data.encode(), "bad.xml").startswith("bad.xml: line 3: malformed XML:")


def test_xxe_in_a_catalog_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE catalog [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b'<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0"><metadata><title>&x;</title>'
        b"</metadata></catalog>"
    )
    assert "line 2: XML with a DOCTYPE" in _error(data, "xxe.xml")


def test_profile_given_to_read_catalog() -> None:
    assert _error(dumps(PROFILE), "p.json") == (
        "p.json: expected an OSCAL catalog, but the file is a profile"
    )


def test_ssp_in_xml_given_to_read_catalog() -> None:
    data = b'<system-security-plan xmlns="http://csrc.nist.gov/ns/oscal/1.0"/>'
    assert _error(data, "ssp.xml").endswith("but the file is a system security plan")


def test_catalog_given_to_read_profile() -> None:
    with pytest.raises(InvalidInput, match=r"^c\.json: expected an OSCAL profile, but the file"):
        read_profile(dumps(CATALOG), "c.json")


def test_not_oscal() -> None:
    assert "unknown top-level key 'foo'" in _error(b'{"foo": {}}')
    assert "not in the OSCAL namespace" in _error(b"<catalog/>", "plain.xml")
    assert "expected JSON or XML" in _error(b"catalog: yes", "c.yaml")


def test_duplicate_control_ids_name_the_path() -> None:
    value = catalog()
    controls = value["catalog"]["groups"][0]["controls"]
    controls[1]["id"] = "ex-1"
    message = _error(dumps(value))
    assert message == (
        "bad.json: catalog.groups[0].controls[1]: duplicate id ex-1 "
        "(first at catalog.groups[0].controls[0])"
    )


def test_duplicate_labels_name_the_xml_line() -> None:
    data = CATALOG_XML.replace('value="GV.OC-01"', 'value="GV.OC"').encode()
    message = _error(data, "dup.xml")
    assert message.startswith("dup.xml: line 29: duplicate control label GV.OC (first at line 20)")


def test_missing_title_and_wrong_types_name_the_path() -> None:
    value = catalog()
    del value["catalog"]["groups"][0]["controls"][1]["title"]
    assert _error(dumps(value)) == "bad.json: catalog.groups[0].controls[1].title: missing title"
    value = catalog()
    value["catalog"]["groups"][0]["controls"] = {"id": "x"}
    assert _error(dumps(value)) == "bad.json: catalog.groups[0].controls: must be a list"
    value = catalog()
    del value["catalog"]["metadata"]["version"]
    assert _error(dumps(value)) == "bad.json: catalog.metadata.version: missing version"


def test_label_too_long() -> None:
    value = catalog()
    value["catalog"]["groups"][0]["controls"][1]["props"] = [{"name": "label", "value": "X" * 65}]
    assert "catalog.groups[0].controls[1]: label" in _error(dumps(value))


def test_empty_catalog() -> None:
    value = catalog()
    del value["catalog"]["groups"]
    assert _error(dumps(value)) == "bad.json: catalog: the catalog has no groups or controls"


@pytest.mark.parametrize("data", [b"", b"\n  \n"])
def test_empty_file(data: bytes) -> None:
    assert _error(data) == "bad.json: file is empty"


def test_utf16_json() -> None:
    data = json.dumps(CATALOG).encode("utf-16")
    assert _error(data) == "bad.json: file is encoded as UTF-16; save it as UTF-8"
    assert "UTF-16" in _error(json.dumps(CATALOG).encode("utf-16-le"))


def test_latin1_json_names_the_line() -> None:
    value = catalog()
    value["catalog"]["metadata"]["title"] = "Catalogue de sécurité"
    data = json.dumps(value, indent=1, ensure_ascii=False).encode("latin-1")
    message = _error(data)
    assert message.startswith("bad.json: line 5: not valid UTF-8 (byte 0xe9")


def test_size_cap() -> None:
    data = dumps(CATALOG)
    assert _error(data, max_bytes=1000).startswith("bad.json: file too large: ")
    assert "limit 1000 bytes" in _error(data, max_bytes=1000)


def test_absurd_nesting_is_refused_not_a_crash() -> None:
    inner: dict[str, Any] = {"id": "c-0", "title": "deep"}
    for depth in range(1, 400):
        inner = {"id": f"c-{depth}", "title": "deep", "controls": [inner]}
    value = catalog(groups=[{"id": "g", "title": "G", "controls": [inner]}])
    message = _error(dumps(value))
    assert "controls nested more than 32 levels deep" in message
    assert message.startswith("bad.json: catalog.groups[0]" + ".controls[0]" * 32 + ": ")
