"""Quantitative FAIR: Monte Carlo simulation of annualized loss (pure numpy, no I/O).

A `Scenario` holds calibrated estimates (`assay.risk.estimates.Estimate`) for the Open FAIR
factors: loss event frequency (`lef`) or threat event frequency times vulnerability
(`tef` * `vuln`), primary loss magnitude (`lm`) and, optionally, the probability of a secondary
loss given a loss event (`slef`) with its magnitude (`slm`).

Each iteration is one simulated year. Two modes:

- `open-fair` (as the standard and pyfair compute it): loss = LEF * (LM + SLEF * SLM), every
  factor drawn once per iteration;
- `compound`: the number of loss events in the year is Poisson(LEF), each event draws its own
  primary magnitude and, with probability SLEF, a secondary loss with its own magnitude.

Control effects (`ControlEffect`) reduce frequency, vulnerability or magnitude by a fraction
drawn per iteration. Runs are reproducible: chunk k of `CHUNK` iterations draws from a Generator
seeded by the k-th child of `SeedSequence(seed)`. Memory: the annual-loss vector (8 bytes per
iteration) plus one chunk of factors; compound mode draws per-event magnitudes in batches of at
most `EVENT_BATCH`. Sensitivity is the Spearman rank correlation of each sampled input with the
annual loss over the first `SENSITIVITY_SAMPLE` iterations. See docs/risk.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from assay.errors import InvalidInput
from assay.risk.estimates import (
    DEFAULT_CONFIDENCE,
    Estimate,
    FieldError,
    Kind,
    Samples,
    estimate_from,
    fmt,
)

DEFAULT_ITERATIONS = 100_000
MAX_ITERATIONS = 10_000_000
CHUNK = 250_000
"""Iterations simulated at a time; also the unit of seeding (one SeedSequence child each)."""
EVENT_BATCH = 1_000_000
"""Compound mode: the most per-event magnitudes held in memory at once."""
MAX_EVENTS = 200_000_000
"""Compound mode: the most loss events one run may draw (mean frequency * iterations)."""
SENSITIVITY_SAMPLE = 50_000
"""Iterations (the first ones) whose inputs are kept for the sensitivity ranking."""
LEC_POINTS = 50
LEC_DECADES = 6
"""The loss exceedance curve spans at most this many decades below the largest loss."""
PERCENTILES = (10, 50, 90, 95, 99)

FACTORS = ("lef", "tef", "vuln", "lm", "slef", "slm")
_PROBABILITIES = frozenset({"vuln", "slef"})
_NAMES = {
    "lef": "loss event frequency",
    "tef": "threat event frequency",
    "vuln": "vulnerability",
    "lm": "primary loss magnitude",
    "slef": "secondary loss probability",
    "slm": "secondary loss magnitude",
}


class Mode(StrEnum):
    OPEN_FAIR = "open-fair"
    COMPOUND = "compound"


ProgressCallback = Callable[[int], None]
"""Called after each chunk with the number of iterations done so far."""


def _check_domain(name: str, estimate: Estimate, probability: bool) -> None:
    """Frequencies and magnitudes are at least 0; probabilities lie in [0, 1]."""
    what = "probability" if probability else "frequency or magnitude"
    if estimate.low < 0:
        lowest = "value" if estimate.kind is Kind.CONSTANT else "minimum"
        raise FieldError(name, f"{lowest} ({fmt(estimate.low)}) is negative: a {what} is >= 0")
    if probability:
        if estimate.kind is Kind.LOGNORMAL:
            raise FieldError(name, "a probability needs a bounded estimate, not a lognormal")
        if estimate.high > 1:
            highest = "value" if estimate.kind is Kind.CONSTANT else "maximum"
            raise FieldError(
                name, f"{highest} ({fmt(estimate.high)}) is above 1: a probability is 0..1"
            )


@dataclass(frozen=True)
class Scenario:
    """The factor estimates of one loss scenario. Give `lm` and either `lef` or `tef` with
    `vuln`; `slef` and `slm` come together or not at all. `Scenario.of` takes loose values."""

    lm: Estimate | None = None
    lef: Estimate | None = None
    tef: Estimate | None = None
    vuln: Estimate | None = None
    slef: Estimate | None = None
    slm: Estimate | None = None

    def __post_init__(self) -> None:
        for name in FACTORS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Estimate):
                raise FieldError(name, f"expected an Estimate, not {type(value).__name__}")
        if self.lef is not None and (self.tef is not None or self.vuln is not None):
            raise FieldError(
                "lef", "give either lef, or tef with vuln (LEF = TEF * vulnerability), not both"
            )
        if self.lef is None:
            if self.tef is None and self.vuln is None:
                raise FieldError("lef", "missing: give lef, or tef with vuln")
            if self.tef is None:
                raise FieldError("tef", "missing: vuln needs tef (LEF = TEF * vulnerability)")
            if self.vuln is None:
                raise FieldError("vuln", "missing: tef needs vuln (LEF = TEF * vulnerability)")
        if self.lm is None:
            raise FieldError("lm", "missing: the primary loss magnitude is required")
        if (self.slef is None) != (self.slm is None):
            missing, given = ("slm", "slef") if self.slm is None else ("slef", "slm")
            raise FieldError(missing, f"missing: {given} needs {missing}")
        for name in FACTORS:
            value = getattr(self, name)
            if value is not None:
                _check_domain(name, value, name in _PROBABILITIES)

    @classmethod
    def of(
        cls,
        lef: object = None,
        tef: object = None,
        vuln: object = None,
        lm: object = None,
        slef: object = None,
        slm: object = None,
        *,
        confidence: float = DEFAULT_CONFIDENCE,
    ) -> Scenario:
        """A scenario from loose values (see `estimate_from`): numbers, `MIN,MODE,MAX` text,
        sequences, mappings or Estimates; None means not given. PERT estimates given as text
        or numbers get `confidence`."""
        factors = {"lef": lef, "tef": tef, "vuln": vuln, "lm": lm, "slef": slef, "slm": slm}
        return cls.from_dict(factors, confidence)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, object], confidence: float = DEFAULT_CONFIDENCE
    ) -> Scenario:
        """A scenario from a mapping of factor names to loose values (`to_dict()` reads back)."""
        for name in data:
            if name not in FACTORS:
                raise FieldError(name, f"unknown factor (known: {', '.join(FACTORS)})")
        estimates = {
            name: estimate_from(name, value, confidence)
            for name, value in data.items()
            if value is not None
        }
        return cls(**estimates)

    @property
    def frequency_mean(self) -> float:
        """The analytic mean loss event frequency (before controls)."""
        if self.lef is not None:
            return self.lef.mean
        assert self.tef is not None and self.vuln is not None
        return self.tef.mean * self.vuln.mean

    @property
    def expected_loss(self) -> float:
        """The analytic mean annual loss (before controls), the same in both modes."""
        assert self.lm is not None
        magnitude = self.lm.mean
        if self.slef is not None and self.slm is not None:
            magnitude += self.slef.mean * self.slm.mean
        return self.frequency_mean * magnitude

    def to_dict(self) -> dict[str, Any]:
        return {
            name: estimate.to_dict()
            for name in FACTORS
            if (estimate := getattr(self, name)) is not None
        }


@dataclass(frozen=True)
class ControlEffect:
    """The effect of one control: fractions (0..1, drawn per iteration) by which it reduces
    the threat event frequency (or LEF when given directly), the vulnerability (or LEF), and
    the loss magnitude of each event (primary and secondary). Several effects multiply:
    a factor is scaled by Π(1 - fraction)."""

    name: str
    frequency: Estimate | None = None
    vulnerability: Estimate | None = None
    magnitude: Estimate | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise FieldError("control", "a control effect needs a name")
        for part in ("frequency", "vulnerability", "magnitude"):
            value = getattr(self, part)
            if value is not None:
                if not isinstance(value, Estimate):
                    raise FieldError(
                        f"{self.name}.{part}", f"expected an Estimate, not {type(value).__name__}"
                    )
                _check_domain(f"{self.name}.{part}", value, probability=True)

    def parts(self) -> list[tuple[str, Estimate]]:
        return [
            (part, estimate)
            for part in ("frequency", "vulnerability", "magnitude")
            if (estimate := getattr(self, part)) is not None
        ]


@dataclass(frozen=True)
class Point:
    """One point of the loss exceedance curve: P(annual loss > loss)."""

    loss: float
    probability: float


@dataclass(frozen=True)
class Sensitivity:
    """Spearman rank correlation of one sampled input with the annual loss."""

    factor: str
    spearman: float


@dataclass(frozen=True)
class Summary:
    """Statistics of an annual-loss sample (one risk, or a portfolio summed per iteration)."""

    iterations: int
    mean: float
    std: float
    minimum: float
    maximum: float
    percentiles: dict[int, float]
    prob_loss: float
    tolerance: float | None
    prob_exceed: float | None
    lec: tuple[Point, ...]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "iterations": self.iterations,
            "mean": self.mean,
            "std": self.std,
            "min": self.minimum,
            "max": self.maximum,
        }
        out.update({f"p{p}": value for p, value in self.percentiles.items()})
        out.update(
            prob_loss=self.prob_loss,
            tolerance=self.tolerance,
            prob_exceed=self.prob_exceed,
            lec=[{"loss": p.loss, "prob_exceed": p.probability} for p in self.lec],
        )
        return out


@dataclass(frozen=True)
class Result:
    """A simulation's summary, its sensitivity ranking, and what reproduces it."""

    mode: Mode
    seed: int
    summary: Summary
    sensitivity: tuple[Sensitivity, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode.value, "seed": self.seed}
        out.update(self.summary.to_dict())
        out["sensitivity"] = [
            {"factor": s.factor, "spearman": s.spearman} for s in self.sensitivity
        ]
        return out


