"""The qualitative risk matrix: five steps of likelihood and of impact (the scale names of NIST
SP 800-30 Rev. 1) and the risk level of each of the 25 cells.

The matrix is data (`content/matrix.yaml`), validated on load; `ASSAY_RISK_MATRIX` names
another file to use instead. Pure apart from reading that file once per process.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assay.catalog.yamlfile import load
from assay.errors import InvalidInput

SIZE = 5
NAMES = ("very low", "low", "moderate", "high", "very high")
"""The five steps of every scale, lowest first (NIST SP 800-30 Rev. 1)."""
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Step(BaseModel):
    """One step of the likelihood or impact scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: int = Field(ge=1, le=SIZE)
    name: str
    description: str = Field(min_length=1, max_length=300)


class Level(BaseModel):
    """One risk level, with the colour of its cells on the heat map."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: int = Field(ge=1, le=SIZE)
    name: str
    colour: str = Field(pattern=_COLOUR.pattern)


def _check_scale(what: str, steps: list[Step] | list[Level]) -> None:
    values = [step.value for step in steps]
    if values != list(range(1, SIZE + 1)):
        raise ValueError(f"{what}: give the values 1 to {SIZE} in order, not {values}")
    names = tuple(step.name for step in steps)
    if names != NAMES:
        raise ValueError(f"{what}: the steps are named {', '.join(NAMES)} (in that order)")


class Matrix(BaseModel):
    """The whole matrix. `grid[likelihood]` lists the level names at impact 1 to 5."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["assay/risk-matrix/v1"]
    name: str = Field(min_length=1, max_length=200)
    levels: list[Level]
    likelihood: list[Step]
    impact: list[Step]
    grid: dict[int, list[str]]

    @model_validator(mode="after")
    def _consistent(self) -> Matrix:
        _check_scale("levels", self.levels)
        _check_scale("likelihood", self.likelihood)
        _check_scale("impact", self.impact)
        if sorted(self.grid) != list(range(1, SIZE + 1)):
            raise ValueError(f"grid: give one row for each likelihood 1 to {SIZE}")
        for likelihood, row in self.grid.items():
            if len(row) != SIZE:
                raise ValueError(f"grid: row {likelihood} needs {SIZE} levels, not {len(row)}")
            for name in row:
                if name not in NAMES:
                    raise ValueError(f"grid: row {likelihood}: unknown level {name!r}")
        for likelihood in range(1, SIZE + 1):
            for impact in range(1, SIZE + 1):
                here = self.level(likelihood, impact).value
                right = self.level(likelihood, impact + 1).value if impact < SIZE else here
                above = self.level(likelihood + 1, impact).value if likelihood < SIZE else here
                if right < here or above < here:
                    raise ValueError(
                        f"grid: the level goes down after likelihood {likelihood}, impact "
                        f"{impact}: it may only stay or rise with likelihood and impact"
                    )
        return self

    def level(self, likelihood: int, impact: int) -> Level:
        """The risk level of a cell (both values 1 to 5)."""
        for what, value in (("likelihood", likelihood), ("impact", impact)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= SIZE:
                raise InvalidInput(f"{what} must be a whole number from 1 to {SIZE}")
        return self.levels[NAMES.index(self.grid[likelihood][impact - 1])]

    def likelihood_step(self, value: int) -> Step:
        return self.likelihood[value - 1]

    def impact_step(self, value: int) -> Step:
        return self.impact[value - 1]


def parse_step(field: str, value: object) -> int:
    """A likelihood or impact given as 1..5 (a number or its text) or a step name ("high",
    "very-high"); `InvalidInput` naming `field` otherwise."""
    from assay.risk.estimates import FieldError

    if isinstance(value, bool):
        raise FieldError(field, f"must be 1 to {SIZE} or a step name, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = " ".join(value.strip().lower().replace("-", " ").replace("_", " ").split())
        if text in NAMES:
            return NAMES.index(text) + 1
        if not text.isdigit():
            shown = repr(value.strip()[:40]) if value.strip() else "nothing"
            raise FieldError(
                field, f"must be 1 to {SIZE} or one of {', '.join(NAMES)}, not {shown}"
            )
        number = int(text)
    else:
        shown = "nothing" if value is None else repr(value)
        raise FieldError(field, f"must be 1 to {SIZE} or a step name, not {shown}")
    if not 1 <= number <= SIZE:
        raise FieldError(field, f"must be 1 to {SIZE}, not {number}")
    return number


def load_matrix(data: bytes, name: str) -> Matrix:
    """Validate a matrix file; `ContentError` names the line of every problem."""
    return load(data, name, Matrix)


@lru_cache(maxsize=4)
def _matrix_at(path: str | None) -> Matrix:
    if path is None:
        data = resources.files("assay.risk").joinpath("content/matrix.yaml").read_bytes()
        return load_matrix(data, "matrix.yaml")
    return load_matrix(Path(path).read_bytes(), path)


def matrix() -> Matrix:
    """The matrix in use: `ASSAY_RISK_MATRIX` when set, else the built-in one."""
    from assay.config import settings

    chosen = settings().risk_matrix_file
    return _matrix_at(None if chosen is None else str(chosen))
