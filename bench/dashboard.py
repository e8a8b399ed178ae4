"""Time the web pages an MSP opens first, with 1,000 clients in the database.

Builds the same database as `bench/scoring.py` (a temporary SQLite file, and with
`--postgres URL` a temporary schema on that server): the built-in catalogs and N client
organizations (default 1000), each with a full CIS Controls v8.1 IG3 assessment. Then signs the
MSP's admin in and requests, through the whole ASGI application (middleware, session, CSRF,
templates, matplotlib), in-process:

- one client's assessment dashboard (`/assessments/ID/dashboard`) and each of its charts;
- the MSP's overview of its clients (`/orgs/SLUG/assessments`, one page) and its chart.

The first request (statements compiled; a chart drawn by matplotlib) and the median of `--runs`
requests after it (a chart already drawn for the same scores comes from the chart cache).
Prints and saves JSON to bench/results/dashboard.json. No assertions on time.

    .venv/bin/python bench/dashboard.py [--clients 1000] [--runs 15] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring import ROOT, _env, populate, temporary_schema

TARGET_MS = 200.0


def _sign_in(user_id: int) -> str:
    """A browser session for the bench admin; returns the cookie's secret."""
    from assay.accounts.models import User
    from assay.accounts.service import start_web_session
    from assay.db.engine import unit_of_work

    with unit_of_work() as session:
        user = session.get(User, user_id)
        assert user is not None
        return start_web_session(session, user)


def _time_get(client: Any, path: str, runs: int) -> dict[str, Any]:
    start = time.perf_counter()
    response = client.get(path)  # the first request: statements compiled, a chart drawn
    first = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return {
        "first_ms": round(first, 1),
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "bytes": len(response.content),
        "runs": runs,
    }


def run(url: str, clients: int, seed: int, runs: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from assay.app import create_app
    from assay.assess.models import Assessment
    from assay.db.engine import engine_for
    from assay.db.migrate import upgrade
    from assay.report import charts
    from assay.web.session import SESSION_COOKIE

    charts._CACHE.clear()  # each database starts with no chart drawn

    engine = engine_for(url)
    upgrade(engine)
    built = populate(engine, clients, seed)
    with engine.connect() as conn:
        ids = list(conn.scalars(select(Assessment.id).order_by(Assessment.id)))
    one = ids[len(ids) // 2]
    pages: dict[str, dict[str, Any]] = {}
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        client.cookies.set(SESSION_COOKIE, _sign_in(built["user_id"]))
        dashboard = f"/assessments/{one}/dashboard"
        pages["assessment_dashboard"] = _time_get(client, dashboard, runs)
        html = client.get(dashboard).text
        for chart in ("derived", "groups", "heatmap"):
            path = f"/assessments/{one}/charts/{chart}.svg"
            if path in html:
                pages[f"chart_{chart}"] = _time_get(client, path, runs)
        pages["msp_overview"] = _time_get(client, "/orgs/bench-msp/assessments", runs)
        pages["msp_overview_chart"] = _time_get(
            client, "/orgs/bench-msp/assessments/overview.svg", runs
        )
    engine.dispose()
    engine_for.cache_clear()
    return {
        "bulk_insert_s": built["bulk_insert_s"],
        "rows": built["rows"],
        "pages": pages,
        "met": {name: page["median_ms"] < TARGET_MS for name, page in pages.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (temp schema)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite measurement")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "benchmark": "web dashboard pages with N clients in the database",
        "clients": args.clients,
        "target_ms": TARGET_MS,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as data_dir:
            url = f"sqlite:///{Path(data_dir) / 'bench.db'}"
            _env(data_dir, url)
            results["sqlite"] = run(url, args.clients, args.seed, args.runs)
    if args.postgres:
        with temporary_schema(args.postgres) as url, tempfile.TemporaryDirectory() as data_dir:
            _env(data_dir, url)
            results["postgresql"] = run(url, args.clients, args.seed, args.runs)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "dashboard.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
