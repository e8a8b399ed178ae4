"""Estimates: analytic means and spreads against large samples, validation, notations.

Sampling tolerances are 5 standard errors (a false failure about once in 1.7 million runs, and
the seeds are fixed, so a pass is reproducible).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from assay.errors import InvalidInput
from assay.risk.estimates import Z90, Estimate, FieldError, Kind, estimate_from, parse

N = 400_000


def pert_variance(low: float, mode: float, high: float, lam: float) -> float:
    """The modified PERT's variance: (mean - min)(max - mean)/(λ + 3)."""
    mean = (low + lam * mode + high) / (lam + 2)
    return (mean - low) * (high - mean) / (lam + 3)


@pytest.mark.parametrize(
    ("low", "mode", "high", "lam"),
    [
        (10_000, 50_000, 500_000, 4),  # skewed right, the usual loss estimate
        (0.0, 0.0, 1.0, 4),  # mode at the minimum: alpha = 1
        (1.0, 9.0, 10.0, 4),  # skewed left
        (2.0, 3.0, 20.0, 1.5),  # low confidence: wide
        (2.0, 3.0, 20.0, 40.0),  # high confidence: narrow around the mode
    ],
)
def test_pert_mean_and_variance_converge_to_the_modified_pert(
    low: float, mode: float, high: float, lam: float
) -> None:
    estimate = Estimate.pert(low, mode, high, confidence=lam)
    draws = estimate.sample(np.random.default_rng(11), N)

    expected_mean = (low + lam * mode + high) / (lam + 2)
    assert estimate.mean == pytest.approx(expected_mean, rel=1e-12)
    variance = pert_variance(low, mode, high, lam)
    assert abs(draws.mean() - expected_mean) < 5 * math.sqrt(variance / N)
    # A Beta's kurtosis is below 3, so the sample variance's standard error is below
    # variance * sqrt(2/N); 5 of those is under 1.2% here.
    assert draws.var(ddof=1) == pytest.approx(variance, rel=5 * math.sqrt(2 / N))
    assert draws.min() >= low
    assert draws.max() <= high


def test_pert_mode_is_the_most_likely_region() -> None:
    draws = Estimate.pert(0, 2, 10).sample(np.random.default_rng(5), N)
    counts, edges = np.histogram(draws, bins=20, range=(0, 10))
    assert edges[int(np.argmax(counts))] in (1.5, 2.0)  # the density peaks at the mode, 2
    assert counts[3] > 2 * counts[0] and counts[3] > 2 * counts[10]


def test_lognormal_from_a_90_percent_interval() -> None:
    low, high = 20_000.0, 2_000_000.0
    estimate = Estimate.lognormal(low, high)
    mu = (math.log(low) + math.log(high)) / 2
    sigma = (math.log(high) - math.log(low)) / (2 * 1.6448536)
    assert estimate.lognormal_mu_sigma == pytest.approx((mu, sigma), rel=1e-7)
    expected_mean = math.exp(mu + sigma**2 / 2)
    assert estimate.mean == pytest.approx(expected_mean, rel=1e-7)

    draws = estimate.sample(np.random.default_rng(3), N)
    std = math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2))
    assert abs(draws.mean() - expected_mean) < 5 * std / math.sqrt(N)
    # The interval's ends are the 5th and 95th percentiles: 5 standard errors of a sample
    # proportion at p = 0.05.
    tolerance = 5 * math.sqrt(0.05 * 0.95 / N)
    assert np.mean(draws < low) == pytest.approx(0.05, abs=tolerance)
    assert np.mean(draws > high) == pytest.approx(0.05, abs=tolerance)
    assert pytest.approx(1.6448536, abs=1e-7) == Z90


def test_uniform_and_constant() -> None:
    uniform = Estimate.uniform(2, 6)
    draws = uniform.sample(np.random.default_rng(1), N)
    assert uniform.mean == 4
    assert abs(draws.mean() - 4) < 5 * math.sqrt(16 / 12 / N)
    assert draws.min() >= 2 and draws.max() < 6

    constant = Estimate.constant(7.25)
    assert constant.is_constant and constant.mean == 7.25
    assert (constant.sample(np.random.default_rng(1), 10) == 7.25).all()
    assert Estimate.pert(3, 3, 3).is_constant
    assert (Estimate.pert(3, 3, 3).sample(np.random.default_rng(1), 5) == 3).all()


