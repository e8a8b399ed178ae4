"""`assay risk`: quantitative risk (FAIR Monte Carlo) and a client's risk register.

`assay risk simulate` needs no database and starts fast: `assay.cli.main.run` hands it to
`run_simulate` before any other command group is imported. So this module imports only typer
at the top; numpy, rich and the engine come with the command. Commands that need the database
(`create`, `list`, `show`, `update`, `delete`, `accept`, `expire`, `portfolio`) import it (and
`assay.cli.context`, which imports SQLAlchemy) inside their function.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from assay.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.orm import Session

    from assay.auth.actor import Actor
    from assay.risk.fair import Result, Scenario

app = typer.Typer(
    help="Risk: FAIR simulation and the risk register of a client.", no_args_is_help=True
)

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


# --- the risk register (database) -------------------------------------------------------------

RiskId = Annotated[int, typer.Argument(help="Risk id.", min=1, max=2_147_483_647)]
OrgOption = Annotated[str, typer.Option("--org", help="Organization slug.")]
AsUser = Annotated[
    str | None,
    typer.Option("--as", help="Act as this user (their role and separation of duties apply)."),
]
SeedText = Annotated[
    str, typer.Option("--seed", metavar="N", help="Seed of the register's simulations.")
]
RegisterIterations = Annotated[
    str,
    typer.Option("--iterations", metavar="N", help="Simulated years (1 to 1,000,000)."),
]
Text = Annotated[str | None, typer.Option(metavar="TEXT")]

# risk fields -> the options that give them (to name the option in an error)
FIELD_OPTIONS = {
    "title": "--title",
    "threat_actor": "--threat-actor",
    "threat_event": "--threat-event",
    "weakness": "--weakness",
    "description": "--description",
    "owner": "--owner",
    "treatment": "--treatment",
    "status": "--status",
    "due_on": "--due",
    "inherent_likelihood": "--likelihood",
    "inherent_impact": "--impact",
    "residual_likelihood": "--residual-likelihood",
    "residual_impact": "--residual-impact",
    "tolerance": "--tolerance",
    "assets": "--asset",
    "controls": "--control",
    "fair.lef": "--lef",
    "fair.tef": "--tef",
    "fair.vuln": "--vuln",
    "fair.lm": "--lm",
    "fair.slef": "--slef",
    "fair.slm": "--slm",
    "iterations": "--iterations",
    "seed": "--seed",
    "reason": "--reason",
    "expires_on": "--expires",
}
CONTROL_HELP = (
    "A control that reduces the risk, FRAMEWORK:LABEL:EFFECT:MIN,MODE,MAX with EFFECT tef, "
    "vulnerability or lm and fractions (cis-controls-v8.1:4.1:vulnerability:0.2,0.4,0.6); "
    "repeatable."
)


def _register_error(
    exc: InvalidInput, source: str | None = None, given: Collection[str] = ()
) -> NoReturn:
    """One line on stderr naming the option that gave the bad value (or the file and its
    field), exit code 1 like the other database commands."""
    import re

    from assay.cli.context import fail
    from assay.risk.estimates import FieldError

    if isinstance(exc, FieldError):
        top = exc.field.split("[")[0].split(".")[0]
        option = FIELD_OPTIONS.get(exc.field) or FIELD_OPTIONS.get(exc.field.split("[")[0])
        if option is not None and (source is None or top in given):
            index = re.match(r"^\w+\[(\d+)\]", exc.field)
            which = f" #{int(index.group(1)) + 1}" if index else ""
            fail(f"{option}{which}: {exc.reason}")
        if source is not None:
            fail(f"{source}: {exc.field}: {exc.reason}")
    fail(exc.message)


@contextmanager
def _register(
    as_email: str | None,
    *,
    org: str | None = None,
    risk_id: int | None = None,
    source: str | None = None,
    given: Collection[str] = (),
) -> Iterator[tuple[Session, Actor]]:
    """One transaction with the acting identity (on a risk: the membership that reaches its
    organization); input errors name the option, other errors are one line on stderr."""
    from assay.cli.context import errors_reported, resolve_actor
    from assay.db.engine import unit_of_work

    with errors_reported():
        try:
            with unit_of_work() as session:
                if risk_id is not None:
                    actor = _risk_actor(session, as_email, risk_id)
                else:
                    actor = resolve_actor(session, as_email, org)
                yield session, actor
        except InvalidInput as exc:
            _register_error(exc, source, given)


def _read_risk_file(path: Path) -> dict[str, Any]:
    """A risk as YAML or JSON (a mapping of the API's fields)."""
    import yaml

    from assay.cli.context import fail

    try:
        if path.stat().st_size > 1_000_000:
            fail(f"{path}: file too large (limit 1 MB)")
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        fail(f"{path}: not YAML or JSON: {str(exc).splitlines()[0]}")
    if not isinstance(data, dict):
        fail(f"{path}: expected a mapping of risk fields (title, inherent_likelihood, ...)")
    return {str(key): value for key, value in data.items()}


def _given(**options: object) -> dict[str, object]:
    """The risk fields given as options (None: not given; '' clears an optional field)."""
    fair = {name: options.pop(name) for name in ("lef", "tef", "vuln", "lm", "slef", "slm")}
    fields = {key: value for key, value in options.items() if value is not None}
    if any(value is not None for value in fair.values()):
        fields["fair"] = {name: value for name, value in fair.items() if value is not None}
    return fields


def _risk_actor(session: Session, as_email: str | None, risk_id: int) -> Actor:
    """The user acting through the membership that reaches the risk's organization."""
    from assay.cli.context import actor_for_owner
    from assay.risk.service import organization_of

    return actor_for_owner(session, as_email, organization_of(session, risk_id))


def _print_risk(data: dict[str, Any]) -> None:
    from assay.cli.context import stdout

    def level(value: dict[str, Any] | None) -> str:
        if value is None:
            return "—"
        return (
            f"{value['level_name']} (likelihood {value['likelihood_name']}, "
            f"impact {value['impact_name']})"
        )

    stdout.print(f"Risk {data['id']}: {data['title']}  ({data['organization']})", markup=False)
    facts = [
        ("status", data["status"]),
        ("treatment", data["treatment"] or "—"),
        ("owner", data["owner"] or "—"),
        ("due", data["due_on"] or "—"),
        ("threat", " — ".join(x for x in (data["threat_actor"], data["threat_event"]) if x)),
        ("weakness", data["weakness"]),
        ("inherent", level(data["inherent"])),
        ("residual", level(data["residual"])),
        ("assets", ", ".join(a["name"] for a in data["assets"]) or "—"),
    ]
    for name, value in facts:
        if value:
            stdout.print(f"  {name}: {value}", markup=False)
    if data["acceptance"]:
        a = data["acceptance"]
        stdout.print(
            f"  accepted by {a['accepted_by']} until {a['expires_on']}: {a['reason']}",
            markup=False,
        )
    if data["fair"]:
        from assay.risk.estimates import estimate_from

        shown = ", ".join(f"{k} {estimate_from(k, v)}" for k, v in data["fair"].items())
        stdout.print(f"  FAIR: {shown}", markup=False)


def _print_simulation(sim: dict[str, Any]) -> None:
    from assay.cli.context import print_table, stdout

    print_table(
        "Controls (credited by the latest assessment)",
        ["control", "effect", "reduction", "answer", "credit", "if verified"],
        [
            [
                c["control"],
                c["effect"],
                f"{c['min']:g}, {c['mode']:g}, {c['max']:g}",
                c["basis"],
                f"{c['credit']:.0%}",
                f"{c['credit_if_verified']:.0%}",
            ]
            for c in sim["controls"]
        ],
    )
    rows = []
    for key, label in (
        ("inherent", "inherent (no controls)"),
        ("residual", "residual (as assessed)"),
        ("residual_if_verified", "residual, claims verified"),
    ):
        figures = sim[key]
        exceed = figures["prob_exceed"]
        rows.append(
            [
                label,
                _money(figures["mean"]),
                _money(figures["p90"]),
                _money(figures["p99"]),
                "—" if exceed is None else _percent(exceed),
            ]
        )
    print_table(
        f"Annualized loss ({sim['iterations']:,} iterations, seed {sim['seed']})",
        ["", "mean", "P90", "P99", "P(> tolerance)"],
        rows,
    )
    gap = sim["verification_gap"]
    stdout.print(
        f"Verification gap: {_money(gap['mean'])} a year on average "
        f"({_money(gap['p90'])} at P90) would come off if the claimed controls were verified.",
        markup=False,
    )


def _create_options(
    title: str | None,
    threat_actor: str | None,
    threat_event: str | None,
    weakness: str | None,
    description: str | None,
    owner: str | None,
    treatment: str | None,
    status: str | None,
    due: str | None,
    likelihood: str | None,
    impact: str | None,
    residual_likelihood: str | None,
    residual_impact: str | None,
    lef: str | None,
    tef: str | None,
    vuln: str | None,
    lm: str | None,
    slef: str | None,
    slm: str | None,
    tolerance: str | None,
    asset: list[str] | None,
    control: list[str] | None,
) -> dict[str, object]:
    return _given(
        title=title,
        threat_actor=threat_actor,
        threat_event=threat_event,
        weakness=weakness,
        description=description,
        owner=owner,
        treatment=treatment,
        status=status,
        due_on=due,
        inherent_likelihood=likelihood,
        inherent_impact=impact,
        residual_likelihood=residual_likelihood,
        residual_impact=residual_impact,
        lef=lef,
        tef=tef,
        vuln=vuln,
        lm=lm,
        slef=slef,
        slm=slm,
        tolerance=tolerance,
        assets=asset,
        controls=control,
    )


Likelihood = Annotated[
    str | None,
    typer.Option(metavar="STEP", help="Inherent likelihood: 1-5 or very-low ... very-high."),
]
Impact = Annotated[
    str | None,
    typer.Option(metavar="STEP", help="Inherent impact: 1-5 or very-low ... very-high."),
]
ResidualLikelihood = Annotated[
    str | None, typer.Option(metavar="STEP", help="Residual likelihood (after treatment).")
]
ResidualImpact = Annotated[
    str | None, typer.Option(metavar="STEP", help="Residual impact (after treatment).")
]
TreatmentOption = Annotated[
    str | None, typer.Option(metavar="TREATMENT", help="mitigate, accept, transfer or avoid.")
]
StatusOption = Annotated[
    str | None,
    typer.Option(
        metavar="STATUS",
        help="open, mitigating, transferred, avoided or closed (accepted: `risk accept`).",
    ),
]
Due = Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="Due date.")]
Owner = Annotated[
    str | None,
    typer.Option(help="Owner: a member's e-mail (linked to the user) or any name."),
]
RiskTolerance = Annotated[
    str | None,
    typer.Option("--tolerance", metavar="AMOUNT", help="Loss tolerance: report P(loss > it)."),
]
Assets = Annotated[
    list[str] | None, typer.Option("--asset", help="An affected asset (name); repeatable.")
]
Controls = Annotated[list[str] | None, typer.Option("--control", help=CONTROL_HELP)]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        dir_okay=False,
        help="A YAML or JSON file with the risk's fields (options given override it).",
    ),
]


