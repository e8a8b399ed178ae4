"""Input rules of the risk register, shared by every interface (pure: no I/O).

A risk arrives as a mapping of field names to loose values (JSON, YAML, form text, CLI
options). `clean_fields` checks each one and returns typed values; every problem is a
`FieldError` naming the field (`title`, `fair.lm`, `controls[1].max`...). References to other
rows (assets, catalog controls, the owner) are resolved by the service.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from assay.errors import InvalidInput
from assay.risk.estimates import FieldError, fmt
from assay.risk.fair import MAX_ITERATIONS, Scenario, check_iterations
from assay.risk.matrix import parse_step
from assay.risk.models import EffectTarget, RiskStatus, Treatment

Choice = TypeVar("Choice", Treatment, RiskStatus)

MAX_TITLE_CHARS = 200
MAX_ACTOR_CHARS = 200
MAX_TEXT_CHARS = 4000
MAX_OWNER_CHARS = 254
MAX_ASSETS = 100
MAX_CONTROLS = 50
MAX_REASON_CHARS = 4000
MAX_AMOUNT = 1e15
"""The largest loss tolerance accepted (a thousand trillion, in any currency)."""
MAX_REGISTER_ITERATIONS = 1_000_000
"""Register simulations (a risk, a portfolio) run at most this many years; `assay risk
simulate` alone goes up to the engine's limit."""
assert MAX_REGISTER_ITERATIONS <= MAX_ITERATIONS

TEXT_FIELDS = {
    "title": MAX_TITLE_CHARS,
    "threat_actor": MAX_ACTOR_CHARS,
    "threat_event": MAX_TEXT_CHARS,
    "weakness": MAX_TEXT_CHARS,
    "description": MAX_TEXT_CHARS,
}
STEP_FIELDS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")
FIELDS = (
    *TEXT_FIELDS,
    "owner",
    "treatment",
    "status",
    "due_on",
    *STEP_FIELDS,
    "fair",
    "tolerance",
    "assets",
    "controls",
)
REQUIRED = ("title", "inherent_likelihood", "inherent_impact")
_NULLABLE = {"owner", "treatment", "due_on", "residual_likelihood", "residual_impact", "fair"}
_NULLABLE |= {"tolerance"}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tab and newline are text
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EFFECTS = {
    "tef": EffectTarget.TEF,
    "frequency": EffectTarget.TEF,
    "threat event frequency": EffectTarget.TEF,
    "vulnerability": EffectTarget.VULNERABILITY,
    "vuln": EffectTarget.VULNERABILITY,
    "lm": EffectTarget.LM,
    "magnitude": EffectTarget.LM,
    "loss magnitude": EffectTarget.LM,
}


def shown(value: object, limit: int = 40) -> str:
    """A value safe to quote in an error: one line, cut short."""
    if value is None:
        return "nothing"
    text = _LINE_CONTROL.sub("?", value if isinstance(value, str) else repr(value))
    if isinstance(value, str):
        text = repr(text if len(text) <= limit else text[: limit - 1] + "…")
    return text


