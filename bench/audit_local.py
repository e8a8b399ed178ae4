"""Time a full host audit of this machine: every built-in check, filesystem walk included.

Measures, in one process:

- `load_s`: importing the audit package and loading (validating) the built-in check files;
- `audit_s`: running every check on the local machine (`LocalSource`), first run and the
  median of `--runs` runs (the first one pays for a cold filesystem cache, if it is cold);
- the shared filesystem walk: its time and the number of entries it looked at;
- peak RSS of the process and the statuses of the results.

Lynis takes about 40 s for its 236 tests on a typical server; the target for Assay is a full
audit under 3 s. Prints and saves JSON to bench/results/audit_local.json. No assertions on time.

    .venv/bin/python bench/audit_local.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"audit_s": 3.0}


def measure(runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    from assay.audit.loader import builtin_checks
    from assay.audit.roots import LocalSource
    from assay.audit.runner import AuditRun, run

    checks = builtin_checks()
    load_s = time.perf_counter() - started
    audits: list[AuditRun] = []
    walls: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        audits.append(run(LocalSource(), checks))
        walls.append(time.perf_counter() - start)
    last = audits[-1]
    walks = [a.walk or {} for a in audits]
    return {
        "checks": len(checks),
        "areas": sorted({c.area for c in checks}),
        "load_s": round(load_s, 3),
        "audit_s": {
            "first": round(walls[0], 3),
            "median": round(statistics.median(walls), 3),
            "min": round(min(walls), 3),
            "max": round(max(walls), 3),
            "runs": runs,
        },
        "walk": {
            "entries": walks[-1].get("entries"),
            "seconds_median": round(statistics.median(w.get("seconds", 0.0) for w in walks), 3),
        },
        "checks_without_walk_ms": round(
            statistics.median(
                (wall - w.get("seconds", 0.0)) * 1000 for wall, w in zip(walls, walks, strict=True)
            ),
            1,
        ),
        "process_wall_s": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "summary": last.summary()["by_status"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="audits to time (default 3)")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "audit_local",
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": TARGETS,
        "local": measure(max(1, args.runs)),
    }
    results["local"]["met"] = {
        "audit_s": results["local"]["audit_s"]["median"] < TARGETS["audit_s"]
    }
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, indent=2)
    print(text)
    out = ROOT / "bench" / "results" / "audit_local.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
