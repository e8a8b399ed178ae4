"""Open FAIR mode against pyfair (a dev dependency, imported here only).

What pyfair computes (pyfair/model/model_calc.py and model_tree.py, version 0.1a13): each node
is a vector of n draws; Loss Event Frequency = TEF * Vulnerability, element by element, when
Vulnerability is given directly (derived from threat capability and control strength it would
be a step function averaged over all iterations, which we do not model); Secondary Loss =
SLEF * SLEM; Loss Magnitude = Primary Loss + Secondary Loss; Risk = LEF * Loss Magnitude.
That is our open-fair loss, LEF * (LM + SLEF * SLM), per iteration.

pyfair's BetaPERT (utility/beta_pert.py) differs from the modified PERT we use: it fixes the
standard deviation at (max - min)/(λ + 2) and derives alpha, beta from it, while the modified
PERT has alpha = 1 + λ(mode - min)/(max - min). The means agree always; the shapes agree only
when the mode sits at a fraction a of the range with a(1 - a) = 2/λ² (a ≈ 0.1464 or 0.8536 for
λ = 4). The distribution comparisons therefore place every mode there; the mean comparison
also uses arbitrary modes.

Tolerances come from the sampling error of both sides (5 standard errors; the two-sample
Kolmogorov-Smirnov bound at a 1e-6 level), with fixed seeds on both sides.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from assay.risk.fair import Scenario, simulate_samples

N = 200_000
LAMBDA = 4.0
A_STAR = (1 - math.sqrt(1 - 8 / LAMBDA**2)) / 2  # where pyfair's PERT equals the modified PERT


def at_a_star(low: float, high: float) -> tuple[float, float, float]:
    return low, low + A_STAR * (high - low), high


def pyfair_risk(inputs: dict[str, tuple[float, float, float]], seed: int) -> np.ndarray[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyfair import FairModel  # type: ignore[import-untyped]

        model = FairModel(name="comparison", n_simulations=N, random_seed=seed)
        for target, (low, mode, high) in inputs.items():
            model.input_data(target, low=low, mode=mode, high=high)
        model.calculate_all()
        return np.asarray(model.export_results()["Risk"], dtype=np.float64)


def assert_same_distribution(ours: np.ndarray[Any, Any], theirs: np.ndarray[Any, Any]) -> None:
    n, m = len(ours), len(theirs)
    # Means: 5 standard errors of the difference of two independent sample means.
    standard_error = math.sqrt(ours.var(ddof=1) / n + theirs.var(ddof=1) / m)
    assert abs(ours.mean() - theirs.mean()) < 5 * standard_error
    # Percentiles, compared where sampling error is known exactly: our empirical CDF at
    # pyfair's percentile should be p, within 5 standard errors of the two proportions.
    ours_sorted = np.sort(ours)
    for p in (0.1, 0.5, 0.9, 0.99):
        q = float(np.quantile(theirs, p))
        ours_below = np.searchsorted(ours_sorted, q, side="right") / n
        assert abs(ours_below - p) < 5 * math.sqrt(p * (1 - p) * (1 / n + 1 / m)), p
    # The whole distribution: two-sample Kolmogorov-Smirnov statistic below its 1e-6 bound.
    both = np.concatenate([ours_sorted, np.sort(theirs)])
    gap = np.abs(
        np.searchsorted(ours_sorted, both, side="right") / n
        - np.searchsorted(np.sort(theirs), both, side="right") / m
    ).max()
    assert gap < math.sqrt(-math.log(1e-6 / 2) / 2) * math.sqrt((n + m) / (n * m))


def test_tef_vulnerability_primary_and_secondary_loss_agree_with_pyfair() -> None:
    tef, vuln, lm = at_a_star(1, 24), at_a_star(0.05, 0.6), at_a_star(10_000, 900_000)
    slef, slm = at_a_star(0.05, 0.5), at_a_star(5_000, 2_000_000)
    theirs = pyfair_risk(
        {
            "Threat Event Frequency": tef,
            "Vulnerability": vuln,
            "Primary Loss": lm,
            "Secondary Loss Event Frequency": slef,
            "Secondary Loss Event Magnitude": slm,
        },
        seed=42,
    )
    ours = simulate_samples(
        Scenario.of(tef=tef, vuln=vuln, lm=lm, slef=slef, slm=slm), iterations=N, seed=42
    )
    assert_same_distribution(ours, theirs)


def test_loss_event_frequency_times_magnitude_agrees_with_pyfair() -> None:
    lef, lm = at_a_star(0.1, 6), (20_000, 20_000 + (1 - A_STAR) * 480_000, 500_000)
    theirs = pyfair_risk({"Loss Event Frequency": lef, "Loss Magnitude": lm}, seed=7)
    ours = simulate_samples(Scenario.of(lef=lef, lm=lm), iterations=N, seed=7)
    assert_same_distribution(ours, theirs)


def test_means_agree_for_any_mode() -> None:
    """Both PERTs share the mean (min + λ·mode + max)/(λ + 2), so the annual loss means agree
    even where the shapes differ."""
    lef, lm = (0.5, 2.0, 8.0), (1_000.0, 50_000.0, 100_000.0)  # mode at the middle, and not
    theirs = pyfair_risk({"Loss Event Frequency": lef, "Loss Magnitude": lm}, seed=3)
    ours = simulate_samples(Scenario.of(lef=lef, lm=lm), iterations=N, seed=3)
    standard_error = math.sqrt(ours.var(ddof=1) / N + theirs.var(ddof=1) / N)
    assert abs(ours.mean() - theirs.mean()) < 5 * standard_error
    expected = (0.5 + 8 + 8) / 6 * (1_000 + 200_000 + 100_000) / 6
    assert abs(ours.mean() - expected) < 5 * math.sqrt(ours.var(ddof=1) / N)
    # ...and the spreads differ, which is why the distribution tests use modes at A_STAR.
    assert ours.std() > 1.05 * theirs.std()
