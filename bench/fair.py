"""Speed and memory of the FAIR engine (assay.risk.fair), in one run:

- one Open FAIR scenario (LEF and LM as PERT estimates) at 1,000,000 iterations through
  `simulate` (sampling, percentiles, exceedance, the loss exceedance curve and the Spearman
  sensitivity ranking): wall median of N runs after a warm-up, and peak memory measured in a
  child process (tracemalloc peak of the call, and the process's max RSS before and after);
  the same for a full scenario (TEF, vulnerability, LM, SLEF, SLM) for reference;
- a plain numpy reference doing the same computation the most direct way (the same PERT draws,
  the product, np.percentile, comparisons for exceedance and the curve, a Spearman by double
  argsort over the same 50,000 iterations): the ratio Assay / reference; and, apart, only the
  draws and the product against `simulate_samples`;
- pyfair 0.1a13 on the same scenario in-process, and pyfair's import time in a fresh process;
- the whole `assay risk simulate --lef ... --lm ... --iterations 1000000 --json` as a
  subprocess (wall median of N runs, and its CPU time), with `assay --version` for comparison;
- a portfolio of 1,000 risks (LEF x LM PERT estimates drawn at random) at 100,000 iterations
  each, summed per iteration by `assay.risk.portfolio.sum_losses` (risks dealt to 4 lanes, a
  running vector each, on a small thread pool; per-risk seeds, so the result does not depend on
  the threads), then summarized; timed in a child process (with its max RSS) with the default
  pool, run again under tracemalloc for the peak, and once more on one thread for comparison
  (the same total, bit for bit).

Prints and saves JSON to bench/results/fair.json. No assertions on time.

    .venv/bin/python bench/fair.py [--runs 7] [--risks 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ASSAY = Path(sys.executable).with_name("assay")
TARGETS = {
    "single_s": 0.15,
    "single_peak_mb": 200.0,
    "ratio_to_numpy_reference": 1.3,
    "speedup_over_pyfair": 2.0,
    "cli_wall_s": 0.6,
    "portfolio_s": 10.0,
}
ITERATIONS = 1_000_000
LEF = (0.5, 2.0, 8.0)
LM = (20_000.0, 80_000.0, 900_000.0)
TOLERANCE = 1_000_000.0
FULL = {
    "tef": "1,4,20",
    "vuln": "0.05,0.2,0.6",
    "lm": "10000,60000,900000",
    "slef": "0.1,0.3,0.6",
    "slm": "5000,40000,2000000",
}


def _median(samples: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples), 4),
        "min": round(min(samples), 4),
        "max": round(max(samples), 4),
        "runs": len(samples),
    }


def _timed(call: Any, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of `runs` calls after a warm-up (CPU time shows what a loaded
    machine does to the wall time)."""
    call()  # warm-up
    walls, cpus = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return walls, cpus


def _max_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, because Linux carries ru_maxrss over
    exec from the parent (this bench, large after pyfair)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- the plain numpy reference ----------------------------------------------------------------


def _pert(rng: np.random.Generator, low: float, mode: float, high: float, n: int) -> Any:
    span = high - low
    return low + span * rng.beta(1 + 4 * (mode - low) / span, 1 + 4 * (high - mode) / span, n)


def reference_sampling(seed: int) -> Any:
    """Only the draws and the product: the floor for any exact open-fair simulation."""
    rng = np.random.default_rng(seed)
    return _pert(rng, *LEF, ITERATIONS) * _pert(rng, *LM, ITERATIONS)


def reference(seed: int) -> dict[str, Any]:
    """The same work as `simulate` for a LEF x LM scenario, written the most direct way."""
    rng = np.random.default_rng(seed)
    lef = _pert(rng, *LEF, ITERATIONS)
    lm = _pert(rng, *LM, ITERATIONS)
    loss = lef * lm
    points = np.geomspace(max(loss[loss > 0].min(), loss.max() / 1e6), loss.max(), 50)
    keep = 50_000
    ranks_loss = loss[:keep].argsort().argsort()
    return {
        "mean": loss.mean(),
        "std": loss.std(ddof=1),
        "percentiles": np.percentile(loss, [10, 50, 90, 95, 99]),
        "prob_loss": (loss > 0).mean(),
        "prob_exceed": (loss > TOLERANCE).mean(),
        "lec": [(loss > x).mean() for x in points],
        "spearman": [
            np.corrcoef(values[:keep].argsort().argsort(), ranks_loss)[0, 1] for values in (lef, lm)
        ],
    }


# --- children (fresh processes, for memory) ---------------------------------------------------


