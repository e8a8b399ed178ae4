"""The 5x5 matrix: NIST SP 800-30 scale names, a level for every cell, validated data that can
be replaced by another file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.catalog.yamlfile import ContentError
from assay.config import settings
from assay.errors import InvalidInput
from assay.risk.matrix import NAMES, load_matrix, matrix, parse_step

BUILTIN = (Path(__file__).parents[2] / "src/assay/risk/content/matrix.yaml").read_text()


def test_builtin_matrix_uses_the_nist_scale_names() -> None:
    chosen = matrix()
    assert NAMES == ("very low", "low", "moderate", "high", "very high")
    for scale in (chosen.likelihood, chosen.impact, chosen.levels):
        assert [step.name for step in scale] == list(NAMES)
    assert all(step.description for step in chosen.likelihood + chosen.impact)


@pytest.mark.parametrize(
    ("likelihood", "impact", "level"),
    [
        (1, 1, "very low"),
        (1, 5, "low"),
        (2, 2, "low"),
        (3, 3, "moderate"),
        (5, 1, "low"),
        (4, 4, "high"),
        (5, 3, "high"),
        (4, 5, "very high"),
        (5, 5, "very high"),
    ],
)
def test_level_of_a_cell(likelihood: int, impact: int, level: str) -> None:
    assert matrix().level(likelihood, impact).name == level


def test_levels_never_go_down_with_likelihood_or_impact() -> None:
    chosen = matrix()
    for likelihood in range(1, 6):
        row = [chosen.level(likelihood, impact).value for impact in range(1, 6)]
        assert row == sorted(row)
        if likelihood > 1:
            below = [chosen.level(likelihood - 1, impact).value for impact in range(1, 6)]
            assert all(a >= b for a, b in zip(row, below, strict=True))


@pytest.mark.parametrize("value", [0, 6, True, None, 2.5])
def test_level_refuses_cells_outside_the_grid(value: object) -> None:
    with pytest.raises(InvalidInput, match="likelihood must be a whole number from 1 to 5"):
        matrix().level(value, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "step"),
    [(1, 1), ("5", 5), (" Very-High ", 5), ("moderate", 3), (4.0, 4), ("very_low", 1)],
)
def test_steps_by_number_or_name(value: object, step: int) -> None:
    assert parse_step("inherent_impact", value) == step


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "must be 1 to 5, not 0"),
        ("7", "must be 1 to 5, not 7"),
        ("severe", "must be 1 to 5 or one of very low"),
        ("", "not nothing"),
        (None, "not nothing"),
        (True, "not True"),
        (2.5, "not 2.5"),
    ],
)
def test_bad_steps_name_the_field(value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"residual_likelihood: .*{message}"):
        parse_step("residual_likelihood", value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  5: [low, moderate, high, very high, very high]",
            "  5: [low, low, high, very high, very high]\n  9: [low]",
            "grid: give one row",
        ),
        (
            "  1: [very low, very low, low, low, low]",
            "  1: [very low, very low, low, low]",
            "row 1 needs 5 levels",
        ),
        (
            "  2: [very low, low, moderate, moderate, moderate]",
            "  2: [very low, low, moderate, low, moderate]",
            "the level goes down",
        ),
        (
            "  3: [low, moderate, moderate, high, high]",
            "  3: [low, moderate, medium, high, high]",
            "unknown level 'medium'",
        ),
        (
            "    name: moderate\n    description: As likely",
            "    name: medium\n    description: As likely",
            "likelihood: the steps are named",
        ),
        (
            '{value: 5, name: very high, colour: "#E4572E"}',
            '{value: 5, name: very high, colour: "red"}',
            "line 17",
        ),
    ],
)
def test_a_bad_matrix_is_refused_with_its_line(old: str, new: str, message: str) -> None:
    assert old in BUILTIN
    with pytest.raises(ContentError, match=message):
        load_matrix(BUILTIN.replace(old, new).encode(), "mine.yaml")


def test_another_matrix_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stricter = BUILTIN.replace(
        "  1: [very low, very low, low, low, low]", "  1: [very low, low, low, moderate, moderate]"
    )
    path = tmp_path / "matrix.yaml"
    path.write_text(stricter)
    monkeypatch.setenv("ASSAY_RISK_MATRIX", str(path))
    settings.cache_clear()
    try:
        assert matrix().level(1, 5).name == "moderate"
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    assert matrix().level(1, 5).name == "low"