# --- validation of run parameters -------------------------------------------------------------


def check_iterations(iterations: object) -> int:
    if isinstance(iterations, bool) or not isinstance(iterations, int | np.integer):
        raise FieldError("iterations", f"must be a whole number, not {iterations!r}")
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise FieldError(
            "iterations", f"must be between 1 and {MAX_ITERATIONS:,}, not {int(iterations):,}"
        )
    return int(iterations)


def check_tolerance(tolerance: object) -> float | None:
    if tolerance is None:
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float | np.number):
        raise FieldError("tolerance", f"must be a number, not {tolerance!r}")
    value = float(tolerance)
    if not math.isfinite(value) or value < 0:
        raise FieldError("tolerance", f"must be a finite amount >= 0, not {fmt(value)}")
    return value


def check_mode(mode: object) -> Mode:
    try:
        return Mode(mode if isinstance(mode, str) else "")
    except ValueError:
        raise FieldError("mode", f"must be open-fair or compound, not {mode!r}") from None


def resolve_seed(seed: object) -> int:
    """The seed to use: `seed` itself (a whole number >= 0), or fresh entropy when None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise FieldError("seed", f"must be a whole number >= 0, not {seed!r}")
    return int(seed)


def _check_controls(controls: Sequence[ControlEffect]) -> tuple[ControlEffect, ...]:
    seen: set[str] = set()
    for control in controls:
        if not isinstance(control, ControlEffect):
            raise FieldError("controls", f"expected ControlEffect, not {type(control).__name__}")
        if control.name in seen:
            raise FieldError("controls", f"two control effects are named {control.name!r}")
        seen.add(control.name)
    return tuple(controls)


# --- the simulation ---------------------------------------------------------------------------


class _Inputs:
    """The first `keep` draws of each non-constant input, for the sensitivity ranking."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.values: dict[str, Samples] = {}

    def record(self, name: str, estimate: Estimate, draws: Samples) -> None:
        if self.keep and not estimate.is_constant:
            self.values[name] = draws[: self.keep].copy()