@app.command()
def create(
    org: OrgOption,
    title: Text = None,
    threat_actor: Text = None,
    threat_event: Text = None,
    weakness: Text = None,
    description: Text = None,
    owner: Owner = None,
    treatment: TreatmentOption = None,
    status: StatusOption = None,
    due: Due = None,
    likelihood: Likelihood = None,
    impact: Impact = None,
    residual_likelihood: ResidualLikelihood = None,
    residual_impact: ResidualImpact = None,
    lef: Lef = None,
    tef: Tef = None,
    vuln: Vuln = None,
    lm: Lm = None,
    slef: Slef = None,
    slm: Slm = None,
    tolerance: RiskTolerance = None,
    asset: Assets = None,
    control: Controls = None,
    file: FileOption = None,
    json_output: JsonOutput = False,
    as_email: AsUser = None,
) -> None:
    """Add a risk to a client's register, from options or a YAML/JSON file.

    Required: --title, --likelihood and --impact (inherent). FAIR estimates (--tef and
    --vuln or --lef, --lm, ...) use the notation of `risk simulate`.

    Example: assay risk create --org acme --title "Ransomware" --likelihood high --impact 5
    --tef 1,4,12 --vuln 0.1,0.3,0.6 --lm 20000,150000,2000000
    --control cis-controls-v8.1:11.2:lm:0.3,0.5,0.7 --as ops@acme.example
    """
    from assay.cli.context import print_json, stdout
    from assay.risk.service import create_risk, get_risk

    options = _create_options(
        title,
        threat_actor,
        threat_event,
        weakness,
        description,
        owner,
        treatment,
        status,
        due,
        likelihood,
        impact,
        residual_likelihood,
        residual_impact,
        lef,
        tef,
        vuln,
        lm,
        slef,
        slm,
        tolerance,
        asset,
        control,
    )
    data = _read_risk_file(file) if file is not None else {}
    data.update(options)
    source = str(file) if file is not None else None
    with _register(as_email, org=org, source=source, given=set(options)) as (session, actor):
        created = create_risk(session, actor, org, data)
        row = get_risk(session, actor, created.id).to_dict()
    if json_output:
        print_json(row)
        return
    stdout.print(f"created risk {row['id']}: {row['title']}", markup=False)


