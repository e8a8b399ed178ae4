"""Profiles: reading the selection, resolving it to a baseline of official labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.catalog.oscal import (
    imported_catalog_hint,
    read_catalog,
    read_profile,
    resolve_baseline,
)
from assay.catalog.schema import FrameworkDocument, walk
from assay.errors import InvalidInput

from .conftest import BASELINES
from .samples import CATALOG, OSCAL_NS, PROFILE, dumps, profile

HREF = "#7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"


@pytest.fixture(scope="module")
def example() -> FrameworkDocument:
    return read_catalog(dumps(CATALOG), "example_catalog.json")


def test_read_profile_and_hint() -> None:
    prof = read_profile(dumps(PROFILE), "baseline.json")
    assert prof.title == "Example Baseline" and prof.version == "1.2"
    assert prof.imports[0].include[0].with_ids == ("ex-1", "ex-2")
    assert imported_catalog_hint(prof) == "example_catalog.json (Example Catalog)"


def test_with_ids_select_exactly_those(example: FrameworkDocument) -> None:
    baseline = resolve_baseline(read_profile(dumps(PROFILE), "p.json"), example)
    assert baseline.controls == ["EX-1", "EX-2"]
    assert (baseline.id, baseline.name) == ("example-baseline", "Example Baseline")
    assert (
        resolve_baseline(read_profile(dumps(PROFILE), "p.json"), example, baseline_id="x").id == "x"
    )


def test_with_child_controls_and_exclude(example: FrameworkDocument) -> None:
    data = profile(
        {
            "href": HREF,
            "include-controls": [{"with-ids": ["ex-1"], "with-child-controls": "yes"}],
            "exclude-controls": [{"with-ids": ["ex-1.2"]}],
        }
    )
    baseline = resolve_baseline(read_profile(dumps(data), "p.json"), example)
    assert baseline.controls == ["EX-1", "EX-1(1)"]


def test_include_all_skips_groups(example: FrameworkDocument) -> None:
    data = profile({"href": HREF, "include-all": {}})
    baseline = resolve_baseline(read_profile(dumps(data), "p.json"), example)
    assert baseline.controls == ["EX-1", "EX-1(1)", "EX-1(2)", "EX-2"]


def test_matching_patterns(example: FrameworkDocument) -> None:
    data = profile({"href": HREF, "include-controls": [{"matching": [{"pattern": "ex-1.*"}]}]})
    assert resolve_baseline(read_profile(dumps(data), "p.json"), example).controls == [
        "EX-1(1)",
        "EX-1(2)",
    ]


def test_xml_profile(example: FrameworkDocument) -> None:
    xml = f"""<?xml version="1.0"?>
<profile xmlns="{OSCAL_NS}" uuid="5b2e8a0c-3f4d-4b6e-9c1a-2d3e4f5a6b7c">
  <metadata><title>XML Baseline</title><last-modified>2024-01-01T00:00:00Z</last-modified>
    <version>1</version><oscal-version>1.1.2</oscal-version></metadata>
  <import href="catalogs/example_catalog.xml">
    <include-controls with-child-controls="yes"><with-id>ex-1</with-id></include-controls>
    <exclude-controls><with-id>ex-1.1</with-id></exclude-controls>
  </import>
</profile>"""
    prof = read_profile(xml.encode(), "p.xml")
    assert imported_catalog_hint(prof) == "example_catalog.xml"
    assert resolve_baseline(prof, example).controls == ["EX-1", "EX-1(2)"]


def test_unknown_ids_are_listed(example: FrameworkDocument) -> None:
    ids = ["ex-1", "zz-1", "zz-2", "zz-3", "zz-4", "zz-5", "zz-6"]
    data = profile({"href": HREF, "include-controls": [{"with-ids": ids}]})
    with pytest.raises(InvalidInput) as caught:
        resolve_baseline(read_profile(dumps(data), "p.json"), example)
    assert caught.value.message == (
        "p.json: profile.imports[0].include-controls[0].with-ids[1]: 6 control id(s) selected "
        "by the profile are not in catalog 'Example Catalog' 1.2: zz-1, zz-2, zz-3, zz-4, zz-5 "
        "and 1 more"
    )


def test_unknown_id_in_xml_names_its_line(example: FrameworkDocument) -> None:
    xml = f"""<?xml version="1.0"?>
<profile xmlns="{OSCAL_NS}" uuid="5b2e8a0c-3f4d-4b6e-9c1a-2d3e4f5a6b7c">
  <metadata><title>XML Baseline</title><last-modified>2024-01-01T00:00:00Z</last-modified>
    <version>1</version><oscal-version>1.1.2</oscal-version></metadata>
  <import href="catalogs/example_catalog.xml">
    <include-controls>
      <with-id>ex-1</with-id>
      <with-id>zz-9</with-id>
    </include-controls>
  </import>
