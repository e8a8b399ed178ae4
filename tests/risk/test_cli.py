"""`assay risk simulate`: JSON and table output, errors (one line, exit code 2, nothing on
stdout), and the fast path that runs it without importing the database layer."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from assay.cli import risk

runner = CliRunner()
KEYS = {
    *("mean", "std", "p10", "p50", "p90", "p95", "p99", "prob_exceed", "lec", "sensitivity"),
    *("mode", "seed", "iterations", "min", "max", "prob_loss", "tolerance"),
}
SCENARIO = ["--tef", "1,4,20", "--vuln", "0.05,0.2,0.6", "--lm", "10000,60000,900000"]


def full_app() -> Any:
    from assay.cli.main import app

    return app


def assay(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(full_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def simulate_json(*args: str) -> dict[str, Any]:
    code, out, err = assay("risk", "simulate", *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)  # the whole of stdout is one JSON document
    return data


def test_json_output_has_the_listed_keys_and_only_json() -> None:
    data = simulate_json(*SCENARIO, "--iterations", "20000", "--seed", "5", "--tolerance", "1e6")
    assert set(data) == KEYS
    assert data["iterations"] == 20_000 and data["seed"] == 5 and data["mode"] == "open-fair"
    assert data["p10"] <= data["p50"] <= data["p90"] <= data["p95"] <= data["p99"]
    assert 0 <= data["prob_exceed"] <= 1 and data["tolerance"] == 1e6
    assert len(data["lec"]) == 50 and set(data["lec"][0]) == {"loss", "prob_exceed"}
    assert {s["factor"] for s in data["sensitivity"]} == {"tef", "vuln", "lm"}


def test_json_matches_the_python_api() -> None:
    from assay.risk.fair import Scenario, simulate

    data = simulate_json(*SCENARIO, "--iterations", "5000", "--seed", "9", "--mode", "compound")
    expected = simulate(
        Scenario.of(tef="1,4,20", vuln="0.05,0.2,0.6", lm="10000,60000,900000"),
        iterations=5000,
        seed=9,
        mode="compound",
    )
    assert data == json.loads(json.dumps(expected.to_dict()))


def test_options_reach_the_engine() -> None:
    constant = simulate_json("--lef", "2", "--lm", "1000", "--slef", "0.5", "--slm", "200")
    assert constant["mean"] == 2 * (1000 + 0.5 * 200) and constant["std"] == 0
    assert constant["prob_exceed"] is None
    wide = simulate_json("--lef", "1", "--lm", "0,1,10", "--seed", "1", "--confidence", "0.5")
    narrow = simulate_json("--lef", "1", "--lm", "0,1,10", "--seed", "1", "--confidence", "50")
    assert wide["std"] > 2 * narrow["std"]
    lognormal = simulate_json(
        "--lef", "1", "--lm", "lognormal:1000,100000", "--iterations", "200000", "--seed", "2"
    )
    assert lognormal["p50"] == pytest.approx(10_000, rel=0.02)  # the interval's geometric middle
    assert simulate_json("--lef", "1", "--lm", "5", "--iterations", "1e3")["iterations"] == 1000


def test_the_same_seed_gives_the_same_output() -> None:
    args = (*SCENARIO, "--iterations", "3000", "--seed", "77")
    assert simulate_json(*args) == simulate_json(*args)
    assert simulate_json(*args)["mean"] != simulate_json(*SCENARIO, "--iterations", "3000")["mean"]


def test_table_output() -> None:
    code, out, err = assay(*("risk", "simulate", *SCENARIO, "--seed", "3", "--tolerance", "5e5"))
    assert code == 0, err
    for text in ("Annualized loss", "seed 3", "100,000 iterations", "P99", "P(loss > 500,000)"):
        assert text in out
    assert "Sensitivity" in out and "Loss exceedance curve" in out
    assert "pert 10000, 60000, 900000" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lef", "20,5,1", "--lm", "1"], "error: --lef: minimum (20) is above maximum (1)"),
        (["--lef", "1,9,5", "--lm", "1"], "error: --lef: most likely value (9) is outside"),
        (["--tef", "-1,2,3", "--vuln", "0.5", "--lm", "1"], "error: --tef: minimum (-1) is neg"),
        (["--lef", "1", "--lm", "-5"], "error: --lm: value (-5) is negative"),
        (["--tef", "1", "--vuln", "0.1,0.5,1.5", "--lm", "1"], "error: --vuln: maximum (1.5) is"),
        (["--lef", "1", "--lm", "1", "--slef", "2", "--slm", "1"], "error: --slef: value (2) is"),
        (["--lef", "1,x,3", "--lm", "1"], "error: --lef: most likely value must be a number"),
        (["--lef", "1", "--lm", "1,2"], "error: --lm: give MIN,MODE,MAX or one VALUE"),
        (["--lef", "1"], "error: --lm: missing"),
        (["--lm", "1"], "error: --lef: missing"),
        (["--lef", "1", "--tef", "1", "--vuln", "0.5", "--lm", "1"], "error: --lef: give either"),
        (["--tef", "1", "--lm", "1"], "error: --vuln: missing"),
        (["--lef", "1", "--lm", "1", "--iterations", "0"], "error: --iterations: must be betw"),
        (["--lef", "1", "--lm", "1", "--iterations", "20000000"], "error: --iterations: must"),
        (["--lef", "1", "--lm", "1", "--iterations", "many"], "error: --iterations: must be a w"),
        (["--lef", "1", "--lm", "1", "--iterations", "2.5"], "error: --iterations: must be a w"),
        (["--lef", "1", "--lm", "1", "--seed", "-1"], "error: --seed: must be a whole number"),
        (["--lef", "1", "--lm", "1", "--mode", "exact"], "error: --mode: must be open-fair or"),
        (["--lef", "1", "--lm", "1", "--tolerance", "-3"], "error: --tolerance: must be a fin"),
        (["--lef", "1", "--lm", "1", "--tolerance", "x"], "error: --tolerance: must be a number"),
        (["--lef", "1", "--lm", "1,2,3", "--confidence", "0"], "error: --confidence: must be ab"),
        (["--lef", "1", "--lm", "1", "--confidence", "nan"], "error: --confidence: must be a f"),
        (["--lef", "1e5", "--lm", "1", "--mode", "compound"], "error: --iterations: compound m"),
    ],
)
@pytest.mark.parametrize("as_json", [True, False])
def test_bad_values_are_one_line_on_stderr_and_exit_2(
    args: list[str], message: str, as_json: bool
) -> None:
    code, out, err = assay("risk", "simulate", *args, *(["--json"] if as_json else []))
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_help_lists_every_command() -> None:
    code, out, _ = assay("--help")
    assert code == 0
    for command in ("risk", "assess", "catalog", "db"):
        assert command in out
    code, out, _ = assay("risk", "--help")
    assert code == 0 and "simulate" in out


def run_entry_point(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `assay ARGS` through the console-script entry point in a fresh interpreter; the
    modules it imported are printed as JSON on stderr's last line."""
    program = textwrap.dedent(
        f"""
        import json, sys
        sys.argv = ["assay", *{list(args)!r}]
        from assay.cli.main import run
        try:
            run()
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
        sys.stdout.flush()
        print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}), file=sys.stderr)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_fast_path_imports_no_database_layer() -> None:
    done = run_entry_point("risk", "simulate", "--lef", "1,2,5", "--lm", "10,20,50", "--json")
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None)
    heavy = [
        name
        for name in report["modules"]
        if name.split(".")[0] in {"sqlalchemy", "fastapi", "alembic"}
        or name in {"assay.cli.context", "assay.cli.assess", "assay.db"}
    ]
    assert heavy == []
    assert "assay.cli.risk" in report["modules"]
    assert set(json.loads(done.stdout)) == KEYS


def test_the_entry_point_still_runs_the_whole_tree() -> None:
    done = run_entry_point("risk", "--help")
    assert "simulate" in done.stdout and "portfolio" in done.stdout
    whole = run_entry_point("--help")
    assert "risk" in whole.stdout and "assess" in whole.stdout and "audit" in whole.stdout
    # the control: a command that needs the database loads it
    report = json.loads(run_entry_point("assess", "--help").stderr.strip().splitlines()[-1])
    assert "sqlalchemy" in report["modules"]


def test_the_fast_path_reports_errors_the_same_way() -> None:
    done = run_entry_point("risk", "simulate", "--lef", "5,3,1", "--lm", "1", "--json")
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == "error: --lef: minimum (5) is above maximum (1)"
    assert json.loads(done.stderr.splitlines()[-1])["code"] == 2


def test_standalone_and_grouped_commands_agree() -> None:
    args = [*SCENARIO, "--iterations", "2000", "--seed", "4", "--json"]
    standalone = typer.Typer(add_completion=False)
    standalone.command()(risk.simulate)
    alone = runner.invoke(standalone, args)
    grouped = runner.invoke(full_app(), ["risk", "simulate", *args])
    assert alone.exit_code == grouped.exit_code == 0
    assert alone.stdout == grouped.stdout
