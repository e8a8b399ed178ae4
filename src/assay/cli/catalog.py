"""`assay catalog`: frameworks, baselines and crosswalks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli.context import (
    JsonOption,
    LimitOption,
    OffsetOption,
    fail,
    page_note,
    print_json,
    print_table,
    stderr,
    stdout,
    work,
)

app = typer.Typer(
    help="Control catalogs: NIST CSF 2.0, CIS v8.1, SP 800-53 and your own.", no_args_is_help=True
)

FileArgument = Annotated[Path, typer.Argument(help="File to read.", exists=False, dir_okay=False)]
FrameworkArgument = Annotated[str, typer.Argument(help="Framework id, e.g. nist-csf-2.0.")]


def _read(path: Path) -> bytes:
    from assay.catalog.service import MAX_IMPORT_BYTES

    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            fail(
                f"{path}: file too large ({size // 2**20} MB, limit {MAX_IMPORT_BYTES // 2**20} MB)"
            )
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


@app.command("list")
def list_(json_: JsonOption = False) -> None:
    """List loaded frameworks with their counts per level."""
    from assay.catalog.service import list_frameworks

    with work() as w:
        rows: list[dict[str, Any]] = [
            {
                "id": s.framework.key,
                "name": s.framework.name,
                "version": s.framework.version,
                "origin": s.framework.origin,
                "levels": s.framework.levels,
                "counts": s.counts,
                "withdrawn": s.withdrawn,
                "baselines": s.baselines,
            }
            for s in list_frameworks(w.session)
        ]
    if json_:
        print_json(rows)
        return
    print_table(
        "Frameworks",
        ["id", "name", "version", "counts", "baselines"],
        [
            [
                r["id"],
                r["name"],
                r["version"],
                ", ".join(f"{n} {level}" for level, n in r["counts"].items()),
                ", ".join(r["baselines"]),
            ]
            for r in rows
        ],
    )


def _control_row(control: Any) -> dict[str, Any]:
    return {
        "id": control.label,
        "oscal_id": control.oscal_id,
        "kind": control.kind,
        "level": control.level,
        "title": control.title,
        "official_title": control.official_title,
        "description": control.description,
        "withdrawn": control.withdrawn,
        "properties": control.properties,
    }


@app.command()
def show(
    framework: FrameworkArgument,
    level: Annotated[int | None, typer.Option(min=1, help="Show levels down to N.")] = None,
    ig: Annotated[int | None, typer.Option(min=1, max=3, help="CIS implementation group.")] = None,
    baseline: Annotated[str | None, typer.Option(help="Only controls of this baseline.")] = None,
    control: Annotated[str | None, typer.Option(help="One control, with its mappings.")] = None,
    json_: JsonOption = False,
) -> None:
    """Show a framework as a tree, or one control with its mappings in both directions."""
    from assay.catalog.service import framework_controls

    if ig is not None and baseline is not None:
        fail("use --ig or --baseline, not both", 2)
    if control is not None:
        _show_control(framework, control, json_)
        return
    with work() as w:
        fw, controls = framework_controls(
            w.session, framework, max_level=level, baseline=f"ig{ig}" if ig else baseline
        )
        rows = [_control_row(c) for c in controls]
        levels = list(fw.levels)
        header = {"id": fw.key, "name": fw.name, "version": fw.version, "levels": levels}
    if json_:
        print_json({**header, "controls": rows})
        return
    stdout.print(f"{header['name']} {header['version']} ({header['id']})", markup=False)
    for row in rows:
        indent = "  " * (row["level"] - 1)
        flag = " [withdrawn]" if row["withdrawn"] else ""
        title = row["official_title"] or row["title"]
        stdout.print(f"{indent}{row['id']}  {title}{flag}", markup=False)
    stderr.print(f"{len(rows)} controls", markup=False)


def _show_control(framework: str, label: str, json_: bool) -> None:
    from assay.catalog.service import get_control

    with work() as w:
        detail = get_control(w.session, framework, label)
        payload = {
            "framework": detail.framework.key,
            **_control_row(detail.control),
            "official_description": detail.control.official_description,
            "parent": detail.parent.label if detail.parent else None,
            "children": [c.label for c in detail.children],
            "baselines": detail.baselines,
            "maps_to": [vars(m) for m in detail.mapped_to],
            "mapped_from": [vars(m) for m in detail.mapped_from],
        }
    if json_:
        print_json(payload)
        return
    flag = " [withdrawn]" if payload["withdrawn"] else ""
    stdout.print(
        f"{payload['id']}  {payload['title']}{flag}  ({payload['framework']})", markup=False
    )
    for key in ("official_title", "description", "official_description", "parent"):
        if payload[key]:
            stdout.print(f"  {key.replace('_', ' ')}: {payload[key]}", markup=False)
    if payload["children"]:
        stdout.print(f"  children: {', '.join(payload['children'])}", markup=False)
    for title, key in (("maps to", "maps_to"), ("mapped from", "mapped_from")):
        for m in payload[key]:
            stdout.print(
                f"  {title}: {m['framework']} {m['label']} ({m['relationship']}) {m['title']}",
                markup=False,
            )


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Text to look for in ids, titles, descriptions.")],
    framework: Annotated[str | None, typer.Option(help="Only this framework.")] = None,
    json_: JsonOption = False,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
) -> None:
    """Search controls of all frameworks."""
    from assay.catalog.service import search as run_search

    with work() as w:
        found, total = run_search(w.session, text, framework=framework, limit=limit, offset=offset)
        rows = [{"framework": key, **_control_row(c)} for key, c in found]
    if json_:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    print_table(
        f"Controls matching '{text}'",
        ["framework", "id", "title"],
        [[r["framework"], r["id"], r["official_title"] or r["title"]] for r in rows],
    )
    page_note(len(rows), total, offset)


@app.command()
def validate(path: FileArgument) -> None:
    """Check an Assay YAML framework or mapping file; report every problem with its line."""
    from assay.catalog.service import validate_file
    from assay.catalog.yamlfile import ContentError
    from assay.errors import AssayError

    data = _read(path)
    try:
        document = validate_file(data, str(path))
    except ContentError as exc:
        for problem in exc.problems:
            stderr.print(f"{path}: {problem}", markup=False)
        fail(f"{path}: {len(exc.problems)} problem(s)")
    except AssayError as exc:
        fail(exc.message)
    stdout.print(
        f"{path}: valid ({type(document).__name__.removesuffix('Document').lower()} {document.id})",
        markup=False,
    )


@app.command("import")
def import_(
    path: FileArgument,
    id_: Annotated[
        str | None,
        typer.Option(
            "--id", help="Key of the framework (OSCAL catalog) or crosswalk (OSCAL mapping, CSV)."
        ),
    ] = None,
    framework: Annotated[
        str | None, typer.Option(help="For a profile: the imported catalog it selects from.")
    ] = None,
    baseline: Annotated[str | None, typer.Option(help="For a profile: the baseline id.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Crosswalk source framework.")] = None,
    to: Annotated[str | None, typer.Option(help="Crosswalk target framework.")] = None,
    skip_unknown: Annotated[
        bool,
        typer.Option(help="Crosswalks: leave out (and list) mappings naming unknown ids."),
    ] = False,
) -> None:
    """Import a framework (Assay YAML, OSCAL catalog), a baseline (OSCAL profile) or a crosswalk
    (Assay YAML, OSCAL mapping, CSV, NIST crosswalk workbook). All of it lands or nothing."""
    from assay.catalog.service import ImportOptions, import_file

    data = _read(path)
    options = ImportOptions(
        key=id_,
        mapping_key=id_,
        framework=framework,
        baseline=baseline,
        source_framework=from_,
        target_framework=to,
        skip_unknown=skip_unknown,
    )
    with work() as w:
        reports = import_file(w.session, w.actor, data, str(path), options)
    for report in reports:
        stdout.print(report.summary(), markup=False)
        if report.skipped:
            stdout.print(
                f"  skipped {len(report.skipped)} mappings naming unknown ids: "
                + ", ".join(report.skipped[:10]),
                markup=False,
            )
        if report.status != "updated":
            continue
        for what, items in (
            ("added", report.added),
            ("removed", report.removed),
            ("changed", report.changed),
        ):
            if items:
                shown = ", ".join(items[:20]) + (" ..." if len(items) > 20 else "")
                stdout.print(f"  {what}: {shown}", markup=False)


@app.command("import-cis")
def import_cis(path: FileArgument) -> None:
    """Add CIS's official titles and descriptions from your licensed CIS Controls v8.1 workbook."""
    from assay.catalog.service import import_cis_workbook

    data = _read(path)
    with work() as w:
        report = import_cis_workbook(w.session, w.actor, data, str(path))
    stdout.print(
        f"CIS Controls v8.1: official text for {report.total} controls and safeguards "
        f"({len(report.changed)} updated)",
        markup=False,
    )


