"""Charts of assessment scores as SVG documents, drawn with matplotlib (Agg, no pyplot).

Every chart shows the two figures Assay always shows side by side: what was *claimed* and what
an independent auditor *verified*. Colours are Okabe-Ito (readable with colour-blindness):
orange for claimed, bluish green for verified, dark grey dashes for the target.

The output is deterministic: a fixed `svg.hashsalt` and `svg.id`, no date in the metadata, and
text drawn as paths (`svg.fonttype = path`), so the same scores give the same bytes and the
charts look the same whatever fonts the viewer has. Pages show them with `<img>` (never inline
SVG, which the content security policy would not style).
"""

from __future__ import annotations

import hashlib
import io
import math
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from assay.assess.scoring import AssessmentScore, Group
    from assay.assess.worksheet import ClientOverview

CLAIMED = "#E69F00"
VERIFIED = "#009E73"
TARGET = "#3E4C59"
INK = "#1F2933"
MUTED = "#616E7C"
GRID = "#D9E2EC"
EMPTY = "#EEF1F4"
CSF_KEY = "nist-csf-2.0"
MAX_HEATMAP_ROWS = 40
MAX_TITLE_CHARS = 34

RC = {
    "svg.hashsalt": "assay-charts",
    "svg.id": "assay-chart",
    "svg.fonttype": "path",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
    "font.size": 10,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "legend.frameon": False,
}
_LOCK = threading.Lock()  # rc_context changes process-wide settings while a chart renders


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "Assay"})
    return buffer.getvalue()


# Rendered charts by a digest of what they draw: the same scores give the same bytes, so a
# dashboard seen again (or by a colleague) skips matplotlib, which costs 0.1-0.3 s a chart.
CACHE_SIZE = 128
_CACHE: OrderedDict[str, bytes] = OrderedDict()


def _render(draw: Any, *args: Any) -> bytes:
    import matplotlib

    key = hashlib.sha256(repr((draw.__qualname__, args)).encode()).hexdigest()
    settings: Any = RC  # typed by matplotlib as a dict of literal keys
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
        with matplotlib.rc_context(settings):
            rendered = _svg(draw(*args))
        _CACHE[key] = rendered
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return rendered


def _short(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


# --- the charts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def radar(
    title: str, axes: Sequence[str], series: Sequence[Series], *, maximum: float, unit: str
) -> bytes:
    """A radar (spider) chart: one spoke per axis, one closed line per series."""
    return _render(_draw_radar, title, list(axes), list(series), maximum, unit)


def _draw_radar(
    title: str, axes: list[str], series: list[Series], maximum: float, unit: str
) -> Figure:
    fig = _figure(5.4, 5.0)
    ax: Any = fig.add_subplot(projection="polar")
    angles = [2 * math.pi * i / len(axes) for i in range(len(axes))]
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_xticks(angles, axes)
    ax.tick_params(axis="x", pad=14, labelsize=10)
    ticks = [maximum * k / 5 for k in range(1, 6)]
    ax.set_ylim(0, maximum)
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks], color=MUTED, fontsize=8)
    ax.set_rlabel_position(180 / len(axes))
    ax.grid(color=GRID)
    ax.spines["polar"].set_color(GRID)
    styles = {
        0: {"color": CLAIMED, "linewidth": 2.2, "fill": 0.18, "linestyle": "-", "marker": "o"},
        1: {"color": VERIFIED, "linewidth": 2.2, "fill": 0.28, "linestyle": "-", "marker": "s"},
        2: {"color": TARGET, "linewidth": 1.6, "fill": 0.0, "linestyle": "--", "marker": None},
    }
    for index, one in enumerate(series):
        style = styles[min(index, 2)]
        values = [v if v is not None else 0.0 for v in one.values]
        closed_angles, closed = [*angles, angles[0]], [*values, values[0]]
        ax.plot(
            closed_angles,
            closed,
            color=style["color"],
            linewidth=style["linewidth"],
            linestyle=style["linestyle"],
            marker=style["marker"],
            markersize=4,
            label=one.name,
        )
        if style["fill"]:
            ax.fill(closed_angles, closed, color=style["color"], alpha=style["fill"])
    fig.suptitle(title, fontsize=12, fontweight="bold", color=INK)
    ax.set_title(unit, pad=30, fontsize=8.5, fontweight="normal", color=MUTED)
    fig.legend(loc="outside lower center", ncols=len(series), fontsize=10)
    return fig