@app.command()
def update(
    risk_id: RiskId,
    title: Text = None,
    threat_actor: Text = None,
    threat_event: Text = None,
    weakness: Text = None,
    description: Text = None,
    owner: Owner = None,
    treatment: TreatmentOption = None,
    status: StatusOption = None,
    due: Due = None,
    likelihood: Likelihood = None,
    impact: Impact = None,
    residual_likelihood: ResidualLikelihood = None,
    residual_impact: ResidualImpact = None,
    lef: Lef = None,
    tef: Tef = None,
    vuln: Vuln = None,
    lm: Lm = None,
    slef: Slef = None,
    slm: Slm = None,
    tolerance: RiskTolerance = None,
    asset: Annotated[
        list[str] | None, typer.Option("--asset", help="Replaces the affected assets; repeatable.")
    ] = None,
    control: Annotated[
        list[str] | None,
        typer.Option("--control", help="Replaces the controls; repeatable. " + CONTROL_HELP),
    ] = None,
    json_output: JsonOutput = False,
    as_email: AsUser = None,
) -> None:
    """Change a risk: only the options given.

    '' clears an optional field; FAIR options replace all the estimates, --asset and --control
    the whole lists.
    """
    from assay.cli.context import print_json, stdout
    from assay.risk.service import get_risk, update_risk

    changes = _create_options(
        title,
        threat_actor,
        threat_event,
        weakness,
        description,
        owner,
        treatment,
        status,
        due,
        likelihood,
        impact,
        residual_likelihood,
        residual_impact,
        lef,
        tef,
        vuln,
        lm,
        slef,
        slm,
        tolerance,
        asset,
        control,
    )
    with _register(as_email, risk_id=risk_id) as (session, actor):
        update_risk(session, actor, risk_id, changes)
        row = get_risk(session, actor, risk_id).to_dict()
    if json_output:
        print_json(row)
        return
    stdout.print(f"risk {row['id']}: {row['title']} saved", markup=False)