def clean_text(field: str, value: object, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(field, f"must be text, not {shown(value)}")
    text = value.strip()
    if field in ("title", "threat_actor"):
        text = " ".join(text.split())
    if required and not text:
        raise FieldError(field, "must not be empty")
    if len(text) > limit:
        raise FieldError(field, f"must have at most {limit:,} characters, not {len(text):,}")
    if _CONTROL_CHARS.search(text):
        raise FieldError(field, "must not contain control characters")
    return text


def parse_choice(field: str, cls: type[Choice], value: object) -> Choice:
    if not isinstance(value, str):
        raise FieldError(
            field, f"must be one of {', '.join(c.value for c in cls)}, not {shown(value)}"
        )
    key = "_".join(value.strip().lower().replace("-", " ").split())
    try:
        return cls(key)
    except ValueError:
        allowed = ", ".join(c.value for c in cls)
        raise FieldError(field, f"must be one of {allowed}, not {shown(value)}") from None


def parse_date(field: str, value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise FieldError(field, f"must be a date (YYYY-MM-DD), not {shown(value)}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FieldError(field, f"must be a date (YYYY-MM-DD), not {shown(value)}") from None


def parse_amount(field: str, value: object) -> float:
    """A money amount >= 0 (a number, or its text)."""
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            value = float(text)
        except ValueError:
            raise FieldError(field, f"must be a number, not {shown(text)}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(field, f"must be a number, not {shown(value)}")
    amount = float(value)
    if not math.isfinite(amount) or amount < 0:
        raise FieldError(field, f"must be an amount >= 0, not {fmt(amount)}")
    if amount > MAX_AMOUNT:
        raise FieldError(field, f"must be at most {MAX_AMOUNT:,.0f}, not {fmt(amount)}")
    return amount


def parse_fair(value: object) -> dict[str, Any]:
    """FAIR estimates (factor -> estimate in any form `Scenario.from_dict` reads), checked by
    the engine's models and returned in their stored form (`Scenario.to_dict()`)."""
    if not isinstance(value, Mapping):
        raise FieldError(
            "fair",
            f"must map factors (lef or tef and vuln, lm...) to estimates, not {shown(value)}",
        )
    given = {str(name): estimate for name, estimate in value.items() if estimate not in (None, "")}
    if not given:
        raise FieldError("fair", "no estimates given (leave fair out for a qualitative risk)")
    try:
        return Scenario.from_dict(given).to_dict()
    except FieldError as exc:
        raise FieldError(f"fair.{exc.field}", exc.reason) from None


def scenario_of(fair: Mapping[str, Any]) -> Scenario:
    """The stored estimates as a Scenario (they were checked when written)."""
    return Scenario.from_dict(fair)


@dataclass(frozen=True)
class ControlSpec:
    """A control linked to a risk, before the catalog lookup: `framework:label`, the factor it
    reduces and the reduction as fractions (minimum, most likely, maximum)."""

    framework: str
    label: str
    effect: EffectTarget
    low: float
    mode: float
    high: float

    @property
    def reference(self) -> str:
        return f"{self.framework}:{self.label}"


def _fraction(field: str, value: object) -> float:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise FieldError(field, f"must be a number, not {shown(text)}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(field, f"must be a number, not {shown(value)}")
    fraction = float(value)
    if not math.isfinite(fraction) or fraction < 0:
        raise FieldError(field, f"must be a fraction from 0 to 1, not {fmt(fraction)}")
    if fraction > 1:
        raise FieldError(field, f"{fmt(fraction)} is above 1: give fractions (0.4 for 40%) or 40%")
    return fraction


def _reference(field: str, value: object) -> tuple[str, str]:
    if not isinstance(value, str) or ":" not in value.strip():
        raise FieldError(
            field, f"must be FRAMEWORK:LABEL (cis-controls-v8.1:4.1), not {shown(value)}"
        )
    framework, label = (part.strip() for part in value.strip().split(":", 1))
    if not framework or not label or len(framework) > 63 or len(label) > 64:
        raise FieldError(
            field, f"must be FRAMEWORK:LABEL (cis-controls-v8.1:4.1), not {shown(value)}"
        )
    if _LINE_CONTROL.search(framework + label):
        raise FieldError(field, "must not contain control characters")
    return framework, label


def _range(field: str, values: Sequence[object]) -> tuple[float, float, float]:
    if len(values) == 1:
        one = _fraction(field, values[0])
        return one, one, one
    if len(values) == 2:
        low, high = (_fraction(field, v) for v in values)
        mode = (low + high) / 2
    elif len(values) == 3:
        low, mode, high = (_fraction(field, v) for v in values)
    else:
        raise FieldError(
            field, f"give MIN,MODE,MAX (or MIN,MAX, or one value), not {len(values)} numbers"
        )
    return _ordered(field, low, mode, high)


def _ordered(field: str, low: float, mode: float, high: float) -> tuple[float, float, float]:
    if low > high:
        raise FieldError(field, f"minimum ({fmt(low)}) is above maximum ({fmt(high)})")
    if not low <= mode <= high:
        raise FieldError(field, f"most likely ({fmt(mode)}) is outside [{fmt(low)}, {fmt(high)}]")
    return low, mode, high


def parse_control(field: str, value: object) -> ControlSpec:
    """One control: `FRAMEWORK:LABEL:EFFECT:MIN,MODE,MAX` text, or a mapping with `control`
    (FRAMEWORK:LABEL) or `framework` and `label`, `effect`, and `min`, `mode`, `max` (or
    `reduction` as text or a list)."""
    if isinstance(value, str):
        parts = value.strip().rsplit(":", 2)
        if len(parts) != 3 or ":" not in parts[0]:
            raise FieldError(
                field,
                "must be FRAMEWORK:LABEL:EFFECT:MIN,MODE,MAX "
                f"(cis-controls-v8.1:4.1:vulnerability:0.2,0.4,0.6), not {shown(value, 80)}",
            )
        framework, label = _reference(field, parts[0])
        effect = _effect(field, parts[1])
        low, mode, high = _range(field, [p for p in parts[2].split(",")])
        return ControlSpec(framework, label, effect, low, mode, high)
    if not isinstance(value, Mapping):
        raise FieldError(
            field, f"must be a mapping or FRAMEWORK:LABEL:EFFECT:RANGE text, not {shown(value)}"
        )
    known = {"control", "framework", "label", "effect", "min", "mode", "max", "reduction"}
    for key in value:
        if key not in known:
            raise FieldError(f"{field}.{key}", f"unknown key (known: {', '.join(sorted(known))})")
    if "control" in value:
        framework, label = _reference(f"{field}.control", value["control"])
    else:
        for key in ("framework", "label"):
            if not isinstance(value.get(key), str) or not str(value.get(key)).strip():
                raise FieldError(f"{field}.{key}", "missing (or give control: FRAMEWORK:LABEL)")
        framework, label = _reference(f"{field}.control", f"{value['framework']}:{value['label']}")
    if "effect" not in value:
        raise FieldError(f"{field}.effect", "missing: tef, vulnerability or lm")
    effect = _effect(f"{field}.effect", value["effect"])
    if "reduction" in value:
        reduction = value["reduction"]
        items = reduction.split(",") if isinstance(reduction, str) else reduction
        if not isinstance(items, Sequence):
            items = [items]
        low, mode, high = _range(f"{field}.reduction", list(items))
    else:
        for key in ("min", "max"):
            if key not in value:
                raise FieldError(f"{field}.{key}", "missing: give min and max (and mode)")
        low = _fraction(f"{field}.min", value["min"])
        high = _fraction(f"{field}.max", value["max"])
        mode = (
            _fraction(f"{field}.mode", value["mode"])
            if value.get("mode") is not None
            else (low + high) / 2
        )
        if low > high:
            raise FieldError(f"{field}.min", f"minimum ({fmt(low)}) is above maximum ({fmt(high)})")
        low, mode, high = _ordered(f"{field}.mode", low, mode, high)
    return ControlSpec(framework, label, effect, low, mode, high)


def _effect(field: str, value: object) -> EffectTarget:
    key = (
        " ".join(value.strip().lower().replace("_", " ").split()) if isinstance(value, str) else ""
    )
    found = _EFFECTS.get(key)
    if found is None:
        raise FieldError(field, f"must be tef, vulnerability or lm, not {shown(value)}")
    return found


def parse_controls(value: object) -> list[ControlSpec]:
    items = _list("controls", value, MAX_CONTROLS)
    specs = [parse_control(f"controls[{index}]", item) for index, item in enumerate(items)]
    seen: set[tuple[str, str, EffectTarget]] = set()
    for index, spec in enumerate(specs):
        key = (spec.framework, spec.label, spec.effect)
        if key in seen:
            raise FieldError(f"controls[{index}]", f"{spec.reference} reduces {spec.effect} twice")
        seen.add(key)
    return specs


def parse_assets(value: object) -> list[int | str]:
    """Assets by id (a whole number) or by name (text)."""
    refs: list[int | str] = []
    for index, item in enumerate(_list("assets", value, MAX_ASSETS)):
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise FieldError(f"assets[{index}]", f"must be an asset id or name, not {shown(item)}")
        if isinstance(item, str):
            name = clean_text(f"assets[{index}]", item, MAX_TITLE_CHARS, required=True)
            refs.append(" ".join(name.split()))
        elif item < 1:
            raise FieldError(f"assets[{index}]", f"must be an asset id (1 or more), not {item}")
        else:
            refs.append(item)
    return refs


def _list(field: str, value: object, limit: int) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise FieldError(field, f"must be a list, not {shown(value)}")
    if len(value) > limit:
        raise FieldError(field, f"at most {limit} per risk, not {len(value)}")
    return list(value)


def clean_fields(data: Mapping[str, object], *, partial: bool) -> dict[str, Any]:
    """Check the fields given (all of `REQUIRED` unless `partial`); values come back typed:
    text, enums, dates, steps 1..5, FAIR estimates in stored form, the tolerance, asset
    references and `ControlSpec`s. Missing optional fields are left out."""
    if not isinstance(data, Mapping):
        raise InvalidInput("a risk is a mapping of fields to values")
    for name in data:
        if name not in FIELDS:
            raise FieldError(str(name), f"unknown field (known: {', '.join(FIELDS)})")
    if not partial:
        for name in REQUIRED:
            if data.get(name) in (None, ""):
                raise FieldError(name, "missing: required")
    out: dict[str, Any] = {}
    for name, value in data.items():
        if value is None or (value == "" and name not in TEXT_FIELDS):
            if name in REQUIRED:
                raise FieldError(name, "missing: required")
            if name in _NULLABLE:
                out[name] = None
            elif name in ("assets", "controls"):
                out[name] = []
            continue
        out[name] = _clean(name, value)
    return out


def _clean(name: str, value: object) -> Any:
    if name in TEXT_FIELDS:
        return clean_text(name, value, TEXT_FIELDS[name], required=name in REQUIRED)
    if name == "owner":
        owner = clean_text(name, value, MAX_OWNER_CHARS)
        return owner or None
    if name == "treatment":
        return parse_choice(name, Treatment, value)
    if name == "status":
        return parse_choice(name, RiskStatus, value)
    if name == "due_on":
        return parse_date(name, value)
    if name in STEP_FIELDS:
        return parse_step(name, value)
    if name == "fair":
        return parse_fair(value)
    if name == "tolerance":
        return parse_amount(name, value)
    if name == "assets":
        return parse_assets(value)
    return parse_controls(value)


def check_register_iterations(value: object) -> int:
    count = check_iterations(value)
    if count > MAX_REGISTER_ITERATIONS:
        raise FieldError(
            "iterations",
            f"must be between 1 and {MAX_REGISTER_ITERATIONS:,} for the register, not {count:,}",
        )
    return count


def check_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise FieldError("seed", f"must be a whole number from 0 to 2**63 - 1, not {shown(value)}")
    return value