def grouped_bars(
    title: str, groups: Sequence[str], series: Sequence[Series], *, ylabel: str
) -> bytes:
    """Vertical bars, one cluster per group, each bar labelled with its value (percent)."""
    return _render(_draw_bars, title, list(groups), list(series), ylabel)


def _draw_bars(title: str, groups: list[str], series: list[Series], ylabel: str) -> Figure:
    fig = _figure(5.4, 5.0)
    ax = fig.add_subplot()
    width = min(0.8 / max(len(series), 1), 0.3)
    colours = [CLAIMED, VERIFIED, TARGET]
    for index, one in enumerate(series):
        offsets = [i + (index - (len(series) - 1) / 2) * width for i in range(len(groups))]
        values = [v if v is not None else 0.0 for v in one.values]
        bars = ax.bar(
            offsets, values, width * 0.92, color=colours[index % 3], label=one.name, zorder=3
        )
        ax.bar_label(bars, labels=[_percent(v) for v in one.values], padding=2, fontsize=9)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_xlim(-0.7, len(groups) - 0.3)
    ax.set_ylim(0, 108)
    ax.set_yticks(range(0, 101, 20), [f"{t}%" for t in range(0, 101, 20)])
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color=GRID, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title)
    fig.legend(loc="outside lower center", ncols=len(series))
    return fig


def horizontal_bars(
    title: str, rows: Sequence[str], series: Sequence[Series], *, xlabel: str
) -> bytes:
    """Horizontal bars, one pair per row (a client's assessment), top to bottom."""
    return _render(_draw_hbars, title, list(rows), list(series), xlabel)


def _draw_hbars(title: str, rows: list[str], series: list[Series], xlabel: str) -> Figure:
    fig = _figure(7.2, 1.4 + 0.52 * max(len(rows), 1))
    ax = fig.add_subplot()
    height = 0.8 / max(len(series), 1)
    colours = [CLAIMED, VERIFIED]
    for index, one in enumerate(series):
        offsets = [i + (index - (len(series) - 1) / 2) * height for i in range(len(rows))]
        values = [v if v is not None else 0.0 for v in one.values]
        bars = ax.barh(
            offsets, values, height * 0.9, color=colours[index % 2], label=one.name, zorder=3
        )
        ax.bar_label(bars, labels=[_percent(v) for v in one.values], padding=3, fontsize=8)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xticks(range(0, 101, 20), [f"{t}%" for t in range(0, 101, 20)])
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color=GRID, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title)
    fig.legend(loc="outside lower center", ncols=len(series))
    return fig


@dataclass(frozen=True)
class HeatRow:
    label: str
    claimed: float | None
    verified: float | None
    gap: float | None


def heatmap(title: str, rows: Sequence[HeatRow]) -> bytes:
    """Rows x (claimed, verified, assurance gap): scores shaded red -> amber -> green, the gap
    from white to red, each cell with its number."""
    return _render(_draw_heatmap, title, list(rows))


def _draw_heatmap(title: str, rows: list[HeatRow]) -> Figure:
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.patches import Rectangle

    score = LinearSegmentedColormap.from_list("score", ["#F8B4B4", "#FCE7A6", "#A7E3B6"])
    gap = LinearSegmentedColormap.from_list("gap", ["#FFFFFF", "#F9C784", "#E4572E"])
    columns = ["Claimed", "Verified", "Assurance gap"]
    fig = _figure(7.4, 1.3 + 0.34 * max(len(rows), 1))
    ax: Axes = fig.add_subplot()
    for y, row in enumerate(rows):
        cells = [(row.claimed, score, 100.0), (row.verified, score, 100.0), (row.gap, gap, 60.0)]
        for x, (value, cmap, top) in enumerate(cells):
            colour = EMPTY if value is None else cmap(max(0.0, min(value / top, 1.0)))
            ax.add_patch(Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="white", lw=2))
            text = "—" if value is None else (f"{value:.0f}" + ("%" if x < 2 else " pts"))
            ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=9, color=INK)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([i + 0.5 for i in range(len(columns))], columns)
    ax.xaxis.tick_top()
    ax.set_yticks([i + 0.5 for i in range(len(rows))], [r.label for r in rows])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, pad=12)
    return fig


# --- charts of an assessment -----------------------------------------------------------------


def _label(group: Group) -> str:
    return f"{group.label} {_short(group.title)}" if group.title else group.label


