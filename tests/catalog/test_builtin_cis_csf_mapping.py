"""The built-in crosswalk from CIS Controls v8.1 safeguards to NIST CSF 2.0 subcategories.

Every safeguard maps to at least one CSF 2.0 subcategory, and every target is an active
CSF 2.0 subcategory: one with implementation examples in NIST's OSCAL catalog (the withdrawn
CSF 1.1 identifiers such as PR.AC-01 carry none) and a `subcategory` of our CSF 2.0 YAML.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from defusedxml import ElementTree

import assay.catalog
from assay.catalog.schema import FrameworkDocument, MappingDocument, walk

CONTENT = Path(assay.catalog.__file__).parent / "content"
MAPPING_YAML = CONTENT / "mappings" / "cis-controls-v8.1--nist-csf-2.0.yaml"
CIS_YAML = CONTENT / "frameworks" / "cis-controls-v8.1.yaml"
CSF_YAML = CONTENT / "frameworks" / "nist-csf-2.0.yaml"
CSF_XML = Path("nist-csf-2") / "NIST_CSF_v2.0_catalog.xml"
OSCAL = "{http://csrc.nist.gov/ns/oscal/1.0}"


def _framework(path: Path) -> FrameworkDocument:
    return FrameworkDocument.model_validate(yaml.safe_load(path.read_text("utf-8")))


@pytest.fixture(scope="module")
def mapping() -> MappingDocument:
    return MappingDocument.model_validate(yaml.safe_load(MAPPING_YAML.read_text("utf-8")))


@pytest.fixture(scope="module")
def safeguards() -> set[str]:
    return {e.id for _, e in walk(_framework(CIS_YAML).controls) if e.kind == "safeguard"}


@pytest.fixture(scope="module")
def active_subcategories(reference_dir: Path) -> set[str]:
    """CSF 2.0 subcategories from NIST's OSCAL catalog that are in force (have examples)."""
    root = ElementTree.parse(reference_dir / CSF_XML).getroot()
    return {
        control.get("id")
        for control in root.iter(f"{OSCAL}control")
        if control.get("class") == "subcategory"
        and any(part.get("name") == "example" for part in control.findall(f"{OSCAL}part"))
    }


def test_header(mapping: MappingDocument) -> None:
    assert mapping.id == "cis-controls-v8.1--nist-csf-2.0"
    assert mapping.source_framework == "cis-controls-v8.1"
    assert mapping.target_framework == "nist-csf-2.0"
    assert mapping.version == "1"
    assert "own analysis" in mapping.notice


def test_sources_are_exactly_the_153_safeguards(
    mapping: MappingDocument, safeguards: set[str]
) -> None:
    assert len(safeguards) == 153
    sources = {m.source for m in mapping.mappings}
    assert sources - safeguards == set()
    assert safeguards - sources == set()


def test_each_safeguard_has_a_few_targets(mapping: MappingDocument) -> None:
    per_source = Counter(m.source for m in mapping.mappings)
    assert all(1 <= n <= 4 for n in per_source.values()), per_source.most_common(3)


def test_targets_are_active_csf_2_subcategories(
    mapping: MappingDocument, active_subcategories: set[str]
) -> None:
    assert len(active_subcategories) == 106
    assert "PR.AC-01" not in active_subcategories  # withdrawn CSF 1.1 identifiers excluded
    unknown = sorted({m.target for m in mapping.mappings} - active_subcategories)
    assert unknown == []


def test_targets_are_subcategories_of_our_csf_catalog(mapping: MappingDocument) -> None:
    assert CSF_YAML.exists(), f"{CSF_YAML} is missing"
    csf = _framework(CSF_YAML)
    assert csf.id == mapping.target_framework
    subcategories = {
        e.id for _, e in walk(csf.controls) if e.kind == "subcategory" and not e.withdrawn
    }
    unknown = sorted({m.target for m in mapping.mappings} - subcategories)
    assert unknown == []
