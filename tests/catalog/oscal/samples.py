"""Small hand-written OSCAL documents for the importer tests."""

from __future__ import annotations

import copy
import json
from typing import Any

OSCAL_NS = "http://csrc.nist.gov/ns/oscal/1.0"
META = {
    "title": "Example Catalog",
    "last-modified": "2024-01-01T00:00:00Z",
    "version": "1.2",
    "oscal-version": "1.1.2",
}
PARTY = "4b3e5f2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

CATALOG: dict[str, Any] = {
    "catalog": {
        "uuid": "0f7b4b4e-4d7c-4c55-9a50-8c0fa0b0e6a1",
        "metadata": {
            **META,
            "roles": [{"id": "creator", "title": "Creator"}],
            "parties": [{"uuid": PARTY, "type": "organization", "name": "Example Org"}],
            "responsible-parties": [{"role-id": "creator", "party-uuids": [PARTY]}],
        },
        "groups": [
            {
                "id": "ex",
                "class": "family",
                "title": "Example Family",
                "controls": [
                    {
                        "id": "ex-1",
                        "class": "SP800-53",
                        "title": "First *Control*",
                        "params": [
                            {"id": "ex-1_prm_1", "label": "organization-defined frequency"},
                            {
                                "id": "ex-1_prm_2",
                                "select": {
                                    "how-many": "one-or-more",
                                    "choice": ["daily", "every {{ insert: param, ex-1_prm_1 }}"],
                                },
                            },
                        ],
                        "props": [
                            {"name": "label", "value": "EX-1"},
                            {"name": "sort-id", "value": "ex-01"},
                            {"name": "extra", "value": "ignored"},
                        ],
                        "parts": [
                            {
                                "id": "ex-1_smt",
                                "name": "statement",
                                "parts": [
                                    {
                                        "id": "ex-1_smt.a",
                                        "name": "item",
                                        "props": [{"name": "label", "value": "a."}],
                                        "prose": "Review the [policy](#ex-2)  "
                                        "{{ insert: param, ex-1_prm_1 }};",
                                    },
                                    {
                                        "id": "ex-1_smt.b",
                                        "name": "item",
                                        "props": [{"name": "label", "value": "b."}],
                                        "prose": "Report {{ insert: param, ex-1_prm_2 }}.",
                                    },
                                ],
                            },
                            {"id": "ex-1_gdn", "name": "guidance", "prose": "Not described."},
                        ],
                        "controls": [
                            {
                                "id": "ex-1.1",
                                "class": "SP800-53-enhancement",
                                "title": "Enhanced",
                                "props": [{"name": "label", "value": "EX-1(1)"}],
                                "parts": [
                                    {
                                        "id": "ex-1.1_smt",
                                        "name": "statement",
                                        "prose": "Use {{ insert: param, nowhere_prm }}.",
                                    }
                                ],
                            },
                            {
                                "id": "ex-1.2",
                                "class": "SP800-53-enhancement",
                                "title": "Old",
                                "props": [
                                    {"name": "label", "value": "EX-1(2)"},
                                    {"name": "status", "value": "withdrawn"},
                                ],
                            },
                        ],
                    },
                    {"id": "ex-2", "title": "No label"},
                ],
            }
        ],
    }
}

EX_1_DESCRIPTION = (
    "a. Review the policy [Assignment: organization-defined frequency];\n"
    "b. Report [Selection (one or more): daily; every "
    "[Assignment: organization-defined frequency]]."
)


def catalog(**changes: Any) -> dict[str, Any]:
    """A deep copy of CATALOG (changes applied to the catalog object)."""
    value = copy.deepcopy(CATALOG)
    value["catalog"].update(changes)
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(value, indent=1).encode()