@app.command()
def delete(risk_id: RiskId, as_email: AsUser = None) -> None:
    """Remove a risk (the audit trail keeps what it was)."""
    from assay.cli.context import stdout
    from assay.risk.service import delete_risk

    with _register(as_email, risk_id=risk_id) as (session, actor):
        delete_risk(session, actor, risk_id)
    stdout.print(f"deleted risk {risk_id}", markup=False)


@app.command("list")
def list_(
    org: OrgOption,
    status: Annotated[str | None, typer.Option(help="Only risks in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="Rows to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip.")] = 0,
    json_output: JsonOutput = False,
    as_email: AsUser = None,
) -> None:
    """List a client's risks, highest inherent level first."""
    from assay.cli.context import page_note, print_json, print_table
    from assay.risk.service import list_risks, risk_dict

    with _register(as_email, org=org) as (session, actor):
        found, total = list_risks(session, actor, org, status=status, limit=limit, offset=offset)
        rows = [risk_dict(risk, org) for risk in found]
    if json_output:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return

    def level(value: dict[str, Any] | None) -> str:
        return (
            "—"
            if value is None
            else f"{value['level_name']} (L{value['likelihood']} I{value['impact']})"
        )

    print_table(
        f"Risks of {org}",
        ["id", "title", "status", "treatment", "inherent", "residual", "owner", "due"],
        [
            [
                r["id"],
                r["title"],
                r["status"],
                r["treatment"],
                level(r["inherent"]),
                level(r["residual"]),
                r["owner"],
                r["due_on"],
            ]
            for r in rows
        ],
    )
    page_note(len(rows), total, offset)


@app.command()
def show(
    risk_id: RiskId,
    iterations: RegisterIterations = "100000",
    seed: SeedText = "1",
    json_output: JsonOutput = False,
    as_email: AsUser = None,
) -> None:
    """Show a risk, with its loss and verification gap when it has FAIR estimates.

    Inherent loss (no controls), residual loss (controls credited by their answers in the
    latest assessment: verified fully, claimed in part) and residual with every claim verified.
    """
    from assay.cli.context import print_json
    from assay.risk.analysis import simulate_risk
    from assay.risk.service import get_risk

    with _register(as_email, risk_id=risk_id) as (session, actor):
        view = get_risk(session, actor, risk_id)
        row = view.to_dict()
        simulation = None
        if view.risk.fair is not None:
            simulation = simulate_risk(
                session,
                actor,
                risk_id,
                iterations=_whole("iterations", iterations),
                seed=_whole("seed", seed),
            ).to_dict()
    if json_output:
        print_json({"risk": row, "simulation": simulation})
        return
    _print_risk(row)
    if simulation is not None:
        _print_simulation(simulation)


@app.command()
def accept(
    risk_id: RiskId,
    reason: Annotated[str, typer.Option(help="Why the risk is acceptable (required).")],
    expires: Annotated[
        str,
        typer.Option(
            metavar="YYYY-MM-DD", help="When the acceptance ends (at most three years ahead)."
        ),
    ],
    as_email: Annotated[
        str,
        typer.Option(
            "--as", help="The executive of the client, or the administrator, who accepts it."
        ),
    ],
    json_output: JsonOutput = False,
) -> None:
    """Accept a risk until a date, for a stated reason.

    Only an executive of the client or an administrator (of it or its MSP) may; recorded in the
    audit trail. When the acceptance expires, the risk is open again.
    """
    from assay.cli.context import print_json, stdout
    from assay.risk.service import accept_risk

    with _register(as_email, risk_id=risk_id) as (session, actor):
        acceptance = accept_risk(session, actor, risk_id, reason, expires)
        row = {
            "risk": risk_id,
            "acceptance": acceptance.id,
            "accepted_by": actor.label,
            "reason": acceptance.reason,
            "expires_on": acceptance.expires_on.isoformat(),
        }
    if json_output:
        print_json(row)
        return
    stdout.print(
        f"risk {risk_id} accepted by {row['accepted_by']} until {row['expires_on']}",
        markup=False,
    )


@app.command()
def expire(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organization (default: all).")
    ] = None,
) -> None:
    """End acceptances past their expiry date and reopen their risks.

    Run it daily (cron); reading the register does the same for the organization read.
    """
    from assay.cli.context import errors_reported, stdout, system_actor
    from assay.db.engine import unit_of_work
    from assay.risk.service import expire_acceptances
    from assay.tenancy.access import org_by_slug

    with errors_reported(), unit_of_work() as session:
        ids = None if org is None else [org_by_slug(session, org).id]
        reopened = expire_acceptances(session, system_actor(), ids)
    noun = "risk" if len(reopened) == 1 else "risks"
    listed = f": {', '.join(map(str, reopened))}" if reopened else ""
    stdout.print(f"{len(reopened)} {noun} reopened{listed}", markup=False)


@app.command()
def portfolio(
    org: Annotated[
        str, typer.Option("--org", help="A client, or an MSP (its clients' risks together).")
    ],
    iterations: RegisterIterations = "100000",
    seed: SeedText = "1",
    tolerance: Tolerance = None,
    json_output: JsonOutput = False,
    as_email: AsUser = None,
) -> None:
    """The residual annual loss of an organization's risks, summed per simulated year.

    For an MSP, across the clients you may see. Also with every claimed control verified: the
    difference is the verification gap.
    """
    from assay.cli.context import print_json, print_table, stdout
    from assay.risk import analysis

    with _register(as_email, org=org) as (session, actor):
        view = analysis.portfolio(
            session,
            actor,
            org,
            iterations=_whole("iterations", iterations),
            seed=_whole("seed", seed),
            tolerance=None if tolerance is None else _amount("tolerance", tolerance),
        )
        data = view.to_dict()
    if json_output:
        print_json(data)
        return
    residual, verified = data["residual"], data["residual_if_verified"]
    stdout.print(
        f"Portfolio of {org}: {data['risks']} quantified risks"
        + (f" ({data['unquantified']} without FAIR estimates)" if data["unquantified"] else "")
        + f", {data['iterations']:,} iterations, seed {data['seed']}",
        markup=False,
    )
    rows = [
        ["as assessed", _money(residual["mean"]), _money(residual["p90"]), _money(residual["p99"])],
        [
            "claims verified",
            _money(verified["mean"]),
            _money(verified["p90"]),
            _money(verified["p99"]),
        ],
    ]
    print_table("Residual annual loss", ["", "mean", "P90", "P99"], rows)
    if residual["prob_exceed"] is not None:
        stdout.print(
            f"P(annual loss > {_money(residual['tolerance'])}): "
            f"{_percent(residual['prob_exceed'])}",
            markup=False,
        )
    gap = data["verification_gap"]
    stdout.print(
        f"Verification gap: {_money(gap['mean'])} mean, {_money(gap['p90'])} at P90", markup=False
    )
    if data["clients"]:
        print_table(
            "Clients",
            ["client", "risks", "mean", "P90", "mean if verified"],
            [
                [
                    c["organization"],
                    c["risks"],
                    _money(c["mean"]),
                    _money(c["p90"]),
                    _money(c["if_verified"]["mean"]),
                ]
                for c in data["clients"]
            ],
        )
