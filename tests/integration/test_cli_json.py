"""`--json` prints only JSON, for every command that reads and has the option.

The commands come from the Typer app itself (the whole tree, every group loaded), so a command
added later is covered automatically: one that reads is run against the demo data; one that
is not known here fails this test until it is classified below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import typer.main
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.assess.models import Assessment
from assay.assets.models import Asset
from assay.audit.models import AuditRunRecord
from assay.catalog.models import Framework
from assay.cli.main import app
from assay.risk.models import Risk
from assay.tenancy.models import Organization

runner = CliRunner()

# Commands with --json that change data or reach outside the database: not listings, so not
# run here (each has tests of its own). Everything else with --json must run below.
NOT_LISTINGS = {
    "assess create": "creates an assessment",
    "assess clone": "creates an assessment",
    "assess evidence": "attaches evidence",
    "asset create": "creates an asset",
    "asset update": "changes an asset",
    "asset import": "imports a file",
    "risk create": "creates a risk",
    "risk update": "changes a risk",
    "risk accept": "accepts a risk",
    "audit host": "audits the machine it runs on",
    "audit inventory": "audits hosts over SSH",
}

# Options a command needs that its signature does not mark as required.
EXTRA_ARGUMENTS = {"risk simulate": ["--lef", "1,2,5", "--lm", "10,20,50"]}


def leaf_commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(`group command`, command) for every command of the tree, depth first."""
    children = getattr(command, "commands", None)
    if children is None:
        yield " ".join(path), command
        return
    for name, child in sorted(children.items()):
        yield from leaf_commands(child, (*path, name))


def json_commands() -> dict[str, Any]:
    tree = typer.main.get_command(app)  # `app` is the whole tree, every group attached
    found = {
        name: command
        for name, command in leaf_commands(tree)
        if any("--json" in param.opts for param in command.params)
    }
    assert {"org list", "user list", "member list", "token list", "audit-log list"} <= set(found)
    return found


def demo_values(session: Session) -> dict[str, str]:
    """A value from the demo data for each required parameter, by name (or `command:name`)."""
    contoso = session.scalar(select(Organization.id).where(Organization.slug == "contoso-dental"))
    csf = session.scalar(select(Framework.id).where(Framework.key == "nist-csf-2.0"))
    cycles = list(
        session.scalars(
            select(Assessment.id)
            .where(Assessment.organization_id == contoso, Assessment.framework_id == csf)
            .order_by(Assessment.id)
        )
    )
    runs = list(session.execute(select(AuditRunRecord.id, AuditRunRecord.asset_id).order_by("id")))
    by_asset: dict[int, list[int]] = {}
    for run_id, asset_id in runs:
        by_asset.setdefault(asset_id, []).append(run_id)
    before, after = next(ids for ids in by_asset.values() if len(ids) >= 2)[:2]
    first = session.scalar(select(Assessment.id).order_by(Assessment.id))
    assert len(cycles) >= 2 and first is not None and runs
    return {
        "org": "contoso-dental",
        "framework": "cis-controls-v8.1",
        "text": "backup",
        "control": "4.1",
        "catalog map:from_": "cis-controls-v8.1",
        "catalog map:to": "nist-csf-2.0",
        "assessment_id": str(first),
        "assess compare:first": str(cycles[0]),
        "assess compare:second": str(cycles[1]),
        "asset_id": str(session.scalar(select(Asset.id).order_by(Asset.id))),
        "risk_id": str(session.scalar(select(Risk.id).order_by(Risk.id))),
        "run_id": str(runs[0][0]),
        "audit diff:before": str(before),
        "audit diff:after": str(after),
    }


def arguments(name: str, command: Any, values: dict[str, str]) -> list[str]:
    """The command line for `command`: its required parameters filled from `values`."""
    args = [*name.split(), *EXTRA_ARGUMENTS.get(name, [])]
    for param in command.params:
        if not param.required:
            continue
        value = values.get(f"{name}:{param.name}", values.get(param.name or ""))
        assert value is not None, (
            f"`assay {name} --json` needs {param.name}: give demo_values a value for it so "
            "that the command is covered (or list it in NOT_LISTINGS if it changes data)"
        )
        args += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    return [*args, "--json"]


def test_every_listing_prints_only_json(session: Session) -> None:
    seeded = runner.invoke(app, ["demo"])
    assert seeded.exit_code == 0, seeded.stderr
    session.rollback()
    values = demo_values(session)
    commands = json_commands()
    unknown = set(NOT_LISTINGS) - set(commands)
    assert not unknown, f"NOT_LISTINGS names commands without --json: {unknown}"

    checked, problems = [], []
    for name, command in commands.items():
        if name in NOT_LISTINGS:
            continue
        args = arguments(name, command, values)
        result = runner.invoke(app, args)
        if result.exit_code != 0:
            problems.append(f"assay {' '.join(args)}: exit {result.exit_code}: {result.stderr}")
            continue
        try:
            json.loads(result.stdout)
        except ValueError as exc:
            problems.append(f"assay {' '.join(args)}: not only JSON ({exc}): {result.stdout[:200]}")
            continue
        checked.append(name)
    assert problems == []
    assert len(checked) >= 20  # the control: the walk found the listings