@app.command()
def export(
    framework: FrameworkArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.", dir_okay=False)],
    format_: Annotated[str, typer.Option("--format", help="oscal-json")] = "oscal-json",
) -> None:
    """Export a framework as an OSCAL catalog."""
    from assay.catalog.service import export_framework

    with work() as w:
        text = export_framework(w.session, framework, format_)
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: {exc.strerror or exc}")
    stdout.print(f"wrote {output} ({len(text.encode()) // 1024} KiB)", markup=False)


@app.command("map")
def map_(
    control: Annotated[str, typer.Argument(help="Control id in the source framework.")],
    from_: Annotated[str, typer.Option("--from", help="Framework of the control.")],
    to: Annotated[str, typer.Option(help="Framework to map to.")],
    json_: JsonOption = False,
) -> None:
    """Follow crosswalks to another framework (two hops where no direct mapping exists)."""
    from assay.catalog.crossmap import map_control

    with work() as w:
        result = map_control(w.session, control, from_, to)
    paths: list[dict[str, Any]] = [
        {
            "target": p.target.to_label,
            "title": p.target.to_title,
            "relationship": p.relationship.value,
            "path": [
                {
                    "from": f"{s.from_framework}:{s.from_label}",
                    "to": f"{s.to_framework}:{s.to_label}",
                    "relationship": s.relationship.value,
                    "mapping": s.mapping_set,
                }
                for s in p.steps
            ],
        }
        for p in result.paths
    ]
    if json_:
        print_json(
            {
                "control": result.label,
                "from": result.framework,
                "to": result.to_framework,
                "hops": result.hops,
                "results": paths,
            }
        )
        return
    if not paths:
        stdout.print(f"{result.label} ({from_}) maps to nothing in {to}", markup=False)
        return
    route = "directly" if result.hops == 1 else "through one intermediate framework"
    stdout.print(f"{result.label} ({from_}) maps to {to} {route}:", markup=False)
    for p in paths:
        trail = " -> ".join([p["path"][0]["from"], *(s["to"] for s in p["path"])])
        stdout.print(
            f"  {p['target']} ({p['relationship']}) {p['title']}   via {trail}", markup=False
        )
