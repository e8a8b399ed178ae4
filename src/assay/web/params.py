"""Path and query parameters shared by pages, bounded so the database never sees silly values."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER column holds on every database we support
MAX_PAGE = 100_000

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]

# Catalog identifiers (nist-csf-2.0, GV.OC-01, AC-2(1)): bounded, and never a control character
# (PostgreSQL refuses NUL in text), so odd input is a clear 422 rather than a database error.
NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"
MAX_FRAMEWORK_KEY_CHARS = 63
MAX_LABEL_CHARS = 64

FrameworkKey = Annotated[
    str, Path(min_length=1, max_length=MAX_FRAMEWORK_KEY_CHARS, pattern=NO_CONTROL_CHARS)
]
ControlLabel = Annotated[
    str, Path(min_length=1, max_length=MAX_LABEL_CHARS, pattern=NO_CONTROL_CHARS)
]
