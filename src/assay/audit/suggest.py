"""From check results to suggested answers: which controls a host audit speaks for, and what
implementation status its results suggest. Pure: no database, no I/O.

A control is suggested from every check that references it (CIS safeguard or CSF subcategory),
over the latest run of each audited asset of the organization. Checks that did not apply or
could not be evaluated say nothing. The suggestion is a claim like any other answer: somebody
must still answer, and an auditor must still verify.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from assay.assess.models import Status

FRAMEWORK_REFERENCES = {"cis-controls-v8.1": "cis", "nist-csf-2.0": "csf"}
# Shares of passing checks at or above which a status is suggested, best first.
THRESHOLDS: tuple[tuple[float, Status], ...] = (
    (1.0, Status.FULLY),
    (0.75, Status.LARGELY),
    (0.25, Status.PARTIALLY),
)


@dataclass(frozen=True)
class Evaluated:
    """One check's result on one asset's latest run."""

    check_id: str
    status: str  # pass, fail, not_applicable, error
    run_id: int
    asset: str


@dataclass
class Suggestion:
    """What the latest audit runs say of one control."""

    control: str
    passed: int = 0
    failed: int = 0
    runs: set[int] = field(default_factory=set)
    failing: list[str] = field(default_factory=list)  # "asset: check id", for people to read

    @property
    def status(self) -> Status:
        return suggested_status(self.passed, self.failed)

    @property
    def evaluated(self) -> int:
        return self.passed + self.failed


def suggested_status(passed: int, failed: int) -> Status:
    """All checks pass: fully; at least three in four: largely; one in four: partially."""
    total = passed + failed
    if total == 0:
        raise ValueError("no evaluated check: nothing to suggest")
    share = passed / total
    for threshold, status in THRESHOLDS:
        if share >= threshold:
            return status
    return Status.NOT_IMPLEMENTED


def controls_of(references: Mapping[str, Iterable[str]], framework_key: str) -> list[str]:
    """The labels a check references in one framework (empty for frameworks checks don't
    reference)."""
    kind = FRAMEWORK_REFERENCES.get(framework_key)
    return list(references.get(kind, ())) if kind else []


def suggest(
    results: Iterable[Evaluated],
    references: Mapping[str, Mapping[str, Iterable[str]]],
    framework_key: str,
) -> dict[str, Suggestion]:
    """Suggestions by control label, from results and each check's references
    (`{check_id: {"cis": [...], "csf": [...]}}`). Checks no longer known are ignored."""
    found: dict[str, Suggestion] = {}
    for result in results:
        if result.status not in ("pass", "fail") or result.check_id not in references:
            continue
        for label in controls_of(references[result.check_id], framework_key):
            entry = found.setdefault(label, Suggestion(label))
            entry.runs.add(result.run_id)
            if result.status == "pass":
                entry.passed += 1
            else:
                entry.failed += 1
                entry.failing.append(f"{result.asset}: {result.check_id}")
    return found
