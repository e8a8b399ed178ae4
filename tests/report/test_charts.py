"""Charts: deterministic SVG, and a chart already drawn is served from the cache."""

from __future__ import annotations

from typing import Any

import pytest
from defusedxml import ElementTree

from assay.report import charts


def test_the_same_bars_are_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    draw = charts._draw_hbars

    def counting(title: str, *args: Any) -> Any:
        drawn.append(title)
        return draw(title, *args)

    monkeypatch.setattr(charts, "_draw_hbars", counting)
    monkeypatch.setattr(charts, "_CACHE", type(charts._CACHE)())
    series = [charts.Series("Claimed", [40.0, 80.0]), charts.Series("Verified", [10.0, None])]
    first = charts.horizontal_bars("Clients", ["A", "B"], series, xlabel="score")
    again = charts.horizontal_bars("Clients", ["A", "B"], series, xlabel="score")
    assert first == again and drawn == ["Clients"]
    assert ElementTree.fromstring(first).tag == "{http://www.w3.org/2000/svg}svg"
    changed = [charts.Series("Claimed", [40.0, 81.0]), series[1]]
    other = charts.horizontal_bars("Clients", ["A", "B"], changed, xlabel="score")
    assert other != first and drawn == ["Clients", "Clients"]


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_CACHE", type(charts._CACHE)())
    monkeypatch.setattr(charts, "CACHE_SIZE", 2)
    for n in range(4):
        charts.heatmap(f"Heat {n}", [charts.HeatRow("GV", 50.0, 20.0, 30.0)])
    assert len(charts._CACHE) == 2
