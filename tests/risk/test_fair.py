"""The FAIR engine against known answers: exact results for constants, analytic means and
variances, Poisson counts, monotone statistics, reproducibility, controls, bounded memory and
validation. Sampling tolerances are 5 standard errors with fixed seeds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from assay.risk import fair
from assay.risk.estimates import Estimate, FieldError
from assay.risk.fair import (
    ControlEffect,
    Mode,
    Scenario,
    simulate,
    simulate_samples,
    spearman,
    summarize,
)

TYPICAL = Scenario.of(
    tef="1,4,20",
    vuln="0.05,0.2,0.6",
    lm="10000,60000,900000",
    slef="0.1,0.3,0.6",
    slm="5000,40000,2000000",
)


def within_standard_errors(sample: np.ndarray[Any, Any], expected: float, k: float = 5) -> bool:
    return abs(float(sample.mean()) - expected) < k * float(sample.std(ddof=1)) / math.sqrt(
        len(sample)
    )


# --- exact answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factors", "loss"),
    [
        ({"lef": 2, "lm": 1000}, 2000.0),
        ({"lef": 0.3, "lm": 12345.6}, 0.3 * 12345.6),
        ({"tef": 10, "vuln": 0.5, "lm": 100, "slef": 0.25, "slm": 400}, 10 * 0.5 * (100 + 100)),
        ({"lef": "pert:4,4,4", "lm": "uniform:7,7"}, 28.0),
        ({"lef": 0, "lm": 1000}, 0.0),
    ],
)
def test_constant_inputs_give_exact_results(factors: dict[str, object], loss: float) -> None:
    result = simulate(Scenario.from_dict(factors), iterations=1000, seed=1, tolerance=loss)
    summary = result.summary
    assert summary.mean == loss
    assert summary.std == 0
    assert summary.minimum == summary.maximum == loss
    assert set(summary.percentiles.values()) == {loss}
    assert summary.prob_exceed == 0.0  # "exceed" is strict
    assert summary.prob_loss == (1.0 if loss > 0 else 0.0)
    assert result.sensitivity == ()  # nothing varies
    assert [(p.loss, p.probability) for p in summary.lec] == ([(loss, 0.0)] if loss else [])


def test_exceedance_of_a_constant_just_below_it_is_certain() -> None:
    result = simulate(Scenario.of(lef=2, lm=1000), iterations=10, seed=1, tolerance=1999.99)
    assert result.summary.prob_exceed == 1.0


# --- analytic means ---------------------------------------------------------------------------


def test_open_fair_mean_converges_to_the_analytic_mean() -> None:
    losses = simulate_samples(TYPICAL, iterations=400_000, seed=21)

    # E[TEF·V·(LM + SLEF·SLM)] with independent factors = E[TEF]E[V](E[LM] + E[SLEF]E[SLM])
    def pert_mean(low: float, mode: float, high: float) -> float:
        return (low + 4 * mode + high) / 6

    expected = (
        pert_mean(1, 4, 20)
        * pert_mean(0.05, 0.2, 0.6)
        * (pert_mean(1e4, 6e4, 9e5) + pert_mean(0.1, 0.3, 0.6) * pert_mean(5e3, 4e4, 2e6))
    )
    assert TYPICAL.expected_loss == pytest.approx(expected, rel=1e-12)
    assert within_standard_errors(losses, expected)


def test_compound_mean_converges_to_the_same_analytic_mean() -> None:
    losses = simulate_samples(TYPICAL, iterations=400_000, seed=22, mode="compound")
    assert within_standard_errors(losses, TYPICAL.expected_loss)


def test_compound_counts_are_poisson() -> None:
    rate = 3.7
    counts = simulate_samples(Scenario.of(lef=rate, lm=1), 400_000, seed=5, mode="compound")
    n = len(counts)
    assert (counts == np.round(counts)).all()
    assert abs(counts.mean() - rate) < 5 * math.sqrt(rate / n)
    # Var(sample variance) ≈ (mu4 - sigma^4)/n with mu4 = λ(1 + 3λ) for a Poisson
    assert abs(counts.var(ddof=1) - rate) < 5 * math.sqrt((rate + 2 * rate**2) / n)
    assert np.mean(counts == 0) == pytest.approx(math.exp(-rate), abs=5 * math.sqrt(0.025 / n))


def test_compound_secondary_losses_thin_the_events() -> None:
    """With no primary loss and SLEF 0.5, the loss counts secondary events: Poisson(λ/2)."""
    scenario = Scenario.of(lef=4.0, lm=0, slef=0.5, slm=1)
    counts = simulate_samples(scenario, 400_000, seed=6, mode="compound")
    n = len(counts)
    assert abs(counts.mean() - 2.0) < 5 * math.sqrt(2.0 / n)
    assert abs(counts.var(ddof=1) - 2.0) < 5 * math.sqrt((2.0 + 2 * 4.0) / n)


def test_compound_with_a_varying_rate_is_overdispersed() -> None:
    """A PERT frequency makes the count a Poisson mixture: variance = E[λ] + Var[λ]."""
    lef = Estimate.pert(1, 4, 13)
    counts = simulate_samples(Scenario(lef=lef, lm=Estimate.constant(1)), 400_000, 7, "compound")
    rate_variance = (lef.mean - 1) * (13 - lef.mean) / 7
    expected = lef.mean + rate_variance
    assert abs(counts.var(ddof=1) - expected) < 0.05 * expected  # about 10 standard errors


# --- statistics -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(Mode))
def test_statistics_are_monotone_and_match_numpy(mode: Mode) -> None:
    scenario = Scenario.of(lef="0.1,0.5,3", lm="lognormal:1000,500000")
    losses = simulate_samples(scenario, 50_000, seed=3, mode=mode)
    summary = summarize(losses, tolerance=100_000)
    values = [summary.minimum, *summary.percentiles.values(), summary.maximum]
    assert values == sorted(values)
    assert list(summary.percentiles.values()) == pytest.approx(
        np.percentile(losses, [10, 50, 90, 95, 99]).tolist(), rel=1e-12
    )
    assert summary.mean == pytest.approx(losses.mean(), rel=1e-12)
    assert summary.std == pytest.approx(losses.std(ddof=1), rel=1e-9)
    assert summary.prob_exceed == np.mean(losses > 100_000)
    assert summary.prob_loss == np.mean(losses > 0)
    curve = summary.lec
    assert len(curve) == fair.LEC_POINTS
    assert [p.loss for p in curve] == sorted(p.loss for p in curve)
    probabilities = [p.probability for p in curve]
    assert probabilities == sorted(probabilities, reverse=True)
    assert curve[-1].loss == summary.maximum and curve[-1].probability == 0.0
    for point in curve[::7]:
        assert point.probability == np.mean(losses > point.loss)
    if mode is Mode.COMPOUND:
        assert 0 < summary.prob_loss < 1  # years without events


def test_summary_refuses_nothing_and_non_finite() -> None:
    with pytest.raises(FieldError, match="losses: no samples"):
        summarize([])
    with pytest.raises(FieldError, match="losses: samples must be finite"):
        summarize([1.0, math.nan])


# --- reproducibility --------------------------------------------------------------------------


def test_a_seed_reproduces_a_run_exactly_and_another_seed_differs() -> None:
    first = simulate(TYPICAL, iterations=20_000, seed=1234, tolerance=1e5)
    again = simulate(TYPICAL, iterations=20_000, seed=1234, tolerance=1e5)
    other = simulate(TYPICAL, iterations=20_000, seed=1235, tolerance=1e5)
    assert first.to_dict() == again.to_dict()
    assert first.summary.mean != other.summary.mean
    assert first.summary.percentiles != other.summary.percentiles


@pytest.mark.parametrize("mode", list(Mode))
def test_samples_are_reproducible_and_summarize_like_simulate(mode: Mode) -> None:
    a = simulate_samples(TYPICAL, 30_000, seed=99, mode=mode)
    b = simulate_samples(TYPICAL, 30_000, seed=99, mode=mode)
    assert np.array_equal(a, b)
    assert summarize(a) == simulate(TYPICAL, 30_000, seed=99, mode=mode).summary


def test_more_iterations_extend_a_run() -> None:
    """Chunk k always draws from the k-th child of SeedSequence(seed)."""
    short = simulate_samples(TYPICAL, fair.CHUNK, seed=8)
    long = simulate_samples(TYPICAL, fair.CHUNK + 1000, seed=8)
    assert np.array_equal(long[: fair.CHUNK], short)


def test_without_a_seed_the_result_names_the_seed_it_used() -> None:
    result = simulate(TYPICAL, iterations=2000)
    assert result.seed >= 0
    assert simulate(TYPICAL, iterations=2000, seed=result.seed) == result


# --- sensitivity ------------------------------------------------------------------------------


def test_spearman_known_values() -> None:
    x = np.random.default_rng(1).normal(size=1000)
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -np.exp(x)) == pytest.approx(-1.0)
    assert spearman(x, np.ones(1000)) == 0.0  # undefined: reported as 0
    with_nan = np.array([1.0, np.nan, 3.0, 4.0])
    assert spearman(with_nan, np.array([2.0, 5.0, 6.0, 8.0])) == pytest.approx(1)


def test_spearman_handles_ties_like_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, 500).astype(float)
    y = x + rng.integers(0, 3, 500).astype(float)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)


def test_sensitivity_ranks_the_widest_input_first() -> None:
    scenario = Scenario.of(lef="4,5,6", lm="1000,10000,1000000", slef=0.5, slm="100,200,300")
    result = simulate(scenario, iterations=50_000, seed=4)
    names = [s.factor for s in result.sensitivity]
    assert names == ["lm", "lef", "slm"]  # slef is constant: not ranked
    assert result.sensitivity[0].spearman > 0.9
    assert 0.05 < result.sensitivity[1].spearman < 0.5
    assert abs(result.sensitivity[2].spearman) < 0.05  # a narrow, tiny secondary loss


def test_compound_sensitivity_uses_each_years_mean_magnitude() -> None:
    scenario = Scenario.of(lef="0.5,2,4", lm="1000,10000,1000000")
    result = simulate(scenario, iterations=50_000, seed=4, mode="compound")
    assert {s.factor for s in result.sensitivity} == {"lef", "lm"}
    assert all(s.spearman > 0.2 for s in result.sensitivity)


# --- controls ---------------------------------------------------------------------------------


def test_a_constant_frequency_reduction_scales_every_year() -> None:
    half = ControlEffect("mfa", frequency=Estimate.constant(0.5))
    base = simulate_samples(TYPICAL, 20_000, seed=3)
    reduced = simulate_samples(TYPICAL, 20_000, seed=3, controls=[half])
    assert np.array_equal(reduced, base * 0.5)  # halving is exact in binary floating point


def test_magnitude_and_vulnerability_reductions_multiply() -> None:
    controls = [
        ControlEffect("backups", magnitude=Estimate.constant(0.4)),
        ControlEffect("edr", vulnerability=Estimate.constant(0.25)),
    ]
    base = simulate_samples(TYPICAL, 20_000, seed=3)
    reduced = simulate_samples(TYPICAL, 20_000, seed=3, controls=controls)
    assert np.allclose(reduced, base * 0.6 * 0.75, rtol=1e-12)


def test_an_uncertain_reduction_lowers_the_mean_by_its_mean() -> None:
    control = ControlEffect("patching", frequency=Estimate.pert(0.2, 0.5, 0.7))
    losses = simulate_samples(TYPICAL, 400_000, seed=12, controls=[control])
    assert within_standard_errors(losses, TYPICAL.expected_loss * (1 - control.frequency.mean))  # type: ignore[union-attr]
    result = simulate(TYPICAL, 50_000, seed=12, controls=[control])
    effect = {s.factor: s.spearman for s in result.sensitivity}["patching.frequency"]
    assert effect < 0  # more reduction, less loss


def test_controls_apply_in_compound_mode() -> None:
    control = ControlEffect("awareness", frequency=Estimate.constant(0.75))
    counts = simulate_samples(Scenario.of(lef=8, lm=1), 200_000, 2, "compound", [control])
    assert abs(counts.mean() - 2.0) < 5 * math.sqrt(2.0 / len(counts))


def test_bad_controls_name_the_field() -> None:
    with pytest.raises(FieldError) as caught:
        ControlEffect("mfa", frequency=Estimate.uniform(0.5, 1.5))
    assert caught.value.field == "mfa.frequency"
    assert "above 1" in caught.value.reason
    twice = ControlEffect("mfa", frequency=Estimate.constant(0.1))
    with pytest.raises(FieldError, match="controls: two control effects are named 'mfa'"):
        simulate_samples(TYPICAL, 10, seed=1, controls=[twice, twice])
    with pytest.raises(FieldError, match="control: a control effect needs a name"):
        ControlEffect(" ")


# --- bounded memory ---------------------------------------------------------------------------


def test_compound_mode_draws_events_in_bounded_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """No draw is larger than a chunk of iterations or a batch of events, and batching does
    not change the result (the same draws, summed in pieces)."""
    scenario = Scenario.of(lef="0,2,45", lm="uniform:100,900", slef=0.5, slm="uniform:1,9")
    monkeypatch.setattr(fair, "CHUNK", 5000)
    expected = simulate_samples(scenario, 20_000, seed=17, mode="compound")

    sizes: list[int] = []
    real_sample = Estimate.sample

    def recording(self: Estimate, rng: np.random.Generator, size: int) -> Any:
        sizes.append(size)
        return real_sample(self, rng, size)

    monkeypatch.setattr(Estimate, "sample", recording)
    monkeypatch.setattr(fair, "EVENT_BATCH", 30)  # fewer than some years' events
    got = simulate_samples(scenario, 20_000, seed=17, mode="compound")
    assert max(sizes) == 5000  # per-iteration draws, one chunk at a time
    assert max(size for size in sizes if size != 5000) == 30  # events, in batches
    assert np.allclose(got, expected, rtol=1e-9)


def test_compound_refuses_runs_with_too_many_events() -> None:
    with pytest.raises(FieldError) as caught:
        simulate(Scenario.of(lef=10_000, lm=1), iterations=100_000, seed=1, mode="compound")
    assert caught.value.field == "iterations"
    assert "use open-fair mode" in caught.value.reason


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factors", "field", "reason"),
    [
        ({"lef": "5,3,1", "lm": 1}, "lef", "minimum (5) is above maximum (1)"),
        ({"lef": "1,9,5", "lm": 1}, "lef", "most likely value (9) is outside"),
        ({"lef": "-1,2,3", "lm": 1}, "lef", "minimum (-1) is negative"),
        ({"tef": -2, "vuln": 0.5, "lm": 1}, "tef", "value (-2) is negative"),
        ({"lef": 1, "lm": "-5,1,2"}, "lm", "minimum (-5) is negative"),
        ({"lef": 1, "lm": 1, "slef": 0.5, "slm": "lognormal:1,2"}, None, None),
        ({"tef": 1, "vuln": "0.1,0.5,1.5", "lm": 1}, "vuln", "maximum (1.5) is above 1"),
        ({"tef": 1, "vuln": -0.1, "lm": 1}, "vuln", "value (-0.1) is negative"),
        ({"tef": 1, "vuln": "lognormal:0.1,0.5", "lm": 1}, "vuln", "not a lognormal"),
        ({"lef": 1, "lm": 1, "slef": 1.2, "slm": 5}, "slef", "value (1.2) is above 1"),
        ({"lef": "a,2,3", "lm": 1}, "lef", "minimum must be a number, not 'a'"),
        ({"lef": 1, "lm": math.nan}, "lm", "value must be a finite number, not nan"),
        ({"lef": 1}, "lm", "missing: the primary loss magnitude is required"),
        ({"lm": 1}, "lef", "missing: give lef, or tef with vuln"),
        ({"lef": 1, "tef": 1, "vuln": 0.5, "lm": 1}, "lef", "not both"),
        ({"lef": 1, "vuln": 0.5, "lm": 1}, "lef", "not both"),
        ({"tef": 1, "lm": 1}, "vuln", "missing: tef needs vuln"),
        ({"vuln": 0.2, "lm": 1}, "tef", "missing: vuln needs tef"),
        ({"lef": 1, "lm": 1, "slef": 0.5}, "slm", "missing: slef needs slm"),
        ({"lef": 1, "lm": 1, "slm": 5}, "slef", "missing: slm needs slef"),
        ({"lef": 1, "lm": 1, "loss": 5}, "loss", "unknown factor"),
    ],
)
def test_bad_scenarios_name_the_field(
    factors: dict[str, object], field: str | None, reason: str | None
) -> None:
    if field is None:  # a lognormal secondary magnitude is fine
        Scenario.from_dict(factors)
        return
    with pytest.raises(FieldError) as caught:
        Scenario.from_dict(factors)
    assert caught.value.field == field
    assert reason is not None and reason in caught.value.reason
    assert caught.value.message.startswith(f"{field}: ")


def test_scenario_checks_estimates_built_directly() -> None:
    with pytest.raises(FieldError, match=r"^slef: maximum"):
        Scenario(
            lef=Estimate.constant(1),
            lm=Estimate.constant(1),
            slef=Estimate.uniform(0, 2),
            slm=Estimate.constant(1),
        )
    with pytest.raises(FieldError, match=r"^lm: expected an Estimate, not str"):
        Scenario(lef=Estimate.constant(1), lm="1,2,3")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"iterations": 0}, "iterations", "must be between 1 and 10,000,000, not 0"),
        ({"iterations": -5}, "iterations", "must be between 1"),
        ({"iterations": 10_000_001}, "iterations", "not 10,000,001"),
        ({"iterations": 2.5}, "iterations", "must be a whole number"),
        ({"iterations": "1000"}, "iterations", "must be a whole number"),
        ({"iterations": True}, "iterations", "must be a whole number"),
        ({"seed": -1}, "seed", "must be a whole number >= 0"),
        ({"seed": 1.5}, "seed", "must be a whole number >= 0"),
        ({"mode": "monte-carlo"}, "mode", "must be open-fair or compound"),
        ({"tolerance": -1}, "tolerance", "must be a finite amount >= 0"),
        ({"tolerance": math.inf}, "tolerance", "must be a finite amount >= 0"),
        ({"tolerance": "lots"}, "tolerance", "must be a number"),
    ],
)
def test_bad_run_parameters_name_the_field(kwargs: dict[str, Any], field: str, reason: str) -> None:
    arguments: dict[str, Any] = {"iterations": 100, "seed": 1} | kwargs
    with pytest.raises(FieldError) as caught:
        simulate(TYPICAL, **arguments)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_result_json_shape() -> None:
    data = simulate(TYPICAL, iterations=1000, seed=1, tolerance=5e5).to_dict()
    assert set(data) == {
        *("mode", "seed", "iterations", "mean", "std", "min", "max"),
        *("p10", "p50", "p90", "p95", "p99", "prob_loss", "tolerance", "prob_exceed"),
        *("lec", "sensitivity"),
    }
    assert data["mode"] == "open-fair" and data["iterations"] == 1000 and data["seed"] == 1
    assert set(data["lec"][0]) == {"loss", "prob_exceed"}
    assert set(data["sensitivity"][0]) == {"factor", "spearman"}