def csf_radar(score: AssessmentScore) -> bytes | None:
    """CSF assessments: mean maturity per function, claimed vs verified vs target."""
    functions = score.levels.get("function", []) if score.framework == CSF_KEY else []
    if len(functions) < 3:
        return None
    series = [
        Series("Claimed", [g.totals.maturity.claimed for g in functions]),
        Series("Verified", [g.totals.maturity.verified for g in functions]),
    ]
    targets = [g.totals.maturity.target for g in functions]
    if any(t is not None for t in targets):
        series.append(Series("Target", targets))
    return radar(
        "Maturity by CSF function",
        [g.label for g in functions],
        series,
        maximum=5,
        unit="Mean maturity of each function's subcategories, 0 to 5 (unanswered counts 0)",
    )


MAX_BAR_GROUPS = 8


def top_level_bars(score: AssessmentScore) -> bytes | None:
    """The top-level groups (CSF functions, SP 800-53 families when few): each one's
    implementation score, claimed vs verified. CIS has too many controls for bars: its heat
    map shows them."""
    names = list(score.levels)
    groups = score.levels[names[0]] if names else []
    if not 2 <= len(groups) <= MAX_BAR_GROUPS:
        return None
    return grouped_bars(
        f"Implementation by {names[0]}: claimed vs verified",
        [g.label for g in groups],
        [
            Series("Claimed", [g.totals.claimed for g in groups]),
            Series("Verified", [g.totals.verified for g in groups]),
        ],
        ylabel="Implementation score",
    )


def derived_radar(score: AssessmentScore) -> bytes | None:
    """Assessments of another framework (CIS): the CSF 2.0 functions their answers reach
    through the crosswalk, derived claimed vs verified (never answers of CSF itself)."""
    derived = score.derived
    functions = derived.levels.get("function", []) if derived is not None else []
    if len(functions) < 3:
        return None
    return radar(
        "Derived coverage of CSF 2.0 functions",
        [g.label for g in functions],
        [
            Series("Claimed", [g.totals.claimed for g in functions]),
            Series("Verified", [g.totals.verified for g in functions]),
        ],
        maximum=100,
        unit="Derived through the crosswalk: score of the mapped controls, percent",
    )


def implementation_group_bars(score: AssessmentScore) -> bytes | None:
    """CIS assessments: each implementation group's score, claimed vs verified."""
    groups = score.implementation_groups
    if not groups:
        return None
    return grouped_bars(
        "CIS implementation groups: claimed vs verified",
        [g.label for g in groups],
        [
            Series("Claimed", [g.totals.claimed for g in groups]),
            Series("Verified", [g.totals.verified for g in groups]),
        ],
        ylabel="Implementation score",
    )


def heatmap_groups(score: AssessmentScore) -> tuple[str, list[Group]]:
    """The level the heat map shows: the one just above the answered controls (CSF categories,
    CIS controls), or the top level when that has too many rows."""
    names = list(score.levels)
    for name in reversed(names):
        groups = score.levels[name]
        if 0 < len(groups) <= MAX_HEATMAP_ROWS:
            return name, groups
    return (names[0], score.levels[names[0]][:MAX_HEATMAP_ROWS]) if names else ("", [])


def category_heatmap(score: AssessmentScore) -> bytes | None:
    level, groups = heatmap_groups(score)
    if not groups:
        return None
    rows = [
        HeatRow(_label(g), g.totals.claimed, g.totals.verified, g.totals.assurance_gap)
        for g in groups
    ]
    return heatmap(f"Scores by {level}", rows)


def clients_chart(overview: Sequence[ClientOverview]) -> bytes | None:
    """An MSP's clients: each latest assessment's total score, claimed vs verified."""
    rows, claimed, verified = [], [], []
    for client in overview:
        for summary in client.assessments:
            name = f"{client.organization.name} · {summary.assessment.name}"
            rows.append(textwrap.shorten(name, 44, placeholder="…"))
            claimed.append(summary.totals.claimed)
            verified.append(summary.totals.verified)
    if not rows:
        return None
    return horizontal_bars(
        "Clients: claimed vs verified",
        rows,
        [Series("Claimed", claimed), Series("Verified", verified)],
        xlabel="Implementation score (latest assessment per framework)",
    )


CHARTS = {
    "radar": csf_radar,
    "functions": top_level_bars,
    "derived": derived_radar,
    "groups": implementation_group_bars,
    "heatmap": category_heatmap,
}
