"""Path and query parameters shared by pages, bounded so the database never sees silly values."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER column holds on every database we support
MAX_PAGE = 100_000

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
