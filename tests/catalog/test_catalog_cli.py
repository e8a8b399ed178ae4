"""`assay catalog` end to end against the test database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.auditlog.models import AuditEvent
from assay.catalog import service
from assay.catalog.service import sync_builtin
from assay.cli.main import app
from tests.catalog.test_catalog_service import CROSS_REFERENCE_ERRORS, TOY, TOY_TO_CSF, counts
from tests.factories import SYSTEM

runner = CliRunner()


@pytest.fixture(autouse=True)
def builtin(session: Session) -> None:
    sync_builtin(session, SYSTEM)
    session.commit()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def ok_json(*args: str) -> object:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_list_prints_counts_by_level() -> None:
    frameworks = {f["id"]: f for f in ok_json("catalog", "list")}  # type: ignore[union-attr]
    assert frameworks["nist-csf-2.0"]["counts"] == {
        "function": 6,
        "category": 22,
        "subcategory": 106,
    }
    assert frameworks["cis-controls-v8.1"]["counts"] == {"control": 18, "safeguard": 153}


def test_show_filters_by_level_and_ig() -> None:
    top = ok_json("catalog", "show", "nist-csf-2.0", "--level", "1")
    assert [c["id"] for c in top["controls"]] == ["GV", "ID", "PR", "DE", "RS", "RC"]  # type: ignore[index]
    ig1 = ok_json("catalog", "show", "cis-controls-v8.1", "--ig", "1")
    safeguards = [c for c in ig1["controls"] if c["kind"] == "safeguard"]  # type: ignore[index]
    assert len(safeguards) == 56
    assert all(1 in c["properties"]["implementation-groups"] for c in safeguards)
    code, _, err = run("catalog", "show", "cis-controls-v8.1", "--ig", "4")
    assert code == 2
    code, _, err = run("catalog", "show", "nope")
    assert code == 1 and err.startswith("error: framework 'nope' not found")


def test_show_control_lists_mappings_both_ways() -> None:
    detail = ok_json("catalog", "show", "nist-csf-2.0", "--control", "ID.AM-01")
    assert detail["parent"] == "ID.AM"  # type: ignore[index]
    assert "1.1" in {m["label"] for m in detail["mapped_from"]}  # type: ignore[index]
    cis = ok_json("catalog", "show", "cis-controls-v8.1", "--control", "1.1")
    assert "ID.AM-01" in {m["label"] for m in cis["maps_to"]}  # type: ignore[index]
    code, out, _ = run("catalog", "show", "cis-controls-v8.1", "--control", "1.1")
    assert code == 0 and "maps to: nist-csf-2.0 ID.AM-01" in out


def test_search() -> None:
    page = ok_json("catalog", "search", "backup")
    assert page["total"] >= 2  # type: ignore[index]
    code, out, _ = run("catalog", "search", "backup")
    assert code == 0 and "PR.DS-11" in out


def test_validate_reports_lines_and_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "toy.yaml"
    good.write_text(TOY)
    code, out, _ = run("catalog", "validate", str(good))
    assert code == 0 and "valid (framework toy)" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        TOY.replace("title: First", "titel: First").replace("kind: area", "kind: AREA", 1)
    )
    code, _, err = run("catalog", "validate", str(bad))
    assert code == 1
    lines = err.strip().splitlines()
    assert any("line 8" in line for line in lines) and any("line 11" in line for line in lines)
    assert lines[-1].startswith("error: ")
    code, _, err = run("catalog", "validate", str(tmp_path / "missing.yaml"))
    assert code == 1 and "No such file" in err


def test_import_and_map_with_path(tmp_path: Path) -> None:
    (tmp_path / "toy.yaml").write_text(TOY)
    (tmp_path / "map.yaml").write_text(TOY_TO_CSF)
    code, out, _ = run("catalog", "import", str(tmp_path / "toy.yaml"))
    assert code == 0 and "framework toy 1.0: created" in out
    code, out, _ = run("catalog", "import", str(tmp_path / "toy.yaml"))
    assert "unchanged" in out
    assert run("catalog", "import", str(tmp_path / "map.yaml"))[0] == 0
    result = ok_json("catalog", "map", "1.1", "--from", "cis-controls-v8.1", "--to", "toy")
    assert result["hops"] == 2  # type: ignore[index]
    path = result["results"][0]["path"]  # type: ignore[index]
    assert [step["to"] for step in path] == ["nist-csf-2.0:ID.AM-01", "toy:A-1"]
    code, out, _ = run("catalog", "map", "1.1", "--from", "cis-controls-v8.1", "--to", "toy")
    assert "through one intermediate framework" in out
    assert "via cis-controls-v8.1:1.1 -> nist-csf-2.0:ID.AM-01 -> toy:A-1" in out


def test_import_errors_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: assay/framework/v1\nid: [unclosed\n")
    code, out, err = run("catalog", "import", str(broken))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "broken.yaml" in err and "line" in err


def test_import_cis_workbook(reference_dir: Path) -> None:
    workbook = reference_dir / "cis-controls-v8" / "CIS_Controls_Version_8.1_6_24_2024.xlsx"
    code, out, err = run("catalog", "import-cis", str(workbook))
    assert code == 0, err
    assert "official text for 171 controls and safeguards" in out
    detail = ok_json("catalog", "show", "cis-controls-v8.1", "--control", "4.10")
    assert detail["official_title"]  # type: ignore[index]


def test_validate_prints_every_problem_with_its_line(tmp_path: Path) -> None:
    refs = tmp_path / "refs.yaml"
    refs.write_text(CROSS_REFERENCE_ERRORS)
    code, _, err = run("catalog", "validate", str(refs))
    assert code == 1
    lines = err.strip().splitlines()
    assert [line.split(": ")[1] for line in lines[:-1]] == [
        f"line {n}" for n in (12, 14, 17, 18, 20, 22, 23, 24)
    ]
    assert all(line.startswith(f"{refs}: line ") for line in lines[:-1])
    assert lines[-1] == f"error: {refs}: 8 problem(s)"


@pytest.mark.parametrize(
    ("edit", "expected", "govern"),
    [
        (
            ("The organization decides", "The organisation decides"),
            "framework nist-csf-2.0 2.0: updated: 0 added, 0 removed, 1 changed",
            "The organisation decides",
        ),
        (
            ('version: "2.0"\ncontent_version: "1"', 'version: "2.0.1"\ncontent_version: "2"'),
            "framework nist-csf-2.0 2.0.1: updated: 0 added, 0 removed, 0 changed",
            "The organization decides",
        ),
    ],
)
def test_db_upgrade_reloads_a_changed_content_file(
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    edit: tuple[str, str],
    expected: str,
    govern: str,
) -> None:
    """`assay db upgrade` reloads a built-in file whose bytes changed, in place."""
    content = tmp_path / "content"
    shutil.copytree(str(service.content_root()), content)
    csf = content / "frameworks" / "nist-csf-2.0.yaml"
    text = csf.read_text(encoding="utf-8")
    assert text.count(edit[0]) == 1
    csf.write_text(text.replace(*edit), encoding="utf-8")
    monkeypatch.setattr(service, "content_root", lambda: content)
    code, out, err = run("db", "upgrade")
    assert code == 0, err
    assert [line for line in out.splitlines() if line.startswith(("framework", "mapping"))] == [
        expected
    ]
    assert service.get_control(session, "nist-csf-2.0", "GV").control.description.startswith(govern)
    assert service.get_framework(session, "nist-csf-2.0").origin == "builtin"
    loads = session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "catalog.load"))
    assert list(loads).count("nist-csf-2.0") == 2  # first load, then the reload
    before = counts(session)
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "framework" not in out  # loaded once
    session.rollback()
    assert counts(session) == before


def test_a_json_file_that_is_not_oscal_says_so(tmp_path: Path) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text('{"title": "my notes", "version": "1"}')
    code, _, err = run("catalog", "import", str(notes))
    assert code == 1
    assert err.startswith(f"error: {notes}: not an OSCAL document: top-level keys")
    single = tmp_path / "single.json"
    single.write_text('{"title": {"text": "my notes"}}')
    code, _, err = run("catalog", "import", str(single))
    assert code == 1 and "not an OSCAL document: unknown top-level key 'title'" in err
    page = tmp_path / "page.xml"
    page.write_text("<html><body/></html>")
    code, _, err = run("catalog", "import", str(page))
    assert code == 1 and f"{page}: line 1: not an OSCAL document: root element <html>" in err