def child_single(which: str) -> dict[str, Any]:
    import tracemalloc

    from assay.risk.fair import Scenario, simulate

    scenario = Scenario.from_dict(FULL) if which == "full" else Scenario.of(lef=LEF, lm=LM)
    simulate(scenario, iterations=1000, seed=1)  # imports and first-call costs
    before = _max_rss_mb()
    tracemalloc.start()
    start = time.perf_counter()
    simulate(scenario, iterations=ITERATIONS, seed=1, tolerance=TOLERANCE)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds_under_tracemalloc": round(seconds, 4),
        "peak_traced_mb": round(peak / 2**20, 1),
        "max_rss_before_mb": round(before, 1),
        "max_rss_after_mb": round(_max_rss_mb(), 1),
    }


def portfolio_scenarios(count: int, seed: int) -> list[Any]:
    from assay.risk.fair import Scenario

    rng = random.Random(seed)
    scenarios = []
    for _ in range(count):
        lef_low = rng.uniform(0.01, 2)
        lef_high = lef_low * rng.uniform(2, 20)
        lm_low = rng.uniform(1_000, 100_000)
        lm_high = lm_low * rng.uniform(3, 100)
        scenarios.append(
            Scenario.of(
                lef=(lef_low, rng.uniform(lef_low, lef_high), lef_high),
                lm=(lm_low, lm_low + rng.uniform(0, 0.3) * (lm_high - lm_low), lm_high),
            )
        )
    return scenarios


def child_portfolio(risks: int, iterations: int, how: str) -> dict[str, Any]:
    """`how`: pool (the default thread pool of `sum_losses`), trace (the same under
    tracemalloc) or single (one thread)."""
    import hashlib
    import tracemalloc

    from assay.risk.fair import summarize
    from assay.risk.portfolio import Exposure, default_workers, sum_losses

    exposures = [
        Exposure(index, scenario)
        for index, scenario in enumerate(portfolio_scenarios(risks, seed=11))
    ]
    workers = 1 if how == "single" else default_workers()
    before = _max_rss_mb()
    if how == "trace":
        tracemalloc.start()
    start, start_cpu = time.perf_counter(), time.process_time()
    total = sum_losses(exposures, iterations, 1000, workers=workers).totals[0]
    summary = summarize(total, tolerance=TOLERANCE * 50)
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time() - start_cpu, 3),
        "per_risk_ms": round(1000 * seconds / risks, 2),
        "workers": workers,
        "max_rss_before_mb": round(before, 1),
        "max_rss_after_mb": round(_max_rss_mb(), 1),
        "portfolio_mean": round(summary.mean),
        "portfolio_p99": round(summary.percentiles[99]),
        "total_sha256": hashlib.sha256(total.tobytes()).hexdigest()[:16],
    }
    if how == "trace":
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["peak_traced_mb"] = round(peak / 2**20, 1)
    return out


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- the measurements -------------------------------------------------------------------------


def measure_single(runs: int) -> dict[str, Any]:
    from assay.risk.fair import Scenario, simulate, simulate_samples

    scenario = Scenario.of(lef=LEF, lm=LM)
    assay_times, assay_cpu = _timed(
        lambda: simulate(scenario, ITERATIONS, seed=1, tolerance=TOLERANCE), runs
    )
    reference_times, reference_cpu = _timed(lambda: reference(1), runs)
    samples_times, _ = _timed(lambda: simulate_samples(scenario, ITERATIONS, seed=1), runs)
    sampling_times, _ = _timed(lambda: reference_sampling(1), runs)
    full = Scenario.from_dict(FULL)
    full_times, _ = _timed(lambda: simulate(full, ITERATIONS, seed=1, tolerance=TOLERANCE), runs)
    ours = simulate(scenario, ITERATIONS, seed=1, tolerance=TOLERANCE).summary
    ref = reference(1)
    return {
        "assay_s": _median(assay_times),
        "assay_cpu_s": _median(assay_cpu),
        "numpy_reference_s": _median(reference_times),
        "numpy_reference_cpu_s": _median(reference_cpu),
        "ratio_to_numpy_reference": round(
            statistics.median(assay_times) / statistics.median(reference_times), 3
        ),
        "sampling_only": {
            "assay_simulate_samples_s": _median(samples_times),
            "numpy_draws_and_product_s": _median(sampling_times),
        },
        "memory": _child("single", "lef-lm"),
        "agreement_with_reference": {
            "mean": [round(ours.mean), round(float(ref["mean"]))],
            "p99": [round(ours.percentiles[99]), round(float(ref["percentiles"][4]))],
        },
        "full_scenario_assay_s": _median(full_times),
        "full_scenario_memory": _child("single", "full"),
    }


