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
