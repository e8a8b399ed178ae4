"""Charts of the risk register as SVG documents: the 5x5 heat map, loss exceedance curves (a
risk, an organization, an MSP's portfolio) and the verification gap.

They share the look and the machinery of `report.charts` (Okabe-Ito colours, deterministic SVG,
the render cache): orange is the loss as the controls stand (claims credited in part), bluish
green the loss with every claimed control verified, dark grey the loss before any control.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.report.charts import CLAIMED, EMPTY, GRID, INK, MUTED, TARGET, VERIFIED, _figure, _render
from assay.report.charts import _short as short

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_GAP_ROWS = 12
MAX_CURVES = 8
CLIENT_COLOURS = ("#0072B2", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999", "#882255")


def money(value: float) -> str:
    """A short amount for axes and labels: 950, 12k, 3.4M, 1.2B."""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = value / limit
            return f"{scaled:.1f}{suffix}" if abs(scaled) < 10 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"


# --- the heat map ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    level: str
    colour: str


def heat_map(
    likelihood: Sequence[str],
    impact: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    inherent: Sequence[Sequence[int]],
    residual: Sequence[Sequence[int]],
) -> bytes:
    """Two 5x5 grids side by side (inherent, residual): each cell shaded by its risk level,
    with the number of risks in it. `cells[l - 1][i - 1]` for likelihood l and impact i."""
    return _render(
        _draw_heat_map,
        tuple(likelihood),
        tuple(impact),
        tuple(tuple(row) for row in cells),
        tuple(tuple(row) for row in inherent),
        tuple(tuple(row) for row in residual),
    )


def _draw_heat_map(
    likelihood: tuple[str, ...],
    impact: tuple[str, ...],
    cells: tuple[tuple[Cell, ...], ...],
    inherent: tuple[tuple[int, ...], ...],
    residual: tuple[tuple[int, ...], ...],
) -> Figure:
    from matplotlib.patches import Rectangle

    size = len(likelihood)
    fig = _figure(9.6, 4.8)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, counts, title in ((axes[0], inherent, "Inherent"), (axes[1], residual, "Residual")):
        for row in range(size):
            for column in range(size):
                cell = cells[row][column]
                count = counts[row][column]
                ax.add_patch(
                    Rectangle(
                        (column, row),
                        1,
                        1,
                        facecolor=cell.colour if count else _pale(cell.colour),
                        edgecolor="white",
                        lw=2,
                    )
                )
                if count:
                    ax.text(
                        column + 0.5,
                        row + 0.5,
                        str(count),
                        ha="center",
                        va="center",
                        fontsize=13,
                        fontweight="bold",
                        color=INK,
                    )
        ax.set_xlim(0, size)
        ax.set_ylim(0, size)
        ax.set_xticks([i + 0.5 for i in range(size)], [name.replace(" ", "\n") for name in impact])
        ax.set_yticks([i + 0.5 for i in range(size)], list(likelihood))
        ax.set_xlabel("Impact")
        ax.tick_params(length=0, labelsize=9)
        for spine in ax.spines.values():
            spine.set_visible(False)
        total = sum(map(sum, counts))
        ax.set_title(f"{title} ({total} risk{'s' if total != 1 else ''})")
    axes[0].set_ylabel("Likelihood")
    return fig


def _pale(colour: str) -> str:
    """The level's colour mixed with the empty grey: a cell without risks."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    base = [int(EMPTY[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(0.35 * c + 0.65 * b) for c, b in zip((red, green, blue), base, strict=True)]
    return "#" + "".join(f"{value:02X}" for value in mixed)


# --- loss exceedance curves ------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One loss exceedance curve: (loss, P(annual loss > loss)) points, losses ascending."""

    name: str
    points: tuple[tuple[float, float], ...]
    kind: str = "residual"  # inherent, residual, verified, total or client


def exceedance(
    title: str, curves: Sequence[Curve], *, tolerance: float | None = None
) -> bytes | None:
    """Loss exceedance curves on a logarithmic loss axis; a dashed line at the tolerance."""
    drawn = [c for c in curves if c.points][: MAX_CURVES + 1]
    if not drawn:
        return None
    return _render(_draw_exceedance, title, tuple(drawn), tolerance)