def _reduction(
    controls: Sequence[ControlEffect],
    parts: tuple[str, ...],
    rng: np.random.Generator,
    size: int,
    inputs: _Inputs,
) -> Samples | None:
    """Π(1 - fraction) over the controls' `parts`, per iteration; None when nothing applies."""
    factor: Samples | None = None
    for control in controls:
        for part, estimate in control.parts():
            if part not in parts:
                continue
            fractions = estimate.sample(rng, size)
            inputs.record(f"{control.name}.{part}", estimate, fractions)
            np.subtract(1.0, fractions, out=fractions)
            factor = fractions if factor is None else np.multiply(factor, fractions, out=factor)
    return factor


def _frequency(
    scenario: Scenario,
    controls: Sequence[ControlEffect],
    rng: np.random.Generator,
    size: int,
    inputs: _Inputs,
) -> Samples:
    """Loss events per year for each iteration: LEF, or TEF * vulnerability, after controls."""
    if scenario.lef is not None:
        rate = scenario.lef.sample(rng, size)
        inputs.record("lef", scenario.lef, rate)
    else:
        assert scenario.tef is not None and scenario.vuln is not None
        rate = scenario.tef.sample(rng, size)
        inputs.record("tef", scenario.tef, rate)
        vuln = scenario.vuln.sample(rng, size)
        inputs.record("vuln", scenario.vuln, vuln)
        rate *= vuln
    reduction = _reduction(controls, ("frequency", "vulnerability"), rng, size, inputs)
    if reduction is not None:
        rate *= reduction
    return rate