CATALOG_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root is fine -->
<catalog xmlns="{OSCAL_NS}" uuid="720a010b-253c-4a94-bb65-cb58400966f5">
  <metadata>
    <title>Tiny <em>Framework</em> *2*</title>
    <last-modified>2024-01-01T00:00:00Z</last-modified>
    <version>2.0</version>
    <oscal-version>1.1.3</oscal-version>
    <role id="publisher"><title>Publisher</title></role>
    <party uuid="{PARTY}" type="organization"><name>Example Publisher</name></party>
    <responsible-party role-id="publisher"><party-uuid>{PARTY}</party-uuid></responsible-party>
  </metadata>
  <group id="GV" class="function">
    <title>GOVERN</title>
    <prop name="label" value="GOVERN (GV)"/>
    <part id="GV_overview" name="overview">
      <p>The organization's strategy
         is established</p>
    </part>
    <control id="GV.OC" class="category">
      <title>Organizational Context</title>
      <param id="gv.oc_prm_1"><label>organization-defined <em>context</em></label></param>
      <prop name="label" value="Organizational Context (GV.OC)"/>
      <part id="GV.OC_statement" name="statement">
        <p>The circumstances are <strong>understood</strong> within
           <insert type="param" id-ref="gv.oc_prm_1"/> *as is*</p>
        <p>Second paragraph.</p>
      </part>
      <control id="GV.OC-01" class="subcategory">
        <title>GV.OC-01</title>
        <prop name="label" value="GV.OC-01"/>
        <prop name="status" value="withdrawn"/>
        <part id="GV.OC-01_statement" name="statement"><p>Mission is understood</p></part>
      </control>
    </control>
  </group>
</catalog>
"""

PROFILE: dict[str, Any] = {
    "profile": {
        "uuid": "5b2e8a0c-3f4d-4b6e-9c1a-2d3e4f5a6b7c",
        "metadata": {**META, "title": "Example Baseline"},
        "imports": [
            {
                "href": "#7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                "include-controls": [{"with-ids": ["ex-1", "ex-2"]}],
            }
        ],
        "merge": {"as-is": True},
        "back-matter": {
            "resources": [
                {
                    "uuid": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                    "title": "Example Catalog",
                    "rlinks": [
                        {"href": "../xml/example_catalog.xml", "media-type": "application/xml"},
                        {"href": "../json/example_catalog.json", "media-type": "application/json"},
                    ],
                }
            ]
        },
    }
}


def profile(*imports: dict[str, Any]) -> dict[str, Any]:
    value = copy.deepcopy(PROFILE)
    if imports:
        value["profile"]["imports"] = list(imports)
    return value


MAPPING: dict[str, Any] = {
    "mapping-collection": {
        "uuid": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "metadata": {**META, "title": "Example to Tiny", "version": "0.9"},
        "provenance": {
            "method": "human",
            "matching-rationale": "semantic",
            "status": "complete",
            "mapping-description": "Hand-written test mapping.",
        },
        "mappings": [
            {
                "uuid": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                "source-resource": {"type": "catalog", "href": "catalogs/example_catalog.json"},
                "target-resource": {"type": "catalog", "href": "catalogs/tiny.xml"},
                "maps": [
                    {
                        "uuid": "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f",
                        "relationship": "equivalent-to",
                        "sources": [{"type": "control", "id-ref": "ex-1"}],
                        "targets": [{"type": "control", "id-ref": "GV.OC"}],
                        "remarks": "Same *intent*.",
                    },
                    {
                        "uuid": "4d5e6f7a-8b9c-4d0e-9f2a-3b4c5d6e7f8a",
                        "relationship": "subset-of",
                        "sources": [
                            {"type": "control", "id-ref": "ex-1.1"},
                            {"type": "control", "id-ref": "ex-2"},
                        ],
                        "targets": [{"type": "control", "id-ref": "GV.OC-01"}],
                    },
                    {
                        "uuid": "5e6f7a8b-9c0d-4e1f-8a3b-4c5d6e7f8a9b",
                        "relationship": "no-relationship",
                        "sources": [{"type": "control", "id-ref": "ex-1.2"}],
                        "targets": [{"type": "control", "id-ref": "GV"}],
                    },
                    {
                        "uuid": "6f7a8b9c-0d1e-4f2a-9b4c-5d6e7f8a9b0c",
                        "relationship": "intersects-with",
                        "sources": [{"type": "statement", "id-ref": "ex-1_smt.a"}],
                        "targets": [{"type": "control", "id-ref": "GV.OC-01"}],
                    },
                    {
                        "uuid": "7a8b9c0d-1e2f-4a3b-8c5d-6e7f8a9b0c1d",
                        "relationship": "superset-of",
                        "sources": [{"type": "statement", "id-ref": "ex-1_smt.b"}],
                        "targets": [{"type": "control", "id-ref": "GV.OC-01"}],
                    },
                    {
                        "uuid": "8b9c0d1e-2f3a-4b4c-9d6e-7f8a9b0c1d2e",
                        "relationship": "related-to-somehow",
                        "sources": [{"type": "control", "id-ref": "ex-2"}],
                        "targets": [{"type": "control", "id-ref": "GV"}],
                    },
                ],
            }
        ],
    }
}


def mapping() -> dict[str, Any]:
    return copy.deepcopy(MAPPING)
