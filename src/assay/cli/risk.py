"""`assay risk`: quantitative risk (FAIR Monte Carlo).

`assay risk simulate` needs no database and starts fast: `assay.cli.main.run` hands it to
`run_simulate` before any other command group is imported. So this module imports only typer
at the top; numpy, rich and the engine come with the command. Commands that need the database
import it (and `assay.cli.context`, which imports SQLAlchemy) inside their function.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from assay.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from assay.risk.fair import Result, Scenario

app = typer.Typer(help="Risk: quantitative FAIR simulation.", no_args_is_help=True)

OPTIONS = {
    "lef": "--lef",
    "tef": "--tef",
    "vuln": "--vuln",
    "lm": "--lm",
    "slef": "--slef",
    "slm": "--slm",
    "iterations": "--iterations",
    "seed": "--seed",
    "mode": "--mode",
    "tolerance": "--tolerance",
    "confidence": "--confidence",
}


def _factor_option(name: str, what: str) -> Any:
    return typer.Option(name, metavar="ESTIMATE", help=what)


Lef = Annotated[str | None, _factor_option("--lef", "Loss events per year (or --tef and --vuln).")]
Tef = Annotated[str | None, _factor_option("--tef", "Threat events per year.")]
Vuln = Annotated[
    str | None, _factor_option("--vuln", "Probability (0..1) that a threat event becomes a loss.")
]
Lm = Annotated[str | None, _factor_option("--lm", "Primary loss per loss event (required).")]
Slef = Annotated[
    str | None, _factor_option("--slef", "Probability (0..1) of a secondary loss per loss event.")
]
Slm = Annotated[str | None, _factor_option("--slm", "Secondary loss per secondary loss event.")]
Iterations = Annotated[
    str, typer.Option("--iterations", metavar="N", help="Simulated years (1 to 10,000,000).")
]
Seed = Annotated[
    str | None,
    typer.Option("--seed", metavar="N", help="Random seed (default: fresh, shown in the output)."),
]
ModeOption = Annotated[
    str,
    typer.Option(
        "--mode",
        metavar="MODE",
        help="open-fair (loss = LEF * magnitude per year) or compound (Poisson events, "
        "a magnitude per event).",
    ),
]
Tolerance = Annotated[
    str | None,
    typer.Option("--tolerance", metavar="AMOUNT", help="Report P(annual loss > AMOUNT)."),
]
Confidence = Annotated[
    str, typer.Option("--confidence", metavar="LAMBDA", help="PERT shape (λ) of every PERT.")
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print only JSON.")]


def _fail(exc: InvalidInput) -> NoReturn:
    """One line on stderr naming the option, exit code 2 (bad usage)."""
    from assay.risk.estimates import FieldError

    if isinstance(exc, FieldError) and exc.field in OPTIONS:
        message = f"{OPTIONS[exc.field]}: {exc.reason}"
    else:
        message = exc.message
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(2)


def _whole(field: str, text: str) -> int:
    """A whole number written as 100000, 100_000 or 1e5."""
    from assay.risk.estimates import FieldError

    cleaned = text.strip()
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        value = float(cleaned)
    except ValueError:
        raise FieldError(field, f"must be a whole number, not {cleaned!r}") from None
    if not value.is_integer():
        raise FieldError(field, f"must be a whole number, not {cleaned!r}")
    return int(value)


def _amount(field: str, text: str) -> float:
    from assay.risk.estimates import FieldError

    try:
        return float(text.strip())
    except ValueError:
        raise FieldError(field, f"must be a number, not {text.strip()!r}") from None


@app.command()
def simulate(
    lef: Lef = None,
    tef: Tef = None,
    vuln: Vuln = None,
    lm: Lm = None,
    slef: Slef = None,
    slm: Slm = None,
    iterations: Iterations = "100000",
    seed: Seed = None,
    mode: ModeOption = "open-fair",
    tolerance: Tolerance = None,
    confidence: Confidence = "4",
    json_output: JsonOutput = False,
) -> None:
    """Simulate one FAIR scenario's annualized loss (no database needed).

    Give --lm and either --lef or --tef with --vuln; --slef and --slm add secondary loss.

    An ESTIMATE is MIN,MODE,MAX (PERT), VALUE (constant), uniform:MIN,MAX or lognormal:LOW,HIGH.

    A lognormal's LOW and HIGH are the 5th and 95th percentiles (a 90% interval).

    Example: assay risk simulate --lef 0.5,2,8 --lm 20000,80000,900000 --tolerance 500000
    """
    from assay.risk.estimates import FieldError, check_confidence
    from assay.risk.fair import Scenario, check_iterations, simulate

    try:
        try:
            lam = check_confidence(_amount("confidence", confidence))
        except FieldError:
            raise
        except InvalidInput as exc:
            raise FieldError("confidence", exc.message.removeprefix("confidence ")) from None
        scenario = Scenario.of(
            confidence=lam, lef=lef, tef=tef, vuln=vuln, lm=lm, slef=slef, slm=slm
        )
        count = check_iterations(_whole("iterations", iterations))
        result = simulate(
            scenario,
            iterations=count,
            seed=None if seed is None else _whole("seed", seed),
            mode=mode,
            tolerance=None if tolerance is None else _amount("tolerance", tolerance),
            on_progress=_progress_bar(count, quiet=json_output),
        )
    except InvalidInput as exc:
        _fail(exc)
    if json_output:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        _render(scenario, result)


class _Bar:
    """A Rich progress bar on stderr for long runs in a terminal."""

    def __init__(self, console: Console, total: int) -> None:
        from rich.progress import Progress

        self.progress = Progress(console=console, transient=True)
        self.task = self.progress.add_task("simulating", total=total)
        self.progress.start()

    def __call__(self, done: int) -> None:
        self.progress.update(self.task, completed=done)
        if self.progress.tasks[0].finished:
            self.progress.stop()


def _progress_bar(total: int, quiet: bool) -> _Bar | None:
    if quiet or total < 2_000_000 or not sys.stderr.isatty():
        return None
    from rich.console import Console

    return _Bar(Console(stderr=True), total)


def _percent(probability: float) -> str:
    if 0 < probability < 0.001:
        return f"{probability:.4%}"
    return f"{probability:.2%}"


def _money(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _render(scenario: Scenario, result: Result) -> None:
    from rich.console import Console
    from rich.table import Table

    from assay.risk.fair import FACTORS

    console = Console(highlight=False, soft_wrap=True)
    summary = result.summary
    inputs = Table(title="Scenario", title_justify="left")
    inputs.add_column("factor")
    inputs.add_column("estimate")
    for name in FACTORS:
        if (estimate := getattr(scenario, name)) is not None:
            inputs.add_row(name, str(estimate))
    console.print(inputs)

    stats = Table(
        title=f"Annualized loss ({result.mode}, {summary.iterations:,} iterations, "
        f"seed {result.seed})",
        title_justify="left",
    )
    stats.add_column("statistic")
    stats.add_column("value", justify="right")
    stats.add_row("mean", _money(summary.mean))
    stats.add_row("standard deviation", _money(summary.std))
    for p, value in summary.percentiles.items():
        stats.add_row(f"P{p}", _money(value))
    stats.add_row("maximum", _money(summary.maximum))
    stats.add_row("P(loss > 0)", _percent(summary.prob_loss))
    if summary.tolerance is not None and summary.prob_exceed is not None:
        stats.add_row(f"P(loss > {_money(summary.tolerance)})", _percent(summary.prob_exceed))
    console.print(stats)

    if result.sensitivity:
        ranking = Table(title="Sensitivity (Spearman rank correlation)", title_justify="left")
        ranking.add_column("input")
        ranking.add_column("rho", justify="right")
        for item in result.sensitivity:
            ranking.add_row(item.factor, f"{item.spearman:+.3f}")
        console.print(ranking)

    if summary.lec:
        curve = Table(title="Loss exceedance curve", title_justify="left")
        curve.add_column("annual loss above", justify="right")
        curve.add_column("probability", justify="right")
        step = max(1, len(summary.lec) // 8)
        points = list(summary.lec[::step])
        if points[-1] is not summary.lec[-1]:
            points.append(summary.lec[-1])
        for point in points:
            curve.add_row(_money(point.loss), _percent(point.probability))
        console.print(curve)


def run_simulate(args: Sequence[str]) -> None:
    """`assay risk simulate ARGS` without building the whole command tree."""
    standalone = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    standalone.command()(simulate)
    standalone(args=list(args), prog_name="assay risk simulate")