def _open_fair(
    scenario: Scenario,
    controls: Sequence[ControlEffect],
    rng: np.random.Generator,
    out: Samples,
    inputs: _Inputs,
) -> None:
    """out = LEF * (LM + SLEF * SLM) * magnitude reduction, each drawn once per iteration."""
    size = len(out)
    assert scenario.lm is not None
    rate = _frequency(scenario, controls, rng, size, inputs)
    loss = scenario.lm.sample(rng, size)
    inputs.record("lm", scenario.lm, loss)
    if scenario.slef is not None and scenario.slm is not None:
        slef = scenario.slef.sample(rng, size)
        inputs.record("slef", scenario.slef, slef)
        slm = scenario.slm.sample(rng, size)
        inputs.record("slm", scenario.slm, slm)
        slef *= slm
        loss += slef
    reduction = _reduction(controls, ("magnitude",), rng, size, inputs)
    if reduction is not None:
        loss *= reduction
    np.multiply(rate, loss, out=out)


def _sum_of_draws(
    counts: np.ndarray[Any, np.dtype[np.int64]], estimate: Estimate, rng: np.random.Generator
) -> Samples:
    """For each iteration i, the sum of counts[i] independent draws of `estimate`, holding at
    most EVENT_BATCH draws at once."""
    size = len(counts)
    if estimate.is_constant:
        return np.asarray(counts * estimate.low, dtype=np.float64)
    sums = np.zeros(size)
    ends = np.cumsum(counts)
    start = 0
    while start < size:
        base = int(ends[start - 1]) if start else 0
        stop = int(np.searchsorted(ends, base + EVENT_BATCH, side="right"))
        if stop == start:  # one year with more events than a batch: sum it piece by piece
            remaining, total = int(counts[start]), 0.0
            while remaining:
                piece = min(remaining, EVENT_BATCH)
                total += float(estimate.sample(rng, piece).sum())
                remaining -= piece
            sums[start] = total
            start += 1
            continue
        segment = counts[start:stop]
        drawn = int(ends[stop - 1]) - base
        if drawn:
            magnitudes = estimate.sample(rng, drawn)
            years = np.flatnonzero(segment)
            offsets = ends[start:stop][years] - segment[years] - base
            sums[start + years] = np.add.reduceat(magnitudes, offsets)
        start = stop
    return sums


def _per_event_mean(sums: Samples, counts: np.ndarray[Any, np.dtype[np.int64]]) -> Samples:
    """The mean magnitude of each year's events (NaN for a year without events)."""
    means = np.full(len(sums), np.nan)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means


def _compound(
    scenario: Scenario,
    controls: Sequence[ControlEffect],
    rng: np.random.Generator,
    out: Samples,
    inputs: _Inputs,
    events_so_far: int,
) -> int:
    """out = the year's summed event losses; returns the number of loss events drawn."""
    size = len(out)
    assert scenario.lm is not None
    rate = _frequency(scenario, controls, rng, size, inputs)
    if rate.max(initial=0.0) > MAX_EVENTS:
        raise _too_many_events(float(rate.max()))
    counts = rng.poisson(rate)
    events = int(counts.sum())
    if events_so_far + events > MAX_EVENTS:
        raise _too_many_events(events_so_far + events)
    primary = _sum_of_draws(counts, scenario.lm, rng)
    keep = inputs.keep
    if keep and not scenario.lm.is_constant:
        inputs.values["lm"] = _per_event_mean(primary[:keep], counts[:keep])
    loss = primary
    if scenario.slef is not None and scenario.slm is not None:
        slef = scenario.slef.sample(rng, size)
        inputs.record("slef", scenario.slef, slef)
        secondary_counts = rng.binomial(counts, slef)
        secondary = _sum_of_draws(secondary_counts, scenario.slm, rng)
        if keep and not scenario.slm.is_constant:
            inputs.values["slm"] = _per_event_mean(secondary[:keep], secondary_counts[:keep])
        loss += secondary
        events += int(secondary_counts.sum())
    reduction = _reduction(controls, ("magnitude",), rng, size, inputs)
    if reduction is not None:
        loss *= reduction
    out[:] = loss
    return events


