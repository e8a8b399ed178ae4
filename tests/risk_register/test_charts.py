"""The risk charts: deterministic SVG, nothing drawn without data, short money labels."""

from __future__ import annotations

import pytest

from assay.report import risk_charts
from assay.risk.matrix import matrix


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (950, "950"),
        (12_345, "12k"),
        (3_400_000, "3.4M"),
        (1.2e9, "1.2B"),
        (-5000, "-5.0k"),
    ],
)
def test_money_labels(value: float, text: str) -> None:
    assert risk_charts.money(value) == text


def test_heat_map_is_deterministic_svg() -> None:
    chosen = matrix()
    cells = [
        [
            risk_charts.Cell(chosen.level(row, i).name, chosen.level(row, i).colour)
            for i in range(1, 6)
        ]
        for row in range(1, 6)
    ]
    counts = [[0, 0, 1, 0, 0], [0, 2, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 3, 0], [0] * 5]
    names = [s.name for s in chosen.likelihood]
    first = risk_charts.heat_map(names, names, cells, counts, counts)
    assert first.startswith(b"<?xml") and b"<svg" in first
    assert risk_charts.heat_map(names, names, cells, counts, counts) == first
    other = [[0] * 5 for _ in range(5)]
    assert risk_charts.heat_map(names, names, cells, counts, other) != first


def test_curves_and_gap() -> None:
    points = ((10.0, 0.9), (100.0, 0.5), (1000.0, 0.01))
    assert risk_charts.exceedance("none", [risk_charts.Curve("empty", ())]) is None
    svg = risk_charts.exceedance("A risk", [risk_charts.Curve("residual", points)], tolerance=500.0)
    assert svg is not None and svg.startswith(b"<?xml")
    rows = [risk_charts.GapRow(f"risk {n}", 100.0 * n, 90.0 * n) for n in range(20)]
    gap = risk_charts.verification_gap("gap", rows, risk_charts.GapRow("all", 5.0, 4.0))
    assert gap.startswith(b"<?xml")
