"""Shared fixtures: the reference OSCAL files, read once per session, and an OSCAL validator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.catalog.oscal import read_catalog
from assay.catalog.schema import FrameworkDocument

SP800_53 = "nist-800-53-r5/oscal-catalog-5.0.1/NIST_SP-800-53_rev5_catalog.json"
BASELINES = "nist-800-53-r5/oscal-baselines-5.1.1"
CSF2_XML = "nist-csf-2/NIST_CSF_v2.0_catalog.xml"
SCHEMAS = "oscal-schemas/v1.2.3"


@pytest.fixture(scope="session")
def sp800_53_path(reference_dir: Path) -> Path:
    return reference_dir / SP800_53


@pytest.fixture(scope="session")
def sp800_53(sp800_53_path: Path) -> FrameworkDocument:
    return read_catalog(sp800_53_path.read_bytes(), sp800_53_path.name, key="nist-sp-800-53-r5")


@pytest.fixture(scope="session")
def sp800_53_raw(sp800_53_path: Path) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(sp800_53_path.read_text(encoding="utf-8"))
    return raw


@pytest.fixture(scope="session")
def csf2(reference_dir: Path) -> FrameworkDocument:
    path = reference_dir / CSF2_XML
    return read_catalog(path.read_bytes(), path.name, key="nist-csf-2.0")


Validate = Callable[[str, Any], list[str]]


@pytest.fixture
def oscal_validate(reference_dir: Path) -> Iterator[Validate]:
    """validate(model, instance) -> error messages against the official OSCAL v1.2.3 schema.

    The schemas use `\\p{L}`-style patterns that Python's `re` rejects, so jsonschema's keyword
    module is pointed at the `regex` module for the duration of the test only.
    """
    import jsonschema
    import jsonschema._keywords
    import regex

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonschema._keywords, "re", regex)

        def validate(model: str, instance: Any) -> list[str]:
            schema_path = reference_dir / SCHEMAS / f"oscal_{model}_schema.json"
            schema = json.loads(schema_path.read_text(encoding="utf-8"))
            validator = jsonschema.validators.validator_for(schema)(schema)
            return [
                f"{error.json_path}: {error.message[:200]}"
                for error in validator.iter_errors(instance)
            ]

        yield validate
