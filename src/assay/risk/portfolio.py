"""Portfolios: many risks' annual losses summed per iteration (pure numpy, no I/O).

Each risk (`Exposure`) is simulated with its own seed, derived from the portfolio's seed and
the risk's key, so a risk draws the same years in the portfolio as when simulated alone, and
adding or removing another risk changes nothing about it. The sum is taken per iteration —
the distribution of the total, never a sum of percentiles — and treats the risks as
independent.

Speed and memory: risks are dealt to `LANES` lanes (risk i to lane i mod LANES); each lane keeps
one running vector per variant and adds its risks in order; the lanes run on a small thread pool
(numpy's Generator releases the GIL while it samples) and are added in lane order at the end.
The result therefore depends on neither the number of threads nor their scheduling, and memory
is LANES running vectors plus one risk's draws per busy thread, whatever the number of risks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from assay.risk.estimates import FieldError, Samples
from assay.risk.fair import ControlEffect, Scenario, check_iterations, simulate_samples

LANES = 4
"""Fixed, so that results do not depend on the machine's number of CPUs."""
MAX_WORKERS = LANES


def derive_seed(seed: int, key: int) -> int:
    """The seed of one risk in a run seeded with `seed`: 64 bits from SeedSequence([seed, key])."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise FieldError("seed", f"must be a whole number >= 0, not {seed!r}")
    if isinstance(key, bool) or not isinstance(key, int) or key < 0:
        raise FieldError("key", f"must be a whole number >= 0, not {key!r}")
    words = np.random.SeedSequence([seed, key]).generate_state(2, np.uint32)
    return int(words[0]) << 32 | int(words[1])


@dataclass(frozen=True)
class Exposure:
    """One risk of a portfolio: its scenario and, per variant, the control effects it gets
    (for instance: as the controls stand, and as if every claimed control were verified)."""

    key: int
    scenario: Scenario
    variants: tuple[tuple[ControlEffect, ...], ...] = ((),)


@dataclass(frozen=True)
class Sums:
    """Per variant, the portfolio's annual loss of every iteration; and per exposure (in the
    order given), the mean annual loss of each variant."""

    totals: tuple[Samples, ...]
    means: tuple[tuple[float, ...], ...] = field(default=())


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def sum_losses(
    exposures: Sequence[Exposure],
    iterations: int,
    seed: int,
    *,
    variants: int | None = None,
    workers: int | None = None,
) -> Sums:
    """Simulate every exposure (open-fair mode) and sum their annual losses per iteration,
    one total per variant. Every exposure must have the same number of variants (`variants`
    when given; it sets the number of totals of an empty portfolio)."""
    count = check_iterations(iterations)
    if variants is None:
        variants = len(exposures[0].variants) if exposures else 1
    for exposure in exposures:
        if len(exposure.variants) != variants:
            raise FieldError("variants", "every exposure needs the same number of variants")
    seeds = [derive_seed(seed, exposure.key) for exposure in exposures]
    means: list[tuple[float, ...]] = [() for _ in exposures]

    def lane(first: int) -> list[Samples]:
        running = [np.zeros(count) for _ in range(variants)]
        for index in range(first, len(exposures), LANES):
            exposure = exposures[index]
            found = []
            for total, controls in zip(running, exposure.variants, strict=True):
                losses = simulate_samples(
                    exposure.scenario, count, seed=seeds[index], controls=controls
                )
                found.append(float(losses.mean()))
                total += losses
            means[index] = tuple(found)
        return running

    lanes = range(min(LANES, max(len(exposures), 1)))
    threads = min(workers if workers is not None else default_workers(), len(lanes))
    if threads <= 1:
        results = [lane(first) for first in lanes]
    else:
        with ThreadPoolExecutor(threads, thread_name_prefix="portfolio") as pool:
            results = list(pool.map(lane, lanes))
    totals = results[0]
    for other in results[1:]:
        for total, part in zip(totals, other, strict=True):
            total += part
    return Sums(tuple(totals), tuple(means))
