"""Page numbers for long lists."""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 50


@dataclass(frozen=True)
class Pager:
    page: int
    size: int
    total: int

    @staticmethod
    def offset_of(page: int, size: int = PAGE_SIZE) -> int:
        return (page - 1) * size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None
