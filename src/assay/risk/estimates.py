"""Calibrated estimates: the distributions FAIR factors are drawn from (pure, no I/O).

An `Estimate` is what an analyst states about an uncertain quantity:

- `pert`: minimum, most likely, maximum and a confidence λ (the PERT shape, default 4): the
  modified-PERT Beta with alpha = 1 + λ·(mode - min)/(max - min),
  beta = 1 + λ·(max - mode)/(max - min), mean (min + λ·mode + max)/(λ + 2);
- `lognormal`: a 90% interval, `low` and `high` being the 5th and 95th percentiles:
  mu = (ln low + ln high)/2, sigma = (ln high - ln low)/(2·1.6448536);
- `uniform`: minimum and maximum;
- `constant`: one value.

Estimates validate themselves (`InvalidInput` naming the parameter); `estimate_from` also accepts
numbers, `MIN,MODE,MAX` text, sequences and mappings, and names the field in its errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assay.errors import InvalidInput

Z90 = 1.6448536269514722
"""The standard normal's 95th percentile: a 90% interval spans ±Z90 standard deviations."""
DEFAULT_CONFIDENCE = 4.0
MAX_CONFIDENCE = 1000.0

Samples = NDArray[np.float64]


class FieldError(InvalidInput):
    """Invalid input for one named field (a FAIR factor, `iterations`, `tolerance`...)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Kind(StrEnum):
    PERT = "pert"
    LOGNORMAL = "lognormal"
    UNIFORM = "uniform"
    CONSTANT = "constant"


def fmt(value: float) -> str:
    """A number for messages: integers without a decimal point, others as Python writes them."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def number(name: str, value: object) -> float:
    """`value` (an int or float, not text) as a finite float, or `InvalidInput` naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        shown = "nothing" if value is None else repr(value)
        raise InvalidInput(f"{name} must be a number, not {shown}")
    result = float(value)
    if not math.isfinite(result):
        raise InvalidInput(f"{name} must be a finite number, not {fmt(result)}")
    return result


def check_confidence(value: object) -> float:
    """PERT's λ: a number above 0 and at most MAX_CONFIDENCE."""
    confidence = number("confidence", value)
    if not 0 < confidence <= MAX_CONFIDENCE:
        raise InvalidInput(
            f"confidence must be above 0 and at most {fmt(MAX_CONFIDENCE)}, not {fmt(confidence)}"
        )
    return confidence


