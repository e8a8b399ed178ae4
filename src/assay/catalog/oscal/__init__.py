"""OSCAL in and out: catalogs, profiles (baselines) and mapping collections.

Pure domain code: bytes in, `FrameworkDocument` / `BaselineEntry` / `MappingDocument` out (and
a document out as OSCAL JSON). Every bad input raises `assay.errors.InvalidInput` with one line
naming the file and the line (XML) or JSON path where the problem is.
"""

from __future__ import annotations

from datetime import datetime

from assay.catalog.oscal.inputs import DEFAULT_MAX_BYTES
from assay.catalog.oscal.mapping import read_mapping
from assay.catalog.oscal.profile import (
    Profile,
    ProfileImport,
    Selection,
    imported_catalog_hint,
    read_profile,
    resolve_baseline,
)
from assay.catalog.oscal.reader import oscal_uuid, read_catalog
from assay.catalog.oscal.safe_xml import parse_xml
from assay.catalog.schema import FrameworkDocument


def export_catalog(doc: FrameworkDocument, *, last_modified: datetime | None = None) -> str:
    """See `assay.catalog.oscal.export.export_catalog` (imported on first use: compliance-trestle
    takes most of a second to import, and reading needs none of it)."""
    from assay.catalog.oscal.export import export_catalog as export

    return export(doc, last_modified=last_modified)


__all__ = [
    "DEFAULT_MAX_BYTES",
    "Profile",
    "ProfileImport",
    "Selection",
    "export_catalog",
    "imported_catalog_hint",
    "oscal_uuid",
    "parse_xml",
    "read_catalog",
    "read_mapping",
    "read_profile",
    "resolve_baseline",
]
