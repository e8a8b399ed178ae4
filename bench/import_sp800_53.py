"""Time and peak memory to import the full NIST SP 800-53 Rev 5 OSCAL catalog.

Runs `assay catalog import` as a fresh process on an empty SQLite database (after
`assay db upgrade`), several times, and records wall time and the process's peak resident memory.
Also times the reader alone in-process. Prints and saves JSON to bench/results/.

    .venv/bin/python bench/import_sp800_53.py [--catalog PATH] [--runs 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = (
    ROOT.parent
    / "shared/reference/nist-800-53-r5/oscal-catalog-5.0.1/NIST_SP-800-53_rev5_catalog.json"
)
ASSAY = Path(sys.executable).with_name("assay")


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a command; return wall seconds, peak RSS in MiB (from wait4) and its stdout."""
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout = process.stdout.read() if process.stdout else b""
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {stderr.decode()}")
    return wall, usage.ru_maxrss // 1024, stdout.decode()


def one_import(catalog: Path, database_url: str | None) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "ASSAY_DATA_DIR": data_dir}
        if database_url:
            env["ASSAY_DATABASE_URL"] = database_url
        run_measured([str(ASSAY), "db", "upgrade"], env)
        wall, rss, out = run_measured([str(ASSAY), "catalog", "import", str(catalog)], env)
        return {"wall_s": round(wall, 3), "peak_rss_mib": rss, "report": out.splitlines()[0]}


def postgres_import(catalog: Path, url: str) -> dict[str, float | int | str]:
    """The same import on PostgreSQL, in a schema of its own that is dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        return one_import(catalog, f"{url}?options=-csearch_path%3D{schema}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def reader_only(catalog: Path) -> float:
    from assay.catalog.oscal.reader import read_catalog

    data = catalog.read_bytes()
    start = time.perf_counter()
    document = read_catalog(data, catalog.name)
    elapsed = time.perf_counter() - start
    assert document.controls
    return round(elapsed, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (empty schema)")
    args = parser.parse_args()
    if not args.catalog.is_file():
        raise SystemExit(f"catalog not found: {args.catalog}")
    sqlite_runs = [one_import(args.catalog, None) for _ in range(args.runs)]
    results: dict[str, object] = {
        "benchmark": "import NIST SP 800-53 Rev 5 OSCAL catalog with `assay catalog import`",
        "catalog": args.catalog.name,
        "catalog_bytes": args.catalog.stat().st_size,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "sqlite": {
            "runs": sqlite_runs,
            "median_wall_s": statistics.median(r["wall_s"] for r in sqlite_runs),  # type: ignore[misc]
            "max_peak_rss_mib": max(r["peak_rss_mib"] for r in sqlite_runs),  # type: ignore[type-var]
        },
        "reader_only_s": reader_only(args.catalog),
        "bar": {"wall_s": 5.0, "peak_rss_mib": 300},
    }
    if args.postgres:
        results["postgresql"] = {"runs": [postgres_import(args.catalog, args.postgres)]}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "import_sp800_53.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