def test_constants_consume_no_randomness() -> None:
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    Estimate.constant(4).sample(rng_a, 1000)
    assert rng_a.random() == rng_b.random()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Estimate.pert(5, 3, 1), "minimum (5) is above maximum (1)"),
        (lambda: Estimate.pert(1, 7, 5), "most likely value (7) is outside [minimum 1, maximum 5]"),
        (lambda: Estimate.pert(1, 0.5, 5), "most likely value (0.5) is outside"),
        (lambda: Estimate.uniform(9, 2), "minimum (9) is above maximum (2)"),
        (lambda: Estimate.lognormal(0, 10), "low (5th percentile) (0) must be above 0"),
        (lambda: Estimate.lognormal(10, 1), "low (5th percentile) (10) is above high"),
        (lambda: Estimate.lognormal(10, 10), "use a constant"),
        (lambda: Estimate.pert("1", 2, 3), "minimum must be a number, not '1'"),  # type: ignore[arg-type]
        (lambda: Estimate.pert(1, None, 3), "most likely value is missing"),  # type: ignore[arg-type]
        (lambda: Estimate.pert(1, 2, math.inf), "maximum must be a finite number, not inf"),
        (lambda: Estimate.constant(math.nan), "value must be a finite number, not nan"),
        (lambda: Estimate.constant(True), "value must be a number, not True"),
        (lambda: Estimate.pert(1, 2, 3, confidence=0), "confidence must be above 0"),
        (lambda: Estimate.pert(1, 2, 3, confidence=5000), "at most 1000"),
        (lambda: Estimate("beta", 1, 2), "kind must be one of"),  # type: ignore[arg-type]
        (lambda: Estimate(Kind.UNIFORM, 1, 2, mode=1.5), "applies to pert estimates"),
    ],
)
def test_bad_estimates_are_refused_with_a_reason(build: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()  # type: ignore[operator]
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2,5", Estimate.pert(1, 2, 5)),
        (" 1 , 2 , 5 ", Estimate.pert(1, 2, 5)),
        ("1e4,5e4,1_000_000", Estimate.pert(10_000, 50_000, 1_000_000)),
        ("7", Estimate.constant(7)),
        ("constant:7", Estimate.constant(7)),
        ("PERT:1,2,5", Estimate.pert(1, 2, 5)),
        ("uniform:0.1,0.4", Estimate.uniform(0.1, 0.4)),
        ("lognormal:1000,100000", Estimate.lognormal(1000, 100_000)),
    ],
)
def test_text_notation(text: str, expected: Estimate) -> None:
    assert parse(text) == expected


def test_confidence_applies_to_pert_from_text() -> None:
    assert parse("1,2,5", confidence=8).confidence == 8
    assert parse("uniform:1,5", confidence=8) == Estimate.uniform(1, 5)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1,2", "lm: give MIN,MODE,MAX or one VALUE"),
        ("1,2,3,4", "lm: give MIN,MODE,MAX or one VALUE"),
        ("a,b,c", "lm: minimum must be a number, not 'a'"),
        ("1,,3", "lm: most likely value must be a number, not nothing"),
        ("", "lm: no numbers given"),
        ("gamma:1,2", "lm: unknown distribution 'gamma'"),
        ("uniform:1,2,3", "lm: a uniform estimate takes 2 numbers, not 3"),
        ("30,20,10", "lm: minimum (30) is above maximum (10)"),
        (None, "lm: missing"),
        (object(), "lm: value must be a number"),
        ({"kind": "pert", "min": 1, "max": 3}, "lm: mode missing for a pert estimate"),
        ({"kind": "uniform", "min": 1, "max": 3, "mode": 2}, "lm: unknown key 'mode'"),
        ({"min": 1}, "lm: kind is missing"),
        ([1, 2], "lm: give MIN,MODE,MAX or one VALUE"),
    ],
)
def test_estimate_from_names_the_field(value: object, message: str) -> None:
    with pytest.raises(FieldError) as caught:
        estimate_from("lm", value)
    assert caught.value.field == "lm"
    assert caught.value.message.startswith(message)


def test_estimate_from_reads_what_callers_hold() -> None:
    pert = Estimate.pert(1, 2, 5, 6)
    assert estimate_from("x", pert) is pert
    assert estimate_from("x", 3) == Estimate.constant(3)
    assert estimate_from("x", (1, 2, 5)) == Estimate.pert(1, 2, 5)
    assert estimate_from("x", [4]) == Estimate.constant(4)
    for estimate in (pert, Estimate.lognormal(1, 9), Estimate.uniform(0, 1), Estimate.constant(2)):
        assert estimate_from("x", estimate.to_dict()) == estimate


def test_str_is_readable() -> None:
    assert str(Estimate.pert(1, 2, 5)) == "pert 1, 2, 5"
    assert str(Estimate.pert(1, 2, 5, 6)) == "pert 1, 2, 5, λ 6"
    assert str(Estimate.lognormal(1000, 5e5)) == "lognormal 1000, 500000"
    assert str(Estimate.constant(0.25)) == "0.25"