_STYLE: dict[str, dict[str, Any]] = {
    "inherent": {"color": TARGET, "linestyle": "--", "linewidth": 1.6},
    "residual": {"color": CLAIMED, "linestyle": "-", "linewidth": 2.4},
    "verified": {"color": VERIFIED, "linestyle": "-", "linewidth": 2.0},
    "total": {"color": INK, "linestyle": "-", "linewidth": 2.6},
}


def _draw_exceedance(title: str, curves: tuple[Curve, ...], tolerance: float | None) -> Figure:
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    fig = _figure(7.2, 4.6)
    ax = fig.add_subplot()
    clients = 0
    for curve in curves:
        style = dict(_STYLE.get(curve.kind, {}))
        if curve.kind == "client":
            colour = CLIENT_COLOURS[clients % len(CLIENT_COLOURS)]
            style = {"color": colour, "linestyle": "-", "linewidth": 1.3, "alpha": 0.85}
            clients += 1
        losses = [loss for loss, _ in curve.points]
        chances = [chance for _, chance in curve.points]
        ax.plot(losses, chances, label=short(curve.name, 40), **style)
    if tolerance is not None and tolerance > 0:
        ax.axvline(tolerance, color=MUTED, linestyle=":", linewidth=1.4)
        ax.text(
            tolerance,
            1.0,
            f" tolerance {money(tolerance)}",
            color=MUTED,
            fontsize=8.5,
            va="top",
            ha="left",
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: money(value)))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Annual loss")
    ax.set_ylabel("Chance of a bigger loss in a year")
    ax.grid(color=GRID, which="major")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(short(title, 60))
    fig.legend(loc="outside lower center", ncols=min(len(curves), 3), fontsize=9)
    return fig


# --- the verification gap --------------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    """Mean annual loss as the controls stand and with every claimed control verified."""

    label: str
    as_is: float
    if_verified: float


def verification_gap(title: str, rows: Sequence[GapRow], total: GapRow) -> bytes:
    """The money unverified claims leave on the table: per risk (the largest gaps first, at
    most MAX_GAP_ROWS) and in total, as it stands against every claim verified."""
    ordered = sorted(rows, key=lambda r: (-(r.as_is - r.if_verified), -r.as_is, r.label))
    return _render(_draw_gap, title, tuple(ordered[:MAX_GAP_ROWS]), total)


def _draw_gap(title: str, rows: tuple[GapRow, ...], total: GapRow) -> Figure:
    shown = [total, *rows]
    fig = _figure(7.4, 1.6 + 0.5 * len(shown))
    ax = fig.add_subplot()
    height = 0.38
    positions = list(range(len(shown)))
    as_is = [row.as_is for row in shown]
    verified = [row.if_verified for row in shown]
    ax.barh(
        [p - height / 2 for p in positions],
        as_is,
        height * 0.92,
        color=CLAIMED,
        label="As it stands (claims credited in part)",
        zorder=3,
    )
    ax.barh(
        [p + height / 2 for p in positions],
        verified,
        height * 0.92,
        color=VERIFIED,
        label="With every claimed control verified",
        zorder=3,
    )
    top = max([*as_is, *verified, 1.0])
    for position, row in zip(positions, shown, strict=True):
        gap = row.as_is - row.if_verified
        text = f"gap {money(gap)}" if gap > 0 else "no gap"
        ax.text(
            max(row.as_is, row.if_verified) + top * 0.01,
            position,
            text,
            va="center",
            fontsize=8.5,
            color=INK if gap > 0 else MUTED,
        )
    labels = [short(row.label, 38) for row in shown]
    labels[0] = f"All ({short(total.label, 30)})"
    ax.set_yticks(positions, labels)
    ax.get_yticklabels()[0].set_fontweight("bold")
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.22)
    ax.xaxis.set_major_formatter(_money_formatter())
    ax.set_xlabel("Mean residual annual loss")
    ax.grid(axis="x", color=GRID, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title)
    fig.legend(loc="outside lower center", ncols=2, fontsize=9)
    return fig


def _money_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: money(value) if math.isfinite(value) else "")
