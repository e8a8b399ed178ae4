"""A finished audit run as it travels: from the runner to storage, or from an agent to the
server's API (`assay audit host --submit URL`). Validated like any other input: an agent is
trusted to say what it saw, never to make the server store something malformed or huge.

The digest is computed here, over the canonical JSON of the results, the same way the runner
computes it; the server always recomputes it rather than trusting a submitted one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

if TYPE_CHECKING:
    from assay.audit.runner import AuditRun

MAX_RESULTS = 5000
MAX_TEXT = 4000

Short = Annotated[str, StringConstraints(max_length=300)]
Long = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
CheckIdText = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=120)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubmittedLocation(_Strict):
    path: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    line: Annotated[int, Field(ge=1)] | None = None


class SubmittedResult(_Strict):
    id: CheckIdText
    area: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    severity: Literal["info", "low", "medium", "high", "critical"]
    status: Literal["pass", "fail", "not_applicable", "error"]
    observed: Long = ""
    expected: Long = ""
    reason: Long = ""
    locations: Annotated[list[SubmittedLocation], Field(max_length=50)] = []
    duration_ms: Annotated[float, Field(ge=0)] | None = None

    def canonical(self) -> dict[str, Any]:
        """The fields the digest covers (everything but timing)."""
        return self.model_dump(exclude={"duration_ms"})


class SubmittedRun(_Strict):
    target: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    started_at: datetime
    seconds: Annotated[float, Field(ge=0, le=7 * 24 * 3600)]
    results: Annotated[list[SubmittedResult], Field(min_length=1, max_length=MAX_RESULTS)]
    # Sent by the runner; ignored here (see `digest`), accepted so that `--json` output posts.
    digest: Short | None = None
    summary: dict[str, Any] | None = None
    walk: dict[str, Any] | None = None

    @field_validator("results")
    @classmethod
    def _unique_ids(cls, results: list[SubmittedResult]) -> list[SubmittedResult]:
        seen: set[str] = set()
        for result in results:
            if result.id in seen:
                raise ValueError(f"check {result.id} appears twice")
            seen.add(result.id)
        return results

    @field_validator("started_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("started_at needs a time zone (e.g. 2026-11-27T10:00:00+00:00)")
        return value

    @property
    def results_digest(self) -> str:
        return digest_of([r.canonical() for r in self.results])

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @classmethod
    def from_run(cls, run: AuditRun) -> SubmittedRun:
        return cls.model_validate(run.to_dict())


def digest_of(results: list[dict[str, Any]]) -> str:
    """SHA-256 over the canonical JSON of results sorted by check id."""
    items = sorted(results, key=lambda r: str(r["id"]))
    canonical = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