def _too_many_events(events: float) -> FieldError:
    return FieldError(
        "iterations",
        f"compound mode would draw about {events:,.0f} loss events, more than the limit of "
        f"{MAX_EVENTS:,}: lower the iterations or use open-fair mode",
    )


def _run(
    scenario: Scenario,
    iterations: object,
    seed: object,
    mode: object,
    controls: Sequence[ControlEffect],
    keep: int,
    on_progress: ProgressCallback | None,
) -> tuple[Samples, dict[str, Samples], int, Mode]:
    if not isinstance(scenario, Scenario):
        raise InvalidInput(f"expected a Scenario, not {type(scenario).__name__}")
    count = check_iterations(iterations)
    chosen = check_mode(mode)
    effects = _check_controls(controls)
    used_seed = resolve_seed(seed)
    if chosen is Mode.COMPOUND and scenario.frequency_mean * count > MAX_EVENTS:
        raise _too_many_events(scenario.frequency_mean * count)
    losses = np.empty(count)
    inputs = _Inputs(min(keep, count, CHUNK))
    chunks = math.ceil(count / CHUNK)
    events = 0
    for index, child in enumerate(np.random.SeedSequence(used_seed).spawn(chunks)):
        rng = np.random.default_rng(child)
        start = index * CHUNK
        out = losses[start : start + CHUNK]
        recorder = inputs if index == 0 else _Inputs(0)
        if chosen is Mode.OPEN_FAIR:
            _open_fair(scenario, effects, rng, out, recorder)
        else:
            events += _compound(scenario, effects, rng, out, recorder, events)
        if on_progress is not None:
            on_progress(start + len(out))
    return losses, inputs.values, used_seed, chosen


def simulate_samples(
    scenario: Scenario,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int | None = None,
    mode: Mode | str = Mode.OPEN_FAIR,
    controls: Sequence[ControlEffect] = (),
    *,
    on_progress: ProgressCallback | None = None,
) -> Samples:
    """The annual loss of each iteration (unsorted, in iteration order). A portfolio sums
    these vectors per iteration, with a different seed for each risk."""
    losses, _, _, _ = _run(scenario, iterations, seed, mode, controls, 0, on_progress)
    return losses


def simulate(
    scenario: Scenario,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int | None = None,
    mode: Mode | str = Mode.OPEN_FAIR,
    tolerance: float | None = None,
    controls: Sequence[ControlEffect] = (),
    *,
    on_progress: ProgressCallback | None = None,
) -> Result:
    """Simulate `iterations` years of `scenario` and summarize them. With the same seed the
    result is the same; `Result.seed` holds the seed used (fresh entropy when None)."""
    limit = check_tolerance(tolerance)
    losses, inputs, used_seed, chosen = _run(
        scenario, iterations, seed, mode, controls, SENSITIVITY_SAMPLE, on_progress
    )
    ranking = rank_inputs(inputs, losses[:SENSITIVITY_SAMPLE])
    losses.sort()
    return Result(chosen, used_seed, _summarize_sorted(losses, limit), ranking)


# --- statistics -------------------------------------------------------------------------------


def summarize(losses: Samples | Sequence[float], tolerance: float | None = None) -> Summary:
    """Mean, standard deviation, percentiles, exceedance of `tolerance` and the loss exceedance
    curve of an annual-loss sample (for instance a portfolio's per-iteration sum)."""
    limit = check_tolerance(tolerance)
    values = np.sort(np.asarray(losses, dtype=np.float64).ravel())
    return _summarize_sorted(values, limit)


