"""Running checks on a target: applicability, probes (each file parsed once per run),
expectations; one result per check, whatever happens to the others.

A result is `pass`, `fail`, `not_applicable` (always with the reason) or `error` (the target
could not be read, or a probe could not tell; `reason` says why). An unexpected exception in a
probe is an `error` whose reason starts with `internal error:`, never a crash of the run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from assay.audit.expect import describe, problems
from assay.audit.probes import run_probe
from assay.audit.probes.base import Context, Location, NotApplicable, Observation, ProbeError
from assay.audit.probes.packages import installed, package_db
from assay.audit.schema import Applicability, Check, Severity
from assay.audit.source import FileSource, SourceError

# Results travel (storage, agents posting to the API): bound what one result can carry.
MAX_OBSERVED = 3000
MAX_LOCATIONS = 50

Status = Literal["pass", "fail", "not_applicable", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "not_applicable", "error")
INTERNAL = "internal error: "


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    area: str
    title: str
    severity: Severity
    status: Status
    observed: str = ""
    expected: str = ""
    locations: tuple[Location, ...] = ()
    reason: str = ""
    duration_ms: float = 0.0

    def to_dict(self, *, timing: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.check_id,
            "area": self.area,
            "title": self.title,
            "severity": self.severity.value,
            "status": self.status,
            "observed": self.observed,
            "expected": self.expected,
            "locations": [loc.to_dict() for loc in self.locations],
            "reason": self.reason,
        }
        if timing:
            data["duration_ms"] = round(self.duration_ms, 3)
        return data


@dataclass(frozen=True)
class AuditRun:
    target: str
    started_at: datetime
    seconds: float
    results: tuple[CheckResult, ...]
    walk: dict[str, Any] | None = field(default=None)

    def summary(self) -> dict[str, Any]:
        """Counts by status, and failed checks by severity."""
        by_status = Counter(r.status for r in self.results)
        failed = Counter(r.severity.value for r in self.results if r.status == "fail")
        return {
            "checks": len(self.results),
            "by_status": {s: by_status.get(s, 0) for s in STATUSES},
            "failed_by_severity": {s.value: failed.get(s.value, 0) for s in Severity},
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the results (ids, statuses, observations; not
        timings): two runs that saw the same things have the same digest."""
        items = sorted((r.to_dict(timing=False) for r in self.results), key=lambda r: r["id"])
        canonical = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def failed_at_or_above(self, severity: Severity) -> list[CheckResult]:
        return [r for r in self.results if r.status == "fail" and r.severity.rank >= severity.rank]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
            "digest": self.digest,
            "walk": self.walk,
            "results": [r.to_dict() for r in self.results],
        }


def _applies(ctx: Context, condition: Applicability) -> str | None:
    """None when the condition holds, else the reason the check does not apply."""
    if condition.path_exists is not None and not any(ctx.glob(p) for p in condition.path_exists):
        paths = condition.path_exists
        return (
            f"{paths[0]} does not exist"
            if len(paths) == 1
            else f"none of {', '.join(paths)} exists"
        )
    if condition.package_installed is not None:
        package_db(ctx)  # NotApplicable when the target has no package database
        if not installed(ctx, condition.package_installed):
            return f"{' or '.join(condition.package_installed)} is not installed"
    return None


def _result(check: Check, status: Status, started: float, **fields: Any) -> CheckResult:
    return CheckResult(
        check.id,
        check.area,
        check.title,
        check.severity,
        status,
        duration_ms=(time.perf_counter() - started) * 1000,
        **fields,
    )


def run_check(ctx: Context, check: Check) -> CheckResult:
    """One check on the context's target; never raises."""
    started = time.perf_counter()
    expected = describe(check.expect)
    try:
        for condition in check.applies_if:
            reason = _applies(ctx, condition)
            if reason:
                return _result(check, "not_applicable", started, reason=reason, expected=expected)
        observation: Observation = run_probe(ctx, check.probe)
    except NotApplicable as exc:
        return _result(check, "not_applicable", started, reason=str(exc), expected=expected)
    except (SourceError, ProbeError) as exc:
        return _result(check, "error", started, reason=str(exc), expected=expected)
    except Exception as exc:  # one broken probe must not stop the audit
        reason = f"{INTERNAL}{type(exc).__name__}: {exc}"
        return _result(check, "error", started, reason=reason, expected=expected)
    found = problems(check.expect, observation.value)
    for other in observation.also:
        found.extend(problems(check.expect, other))
    observed = observation.observed
    if found:
        observed += " — " + "; ".join(dict.fromkeys(found))
    if len(observed) > MAX_OBSERVED:
        observed = observed[: MAX_OBSERVED - 1] + "…"
    return _result(
        check,
        "fail" if found else "pass",
        started,
        observed=observed,
        expected=expected,
        locations=observation.locations[:MAX_LOCATIONS],
    )


def run(
    source: FileSource,
    checks: Iterable[Check],
    *,
    on_result: Callable[[CheckResult], None] | None = None,
) -> AuditRun:
    """Every check on one target, in order; `on_result` is called after each one."""
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    ctx = Context(source)
    # A source may say up front that it cannot be audited at all (RootSource: the root does
    # not exist): then every check is an error with that reason, rather than "absent".
    problem: str | None = getattr(source, "problem", None)
    results = []
    for check in checks:
        if problem:
            result = _result(check, "error", time.perf_counter(), reason=problem)
        else:
            result = run_check(ctx, check)
        results.append(result)
        if on_result is not None:
            on_result(result)
    walk = ctx.peek(("walk",))
    walk_info = (
        {"entries": walk.walked, "seconds": round(walk.seconds, 3)} if walk is not None else None
    )
    return AuditRun(
        source.description, started_at, time.perf_counter() - started, tuple(results), walk_info
    )