def _from_text(name: str, text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        shown = repr(text.strip()) if text.strip() else "nothing"
        raise InvalidInput(f"{name} must be a number, not {shown}") from None


_LOW_HIGH = {
    Kind.PERT: ("minimum", "maximum"),
    Kind.UNIFORM: ("minimum", "maximum"),
    Kind.LOGNORMAL: ("low (5th percentile)", "high (95th percentile)"),
    Kind.CONSTANT: ("value", "value"),
}


@dataclass(frozen=True, slots=True)
class Estimate:
    """One calibrated estimate. Build it with `pert`, `lognormal`, `uniform` or `constant`.

    `low`/`high` are the minimum and maximum (pert, uniform), the 90% interval (lognormal) or
    the value twice (constant); `mode` is the most likely value (pert only); `confidence` is
    PERT's λ.
    """

    kind: Kind
    low: float
    high: float
    mode: float | None = None
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        try:
            kind = Kind(self.kind)
        except ValueError:
            choices = ", ".join(k.value for k in Kind)
            raise InvalidInput(f"kind must be one of {choices}, not {self.kind!r}") from None
        low_name, high_name = _LOW_HIGH[kind]
        low = number(low_name, self.low)
        high = number(high_name, self.high)
        mode: float | None = None
        if kind is Kind.PERT:
            if self.mode is None:
                raise InvalidInput("most likely value is missing")
            mode = number("most likely value", self.mode)
        elif self.mode is not None and kind is not Kind.CONSTANT:
            raise InvalidInput(f"a most likely value applies to pert estimates, not {kind}")
        confidence = check_confidence(self.confidence)
        if kind is Kind.CONSTANT:
            if high != low or (self.mode is not None and number("value", self.mode) != low):
                raise InvalidInput("a constant has one value")
            mode = low
        elif low > high:
            raise InvalidInput(f"{low_name} ({fmt(low)}) is above {high_name} ({fmt(high)})")
        if mode is not None and not low <= mode <= high:
            raise InvalidInput(
                f"most likely value ({fmt(mode)}) is outside "
                f"[minimum {fmt(low)}, maximum {fmt(high)}]"
            )
        if kind is Kind.LOGNORMAL:
            if low <= 0:
                raise InvalidInput(f"{low_name} ({fmt(low)}) must be above 0 for a lognormal")
            if low == high:
                raise InvalidInput(f"{low_name} equals {high_name}: use a constant")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "confidence", confidence)

    @classmethod
    def pert(
        cls, minimum: float, mode: float, maximum: float, confidence: float = DEFAULT_CONFIDENCE
    ) -> Estimate:
        return cls(Kind.PERT, minimum, maximum, mode, confidence)

    @classmethod
    def lognormal(cls, low: float, high: float) -> Estimate:
        """From a 90% interval: `low` is the 5th percentile, `high` the 95th."""
        return cls(Kind.LOGNORMAL, low, high)

    @classmethod
    def uniform(cls, minimum: float, maximum: float) -> Estimate:
        return cls(Kind.UNIFORM, minimum, maximum)

    @classmethod
    def constant(cls, value: float) -> Estimate:
        return cls(Kind.CONSTANT, value, value)

    @property
    def is_constant(self) -> bool:
        """True when every draw is the same number (a constant, or a range of zero width)."""
        return self.kind is not Kind.LOGNORMAL and self.low == self.high

    @property
    def lognormal_mu_sigma(self) -> tuple[float, float]:
        """mu and sigma of the underlying normal (lognormal estimates)."""
        log_low, log_high = math.log(self.low), math.log(self.high)
        return (log_low + log_high) / 2, (log_high - log_low) / (2 * Z90)

    @property
    def mean(self) -> float:
        """The analytic mean."""
        if self.kind is Kind.PERT:
            assert self.mode is not None
            lam = self.confidence
            return (self.low + lam * self.mode + self.high) / (lam + 2)
        if self.kind is Kind.LOGNORMAL:
            mu, sigma = self.lognormal_mu_sigma
            return math.exp(mu + sigma * sigma / 2)
        return (self.low + self.high) / 2

    @property
    def upper_bound(self) -> float:
        """The largest value a draw can take (infinite for a lognormal)."""
        return math.inf if self.kind is Kind.LOGNORMAL else self.high

    def sample(self, rng: np.random.Generator, size: int) -> Samples:
        """`size` independent draws."""
        if self.is_constant:
            return np.full(size, self.low)
        if self.kind is Kind.LOGNORMAL:
            mu, sigma = self.lognormal_mu_sigma
            return rng.lognormal(mu, sigma, size)
        if self.kind is Kind.UNIFORM:
            return rng.uniform(self.low, self.high, size)
        assert self.mode is not None
        span = self.high - self.low
        alpha = 1 + self.confidence * (self.mode - self.low) / span
        beta = 1 + self.confidence * (self.high - self.mode) / span
        draws = rng.beta(alpha, beta, size)
        draws *= span
        draws += self.low
        return draws

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form that `estimate_from` reads back."""
        if self.kind is Kind.CONSTANT:
            return {"kind": "constant", "value": self.low}
        if self.kind is Kind.LOGNORMAL:
            return {"kind": "lognormal", "low": self.low, "high": self.high}
        if self.kind is Kind.UNIFORM:
            return {"kind": "uniform", "min": self.low, "max": self.high}
        return {
            "kind": "pert",
            "min": self.low,
            "mode": self.mode,
            "max": self.high,
            "confidence": self.confidence,
        }

    def __str__(self) -> str:
        if self.kind is Kind.CONSTANT:
            return fmt(self.low)
        if self.kind is Kind.PERT:
            assert self.mode is not None
            shape = f", λ {fmt(self.confidence)}" if self.confidence != DEFAULT_CONFIDENCE else ""
            return f"pert {fmt(self.low)}, {fmt(self.mode)}, {fmt(self.high)}{shape}"
        return f"{self.kind} {fmt(self.low)}, {fmt(self.high)}"


_KEYS = {
    Kind.PERT: ({"min", "mode", "max"}, {"confidence"}),
    Kind.LOGNORMAL: ({"low", "high"}, set()),
    Kind.UNIFORM: ({"min", "max"}, set()),
    Kind.CONSTANT: ({"value"}, set()),
}


def _from_mapping(data: Mapping[str, Any], confidence: float) -> Estimate:
    if "kind" not in data:
        raise InvalidInput("kind is missing (pert, lognormal, uniform or constant)")
    try:
        kind = Kind(str(data["kind"]).strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in Kind)
        raise InvalidInput(f"kind must be one of {choices}, not {data['kind']!r}") from None
    required, optional = _KEYS[kind]
    given = set(data) - {"kind"}
    if missing := sorted(required - given):
        raise InvalidInput(f"{', '.join(missing)} missing for a {kind} estimate")
    if unknown := sorted(given - required - optional):
        raise InvalidInput(f"unknown key {unknown[0]!r} for a {kind} estimate")
    if kind is Kind.PERT:
        return Estimate.pert(
            data["min"], data["mode"], data["max"], data.get("confidence", confidence)
        )
    if kind is Kind.LOGNORMAL:
        return Estimate.lognormal(data["low"], data["high"])
    if kind is Kind.UNIFORM:
        return Estimate.uniform(data["min"], data["max"])
    return Estimate.constant(data["value"])


def _from_numbers(kind: Kind | None, values: Sequence[Any], confidence: float) -> Estimate:
    count = len(values)
    if kind is None:
        kind = {1: Kind.CONSTANT, 3: Kind.PERT}.get(count)
        if kind is None:
            raise InvalidInput(
                f"give MIN,MODE,MAX or one VALUE (or uniform:MIN,MAX, lognormal:LOW,HIGH), "
                f"not {count} numbers"
            )
    expected = {Kind.PERT: 3, Kind.LOGNORMAL: 2, Kind.UNIFORM: 2, Kind.CONSTANT: 1}[kind]
    if count != expected:
        raise InvalidInput(f"a {kind} estimate takes {expected} numbers, not {count}")
    names = {
        Kind.PERT: ("minimum", "most likely value", "maximum"),
        Kind.LOGNORMAL: ("low (5th percentile)", "high (95th percentile)"),
        Kind.UNIFORM: ("minimum", "maximum"),
        Kind.CONSTANT: ("value",),
    }[kind]
    numbers = [
        number(name, _from_text(name, value) if isinstance(value, str) else value)
        for name, value in zip(names, values, strict=True)
    ]
    if kind is Kind.PERT:
        return Estimate.pert(numbers[0], numbers[1], numbers[2], confidence)
    if kind is Kind.LOGNORMAL:
        return Estimate.lognormal(numbers[0], numbers[1])
    if kind is Kind.UNIFORM:
        return Estimate.uniform(numbers[0], numbers[1])
    return Estimate.constant(numbers[0])


def parse(text: str, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Read the text notation: `MIN,MODE,MAX` (pert), `VALUE` (constant), or `KIND:NUMBERS`
    with KIND one of pert, lognormal (LOW,HIGH: a 90% interval), uniform, constant."""
    kind: Kind | None = None
    body = text.strip()
    if ":" in body:
        prefix, body = body.split(":", 1)
        try:
            kind = Kind(prefix.strip().lower())
        except ValueError:
            choices = ", ".join(k.value for k in Kind)
            raise InvalidInput(f"unknown distribution {prefix.strip()!r} ({choices})") from None
    if not body.strip():
        raise InvalidInput("no numbers given")
    return _from_numbers(kind, [part.strip() for part in body.split(",")], confidence)


def estimate_from(field: str, value: object, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """An `Estimate` from what a caller may hold: an Estimate, a number (constant), text in the
    `parse` notation, a sequence of 1 or 3 numbers, or a mapping like `Estimate.to_dict()`.
    Errors are `FieldError`s naming `field`."""
    try:
        if isinstance(value, Estimate):
            return value
        if value is None:
            raise InvalidInput("missing")
        if isinstance(value, str):
            return parse(value, confidence)
        if isinstance(value, Mapping):
            return _from_mapping(value, confidence)
        if isinstance(value, Sequence):
            return _from_numbers(None, value, confidence)
        return Estimate.constant(number("value", value))
    except FieldError:
        raise
    except InvalidInput as exc:
        raise FieldError(field, exc.message) from None
