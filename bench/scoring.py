"""Time to score one full CIS v8.1 assessment, and the assessments of N clients at once.

Builds its own database - a temporary SQLite file, and with `--postgres URL` a temporary schema
on that server, dropped afterwards - migrates it, loads the built-in catalogs, and bulk-inserts
N client organizations (default 1000) each with a full CIS Controls v8.1 IG3 assessment: 153
answers with mixed statuses, maturities and verification states, evidence links (some expired),
and a target maturity per safeguard. Then measures, in fresh sessions:

- `score_assessment` on one assessment (everything: totals, roll-ups, IGs, controls, blind
  spots, derived CSF coverage, and `to_dict()`), the median of 20 runs after one warm-up;
- `score_many` over all N assessments (the MSP dashboard's query), the median of 5 runs.

Prints and saves JSON to bench/results/scoring.json. No assertions on time.

    .venv/bin/python bench/scoring.py [--clients 1000] [--runs 20] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"score_one_ms": 50.0, "score_many_s": 5.0}
BATCH = 10_000


def _env(data_dir: str, url: str) -> None:
    os.environ["ASSAY_DATA_DIR"] = data_dir
    os.environ["ASSAY_DATABASE_URL"] = url
    os.environ.setdefault("ASSAY_SECRET_KEY", "bench-secret-key-not-for-production")
    from assay.config import settings

    settings.cache_clear()


@contextmanager
def temporary_schema(server_url: str) -> Iterator[str]:
    """A fresh schema on a PostgreSQL server, dropped afterwards; yields a URL that uses it."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _insert(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    for start in range(0, len(rows), BATCH):
        conn.execute(insert(model), rows[start : start + BATCH])


