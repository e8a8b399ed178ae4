"""Drift between two audit runs: which checks changed status. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    check_id: str
    before: str | None  # None: the check was not in the first run
    after: str | None  # None: the check is not in the second run

    @property
    def kind(self) -> str:
        """fixed, broke, appeared, disappeared or changed."""
        if self.before is None:
            return "appeared"
        if self.after is None:
            return "disappeared"
        if self.after == "pass" and self.before != "pass":
            return "fixed"
        if self.after == "fail" and self.before != "fail":
            return "broke"
        return "changed"


def diff(before: Mapping[str, str], after: Mapping[str, str]) -> list[Change]:
    """Changes from `before` to `after` (check id -> status), regressions first, then by id."""
    changes = [
        Change(check_id, before.get(check_id), after.get(check_id))
        for check_id in sorted(set(before) | set(after))
        if before.get(check_id) != after.get(check_id)
    ]
    order = {"broke": 0, "fixed": 1, "changed": 2, "appeared": 3, "disappeared": 4}
    return sorted(changes, key=lambda c: (order[c.kind], c.check_id))


def summary(changes: list[Change]) -> dict[str, int]:
    counts = {"broke": 0, "fixed": 0, "changed": 0, "appeared": 0, "disappeared": 0}
    for change in changes:
        counts[change.kind] += 1
    return counts