def _quantile(values: Samples, q: float) -> float:
    """Linear interpolation between order statistics (numpy's default 'linear' method)."""
    position = (len(values) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(values) - 1)
    low, high = float(values[below]), float(values[above])
    return low if low == high else low + (position - below) * (high - low)


def _summarize_sorted(values: Samples, tolerance: float | None) -> Summary:
    count = len(values)
    if count == 0:
        raise FieldError("losses", "no samples to summarize")
    lowest, highest = float(values[0]), float(values[-1])
    if not (math.isfinite(lowest) and math.isfinite(highest)):
        raise FieldError("losses", "samples must be finite numbers")
    if lowest == highest:
        mean, std = lowest, 0.0
    else:
        mean = float(np.mean(values))
        squares = 0.0
        for start in range(0, count, CHUNK):
            deviations = values[start : start + CHUNK] - mean
            deviations *= deviations
            squares += float(deviations.sum())
        std = math.sqrt(squares / (count - 1))

    def exceeding(limit: float) -> float:
        return (count - int(np.searchsorted(values, limit, side="right"))) / count

    return Summary(
        iterations=count,
        mean=mean,
        std=std,
        minimum=lowest,
        maximum=highest,
        percentiles={p: _quantile(values, p / 100) for p in PERCENTILES},
        prob_loss=exceeding(0.0),
        tolerance=tolerance,
        prob_exceed=None if tolerance is None else exceeding(tolerance),
        lec=_exceedance_curve(values),
    )


def _exceedance_curve(values: Samples) -> tuple[Point, ...]:
    """LEC_POINTS log-spaced losses from the smallest positive loss (at most LEC_DECADES below
    the largest) to the largest, each with the probability of a year's loss exceeding it."""
    count, highest = len(values), float(values[-1])
    if highest <= 0:
        return ()
    smallest_positive = float(values[np.searchsorted(values, 0.0, side="right")])
    lowest = max(smallest_positive, highest / 10**LEC_DECADES)
    losses = np.geomspace(lowest, highest, LEC_POINTS) if lowest < highest else np.array([highest])
    above = count - np.searchsorted(values, losses, side="right")
    return tuple(
        Point(float(loss), float(n) / count) for loss, n in zip(losses, above, strict=True)
    )


def _ranks(values: Samples) -> Samples:
    """Ranks 0..n-1, ties sharing their average rank."""
    order = np.argsort(values)
    ordered = values[order]
    starts_group = np.empty(len(values), dtype=bool)
    starts_group[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_group[1:])
    ranks = np.empty(len(values))
    if starts_group.all():  # no ties
        ranks[order] = np.arange(len(values), dtype=np.float64)
        return ranks
    group = np.cumsum(starts_group) - 1
    firsts = np.flatnonzero(starts_group)
    sizes = np.diff(np.append(firsts, len(values)))
    ranks[order] = (firsts + (sizes - 1) / 2)[group]
    return ranks


def _correlation(a: Samples, b: Samples) -> float:
    """Pearson's correlation (0 when either side is constant)."""
    a = a - a.mean()
    b = b - b.mean()
    denominator = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return 0.0 if denominator == 0 else float((a * b).sum()) / denominator


def spearman(x: Samples, y: Samples) -> float:
    """Spearman's rank correlation over the pairs where both are finite (0 when undefined:
    fewer than 3 pairs, or either side constant)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.all():
        x, y = x[finite], y[finite]
    if len(x) < 3:
        return 0.0
    return _correlation(_ranks(x), _ranks(y))


def rank_inputs(inputs: Mapping[str, Samples], losses: Samples) -> tuple[Sensitivity, ...]:
    """Inputs by the strength of their Spearman correlation with the loss, strongest first.
    Each input array pairs with the first len(input) losses."""
    loss_ranks: dict[int, Samples] = {}
    ranking = []
    for name, values in inputs.items():
        paired = losses[: len(values)]
        if len(values) >= 3 and np.isfinite(values).all() and np.isfinite(paired).all():
            if len(values) not in loss_ranks:
                loss_ranks[len(values)] = _ranks(paired)
            rho = _correlation(_ranks(values), loss_ranks[len(values)])
        else:
            rho = spearman(values, paired)
        ranking.append(Sensitivity(name, rho))
    return tuple(sorted(ranking, key=lambda s: -abs(s.spearman)))