def populate(engine: Any, clients: int, seed: int) -> dict[str, Any]:
    """The catalogs and N clients with full CIS IG3 assessments, inserted in bulk."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from assay.accounts.models import User
    from assay.assess.models import (
        Answer,
        AnswerEvidence,
        AnswerState,
        Assessment,
        AssessmentState,
        Evidence,
        EvidenceKind,
        Status,
        TargetMaturity,
    )
    from assay.assess.workflow import assessed_controls
    from assay.auth.actor import Actor
    from assay.catalog.models import Baseline, Framework
    from assay.catalog.service import sync_builtin
    from assay.db.engine import unit_of_work
    from assay.tenancy.models import Membership, Organization, OrgKind, Role

    rng = random.Random(seed)
    start = time.perf_counter()
    with unit_of_work(engine) as session:
        sync_builtin(session, Actor.system("bench"))
    catalogs_s = time.perf_counter() - start

    start = time.perf_counter()
    now = datetime.now(UTC)
    today = date.today()
    with engine.begin() as conn:
        conn.execute(
            insert(Organization),
            [{"slug": "bench-msp", "name": "Bench MSP", "kind": OrgKind.MSP, "created_at": now}],
        )
        msp_id = conn.scalar(select(Organization.id).where(Organization.slug == "bench-msp"))
        _insert(
            conn,
            Organization,
            [
                {
                    "slug": f"client-{n:05d}",
                    "name": f"Client {n:05d}",
                    "kind": OrgKind.CLIENT,
                    "parent_id": msp_id,
                    "created_at": now,
                }
                for n in range(clients)
            ],
        )
        client_ids = list(
            conn.scalars(
                select(Organization.id)
                .where(Organization.parent_id == msp_id)
                .order_by(Organization.id)
            )
        )
        conn.execute(
            insert(User),
            [{"email": "admin@bench-msp.test", "name": "Bench admin", "password_hash": "x"}],
        )
        user_id = conn.scalar(select(User.id).where(User.email == "admin@bench-msp.test"))
        conn.execute(
            insert(Membership),
            [{"organization_id": msp_id, "user_id": user_id, "role": Role.ADMIN}],
        )
        framework_id = conn.scalar(select(Framework.id).where(Framework.key == "cis-controls-v8.1"))
        baseline_id = conn.scalar(
            select(Baseline.id).where(Baseline.framework_id == framework_id, Baseline.key == "ig3")
        )
        _insert(
            conn,
            Assessment,
            [
                {
                    "organization_id": org_id,
                    "framework_id": framework_id,
                    "baseline_id": baseline_id,
                    "name": "CIS v8.1 IG3",
                    "scope": "",
                    "state": AssessmentState.IN_PROGRESS,
                    "target_ig": 3,
                    "created_by_id": user_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for org_id in client_ids
            ],
        )
        assessments = conn.execute(
            select(Assessment.id, Assessment.organization_id).order_by(Assessment.id)
        ).all()
        with Session(bind=conn) as session:
            probe = session.get(Assessment, assessments[0][0])
            framework = session.get(Framework, framework_id)
            assert probe is not None and framework is not None
            controls = list(session.scalars(assessed_controls(probe, framework)))

        statuses = [
            Status.FULLY,
            Status.LARGELY,
            Status.PARTIALLY,
            Status.NOT_IMPLEMENTED,
            Status.NOT_APPLICABLE,
        ]
        states = [AnswerState.VERIFIED, AnswerState.CLAIMED, AnswerState.REJECTED]
        answers: list[dict[str, Any]] = []
        targets: list[dict[str, Any]] = []
        evidence: list[dict[str, Any]] = []
        for assessment_id, org_id in assessments:
            for control_id in controls:
                status = rng.choices(statuses, weights=[35, 20, 15, 20, 10])[0]
                claimed_at = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
                answers.append(
                    {
                        "organization_id": org_id,
                        "assessment_id": assessment_id,
                        "control_id": control_id,
                        "status": status,
                        "maturity": rng.randint(0, 5),
                        "justification": "out of scope" if status is Status.NOT_APPLICABLE else "",
                        "notes": "",
                        "answered_by_id": user_id,
                        "contributor_ids": [user_id],
                        "state": rng.choices(states, weights=[40, 55, 5])[0],
                        "state_changed_at": claimed_at,
                        "claimed_at": claimed_at,
                        "updated_at": claimed_at,
                    }
                )
                targets.append(
                    {
                        "assessment_id": assessment_id,
                        "control_id": control_id,
                        "organization_id": org_id,
                        "target": 3,
                    }
                )
            for n in range(20):
                collected = today - timedelta(days=rng.randint(30, 400))
                expired = rng.random() < 0.15
                evidence.append(
                    {
                        "organization_id": org_id,
                        "kind": EvidenceKind.LINK,
                        "title": f"Evidence {n}",
                        "url": f"https://wiki.example.org/{org_id}/{n}",
                        "collected_on": collected,
                        "expires_on": (today - timedelta(days=rng.randint(1, 20)))
                        if expired
                        else None,
                        "uploaded_by_id": user_id,
                        "uploaded_at": now,
                    }
                )
        _insert(conn, Answer, answers)
        _insert(conn, TargetMaturity, targets)
        _insert(conn, Evidence, evidence)
        pool: dict[int, list[int]] = {}
        for evidence_id, org_id in conn.execute(select(Evidence.id, Evidence.organization_id)):
            pool.setdefault(org_id, []).append(evidence_id)
        links: list[dict[str, Any]] = []
        for answer_id, org_id in conn.execute(select(Answer.id, Answer.organization_id)):
            if rng.random() < 0.7:
                for evidence_id in rng.sample(pool[org_id], rng.randint(1, 2)):
                    links.append(
                        {
                            "answer_id": answer_id,
                            "evidence_id": evidence_id,
                            "organization_id": org_id,
                            "linked_by_id": user_id,
                            "linked_at": now,
                        }
                    )
        _insert(conn, AnswerEvidence, links)
        conn.exec_driver_sql("ANALYZE")
    return {
        "catalogs_s": round(catalogs_s, 2),
        "bulk_insert_s": round(time.perf_counter() - start, 2),
        "rows": {
            "assessments": len(assessments),
            "answers": len(answers),
            "target_maturities": len(targets),
            "evidence": len(evidence),
            "answer_evidence": len(links),
        },
        "answers_per_assessment": len(controls),
        "msp_id": msp_id,
        "user_id": user_id,
    }


def measure(engine: Any, built: dict[str, Any], runs: int, many_runs: int) -> dict[str, Any]:
    from sqlalchemy import event, select

    from assay.assess.models import Assessment
    from assay.assess.scoring import score_assessment, score_many
    from assay.auth.actor import Actor, Via
    from assay.db.engine import session_factory
    from assay.tenancy.models import OrgKind, Role

    actor = Actor(
        user_id=built["user_id"],
        label="admin@bench-msp.test",
        organization_id=built["msp_id"],
        org_kind=OrgKind.MSP,
        role=Role.ADMIN,
        via=Via.API,
    )
    sessions = session_factory(engine)
    with sessions() as session:
        ids = list(session.scalars(select(Assessment.id).order_by(Assessment.id)))
    one = ids[len(ids) // 2]

    @contextmanager
    def counting() -> Iterator[list[str]]:
        seen: list[str] = []

        def listener(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", listener)

    cpu_times: list[float] = []

    def score_one() -> tuple[float, dict[str, Any]]:
        with sessions() as session:
            start, cpu = time.perf_counter(), time.process_time()
            result = score_assessment(session, actor, one).to_dict()
            cpu_times.append(time.process_time() - cpu)
            return time.perf_counter() - start, result

    score_one()  # warm-up: connection pool, compiled-statement cache
    with counting() as statements:
        _, sample = score_one()
    cpu_times.clear()
    one_times = [score_one()[0] * 1000 for _ in range(runs)]

    def all_clients() -> tuple[float, int]:
        with sessions() as session:
            start = time.perf_counter()
            totals = score_many(session, ids)
            return time.perf_counter() - start, len(totals)

    all_clients()
    many_times = []
    for _ in range(many_runs):
        elapsed, count = all_clients()
        assert count == len(ids)
        many_times.append(elapsed)
    return {
        "score_one_ms": {
            "median": round(statistics.median(one_times), 2),
            "min": round(min(one_times), 2),
            "max": round(max(one_times), 2),
            "runs": len(one_times),
            "statements": len(statements),
            # this process's CPU time: everything on SQLite, the client side only on PostgreSQL
            "cpu_median": round(statistics.median(cpu_times) * 1000, 2),
        },
        "score_many_s": {
            "assessments": len(ids),
            "median": round(statistics.median(many_times), 3),
            "min": round(min(many_times), 3),
            "max": round(max(many_times), 3),
            "runs": len(many_times),
        },
        "sample_totals": sample["totals"],
        "sample_blind_spots": len(sample["blind_spots"]),
    }


def run(url: str, clients: int, seed: int, runs: int, many_runs: int) -> dict[str, Any]:
    from assay.db.engine import make_engine
    from assay.db.migrate import upgrade

    engine = make_engine(url)
    try:
        start = time.perf_counter()
        upgrade(engine)
        migrate_s = time.perf_counter() - start
        built = populate(engine, clients, seed)
        result = {
            "migrate_s": round(migrate_s, 2),
            **built,
            **measure(engine, built, runs, many_runs),
        }
        for key in ("msp_id", "user_id"):
            result.pop(key)
        result["met"] = {
            "score_one_ms": result["score_one_ms"]["median"] < TARGETS["score_one_ms"],
            "score_many_s": result["score_many_s"]["median"] < TARGETS["score_many_s"],
        }
        return result
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20, help="runs of one assessment's score")
    parser.add_argument("--many-runs", type=int, default=5, help="runs of scoring all clients")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (temp schema)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite measurement")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "benchmark": "score one full CIS v8.1 IG3 assessment; score N clients' assessments",
        "clients": args.clients,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": TARGETS,
    }
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as data_dir:
            url = f"sqlite:///{Path(data_dir) / 'bench.db'}"
            _env(data_dir, url)
            results["sqlite"] = run(url, args.clients, args.seed, args.runs, args.many_runs)
    if args.postgres:
        with temporary_schema(args.postgres) as url, tempfile.TemporaryDirectory() as data_dir:
            _env(data_dir, url)
            results["postgresql"] = run(url, args.clients, args.seed, args.runs, args.many_runs)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "scoring.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