</profile>"""
    with pytest.raises(InvalidInput, match=r"^p\.xml: line 8: 1 control id\(s\) .*: zz-9$"):
        resolve_baseline(read_profile(xml.encode(), "p.xml"), example)


def test_bad_profiles_name_the_path() -> None:
    data = profile({"href": "#0b0e6a11-0000-4000-8000-000000000000", "include-all": {}})
    with pytest.raises(InvalidInput, match=r"^p\.json: profile\.imports\[0\]\.href: #0b0e"):
        read_profile(dumps(data), "p.json")
    data = profile({"href": HREF, "include-controls": [{"with-ids": "ex-1"}]})
    with pytest.raises(
        InvalidInput, match=r"^p\.json: profile\.imports\[0\]\.include-controls\[0\]\.with-ids: "
    ):
        read_profile(dumps(data), "p.json")
    data = profile()
    data["profile"]["imports"] = []
    with pytest.raises(InvalidInput, match=r"^p\.json: profile\.imports: the profile imports"):
        read_profile(dumps(data), "p.json")
    with pytest.raises(InvalidInput, match=r"^p\.json: file is empty"):
        read_profile(b"", "p.json")


# --- NIST SP 800-53B baselines (5.1.1 profiles) ----------------------------------------------


def _profile_path(reference_dir: Path, level: str) -> Path:
    return reference_dir / BASELINES / f"NIST_SP-800-53_rev5_{level}-baseline_profile.json"


def _selected_ids(path: Path) -> set[str]:
    """The profile's with-ids, read with plain json (no code under test)."""
    raw = json.loads(path.read_text(encoding="utf-8"))["profile"]
    return {
        control_id
        for imp in raw["imports"]
        for include in imp.get("include-controls", [])
        for control_id in include.get("with-ids", [])
    }


LEVELS = [("LOW", 149), ("MODERATE", 287), ("HIGH", 370), ("PRIVACY", 96)]


@pytest.mark.parametrize(("level", "count"), LEVELS)
def test_baselines_resolve_against_the_5_0_1_catalog(
    reference_dir: Path, sp800_53: FrameworkDocument, level: str, count: int
) -> None:
    path = _profile_path(reference_dir, level)
    expected = _selected_ids(path)
    assert len(expected) == count
    prof = read_profile(path.read_bytes(), path.name)
    assert imported_catalog_hint(prof).startswith("NIST_SP-800-53_rev5_catalog.json (NIST ")
    baseline = resolve_baseline(prof, sp800_53, baseline_id=level.lower())
    oscal_ids = {e.id: e.oscal_id for _, e in walk(sp800_53.controls)}
    assert len(baseline.controls) == count
    assert {oscal_ids[label] for label in baseline.controls} == expected
    # every id the 5.1.1 profiles select exists in 5.0.1, and none of them is withdrawn there
    withdrawn = {e.id for _, e in walk(sp800_53.controls) if e.withdrawn}
    assert not withdrawn & set(baseline.controls)
    order = [e.id for _, e in walk(sp800_53.controls)]
    assert baseline.controls == sorted(baseline.controls, key=order.index)


@pytest.mark.parametrize(("level", "count"), LEVELS)
def test_baselines_resolve_against_their_5_1_1_resolved_catalogs(
    reference_dir: Path, level: str, count: int
) -> None:
    path = _profile_path(reference_dir, level)
    resolved_path = next(
        (reference_dir / BASELINES).glob(
            f"NIST_SP-800-53_rev5_{level}-baseline-resolved-profile_catalog*"
        )
    )
    resolved = read_catalog(resolved_path.read_bytes(), resolved_path.name)
    baseline = resolve_baseline(read_profile(path.read_bytes(), path.name), resolved)
    assert len(baseline.controls) == count
    oscal_ids = {e.id: e.oscal_id for _, e in walk(resolved.controls)}
    assert {oscal_ids[label] for label in baseline.controls} == _selected_ids(path)


def test_a_baseline_can_join_its_framework(
    reference_dir: Path, sp800_53: FrameworkDocument
) -> None:
    path = _profile_path(reference_dir, "LOW")
    baseline = resolve_baseline(
        read_profile(path.read_bytes(), path.name), sp800_53, baseline_id="low"
    )
    doc = sp800_53.model_copy(update={"baselines": [baseline]})
    assert FrameworkDocument.model_validate(doc.model_dump()).baselines[0].controls[:3] == [
        "AC-1",
        "AC-2",
        "AC-3",
    ]
