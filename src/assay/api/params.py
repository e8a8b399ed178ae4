"""Path parameters shared by the routes, bounded so that no value can overflow a database id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from assay.api.schemas import MAX_SLUG_CHARS

MAX_ID = 2_147_483_647  # the largest integer primary key on every supported database

OrgSlug = Annotated[
    str, Path(min_length=1, max_length=MAX_SLUG_CHARS, description="The organization's slug.")
]
MemberId = Annotated[int, Path(ge=1, le=MAX_ID, description="A membership id.")]
GrantId = Annotated[int, Path(ge=1, le=MAX_ID, description="An auditor grant id.")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="An API token id.")]
AssessmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="An assessment id.")]
OtherAssessmentId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The assessment to compare with (usually later).")
]
AnswerId = Annotated[int, Path(ge=1, le=MAX_ID, description="An answer id.")]
EvidenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="An evidence id.")]
AssetId = Annotated[int, Path(ge=1, le=MAX_ID, description="An asset id.")]
AuditRunId = Annotated[int, Path(ge=1, le=MAX_ID, description="A host audit run id.")]
RiskId = Annotated[int, Path(ge=1, le=MAX_ID, description="A risk id.")]
OtherAuditRunId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The run to compare with (usually later).")
]

# Catalog identifiers are published names (nist-csf-2.0, GV.OC-01, AC-2(1)); anything with a
# control character is rejected before it reaches the database (PostgreSQL refuses NUL).
NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"
MAX_FRAMEWORK_KEY_CHARS = 63
MAX_LABEL_CHARS = 64

FrameworkKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_FRAMEWORK_KEY_CHARS,
        pattern=NO_CONTROL_CHARS,
        description="The framework's key, e.g. `nist-csf-2.0` or `cis-controls-v8.1`.",
    ),
]
ControlLabel = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_LABEL_CHARS,
        pattern=NO_CONTROL_CHARS,
        description="The control's official identifier, e.g. `GV.OC-01`, `1.1`, `AC-2(1)` "
        "(URL-encoded).",
    ),
]