def measure_pyfair(runs: int, assay_median: float) -> dict[str, Any]:
    import_times = []
    for _ in range(3):
        done = subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
                "-c",
                "import time; s = time.perf_counter(); import pyfair; "
                "print(time.perf_counter() - s)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        import_times.append(float(done.stdout))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyfair import FairModel  # type: ignore[import-untyped]

        def run_pyfair() -> None:
            model = FairModel(name="bench", n_simulations=ITERATIONS, random_seed=1)
            model.input_data("Loss Event Frequency", low=LEF[0], mode=LEF[1], high=LEF[2])
            model.input_data("Loss Magnitude", low=LM[0], mode=LM[1], high=LM[2])
            model.calculate_all()
            risk = model.export_results()["Risk"]
            risk.quantile([0.1, 0.5, 0.9, 0.95, 0.99])
            float(risk.mean())
            float((risk > TOLERANCE).mean())

        times, cpu = _timed(run_pyfair, max(3, runs // 2))
    return {
        "note": "simulation plus mean, 5 quantiles and one exceedance; pyfair has no LEC or "
        "sensitivity ranking of its own",
        "pyfair_s": _median(times),
        "pyfair_cpu_s": _median(cpu),
        "pyfair_import_s": _median(import_times),
        "speedup_of_assay": round(statistics.median(times) / assay_median, 2),
    }


def measure_cli(runs: int) -> dict[str, Any]:
    command = [
        str(ASSAY),
        *("risk", "simulate", "--lef", ",".join(map(str, LEF)), "--lm", ",".join(map(str, LM))),
        *("--iterations", str(ITERATIONS), "--tolerance", str(TOLERANCE), "--json"),
    ]

    def run(args: list[str]) -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)

    run(command)  # warm the file cache
    simulate_runs = [run(command) for _ in range(runs)]
    version_runs = [run([str(ASSAY), "--version"]) for _ in range(max(3, runs // 2))]
    return {
        "command": " ".join(command[1:]),
        "wall_s": _median([wall for wall, _ in simulate_runs]),
        "cpu_s": _median([cpu for _, cpu in simulate_runs]),
        "assay_version_wall_s": _median([wall for wall, _ in version_runs]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each measurement")
    parser.add_argument("--risks", type=int, default=1000, help="risks in the portfolio")
    parser.add_argument("--portfolio-iterations", type=int, default=100_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "single":
            print(json.dumps(child_single(rest[0])))
        else:
            print(json.dumps(child_portfolio(int(rest[0]), int(rest[1]), rest[2])))
        return

    results: dict[str, Any] = {
        "benchmark": "FAIR Monte Carlo: one scenario at 1M iterations, a numpy reference, "
        "pyfair, the CLI, a portfolio of 1,000 risks at 100k iterations",
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "scenario": {"lef": LEF, "lm": LM, "iterations": ITERATIONS, "tolerance": TOLERANCE},
        "targets": TARGETS,
    }
    single = measure_single(args.runs)
    results["single"] = single
    results["pyfair"] = measure_pyfair(args.runs, single["assay_s"]["median"])
    results["cli"] = measure_cli(args.runs)
    portfolio = _child("portfolio", str(args.risks), str(args.portfolio_iterations), "pool")
    traced = _child("portfolio", str(args.risks), str(args.portfolio_iterations), "trace")
    portfolio["peak_traced_mb"] = traced["peak_traced_mb"]  # a second run, under tracemalloc
    alone = _child("portfolio", str(args.risks), str(args.portfolio_iterations), "single")
    portfolio["one_thread"] = {
        key: alone[key] for key in ("workers", "seconds", "cpu_seconds", "portfolio_mean")
    }
    portfolio["same_total_on_one_thread"] = alone["total_sha256"] == portfolio["total_sha256"]
    results["portfolio"] = {"risks": args.risks, "iterations": args.portfolio_iterations}
    results["portfolio"].update(portfolio)
    results["met"] = {
        "single_s": single["assay_s"]["median"] < TARGETS["single_s"],
        "single_peak_mb": single["memory"]["peak_traced_mb"] < TARGETS["single_peak_mb"],
        "ratio_to_numpy_reference": single["ratio_to_numpy_reference"]
        <= TARGETS["ratio_to_numpy_reference"],
        "speedup_over_pyfair": results["pyfair"]["speedup_of_assay"]
        >= TARGETS["speedup_over_pyfair"],
        "cli_wall_s": results["cli"]["wall_s"]["median"] < TARGETS["cli_wall_s"],
        "portfolio_s": portfolio["seconds"] < TARGETS["portfolio_s"],
    }
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "fair.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
