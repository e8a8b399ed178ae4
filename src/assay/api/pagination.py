"""Pagination shared by every list endpoint: `limit`/`offset` in, an envelope with `total` out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 2_147_483_647  # keeps OFFSET within what every database accepts

Item = TypeVar("Item", bound=BaseModel)
Row = TypeVar("Row")


@dataclass(frozen=True)
class PageRequest:
    """Which slice of a list the caller asked for."""

    limit: int
    offset: int


def page_request(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1-200).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Items to skip before the page.")
    ] = 0,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


PageQuery = Annotated[PageRequest, Depends(page_request)]


class Page(BaseModel, Generic[Item]):
    """One page of a list, with the number of items in the whole list."""

    items: list[Item]
    total: int
    limit: int
    offset: int


def page_of(
    model: type[Item], items: Iterable[Item], total: int, request: PageRequest
) -> Page[Item]:
    """Wrap rendered items (already sliced by the service) in the page envelope of `model`."""
    envelope: type[Page[Item]] = Page[model]  # type: ignore[valid-type]
    return envelope(items=list(items), total=total, limit=request.limit, offset=request.offset)


def slice_list(rows: Sequence[Row], request: PageRequest) -> tuple[list[Row], int]:
    """Paginate a complete list a service returned: (rows of the page, total)."""
    return list(rows[request.offset : request.offset + request.limit]), len(rows)
