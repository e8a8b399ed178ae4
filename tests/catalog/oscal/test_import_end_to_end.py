"""SP 800-53 and its baselines through `assay catalog import` / `export` into the database."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.auditlog.models import AuditEvent
from assay.catalog import service
from assay.catalog.documents import framework_document
from assay.catalog.models import Baseline, Control, Framework
from assay.cli.main import app
from assay.errors import InvalidInput
from tests.catalog.oscal.conftest import Validate
from tests.factories import SYSTEM

runner = CliRunner()
KEY = "nist-sp-800-53-r5"
BASELINES = Path("nist-800-53-r5/oscal-baselines-5.1.1")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def counts(session: Session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Framework)) or 0,
        session.scalar(select(func.count()).select_from(Control)) or 0,
        session.scalar(select(func.count()).select_from(Baseline)) or 0,
        session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


def profile_ids(raw: dict[str, Any]) -> set[str]:
    """The OSCAL ids a NIST baseline profile selects, read independently of Assay's reader."""
    ids: set[str] = set()
    for imported in raw["profile"]["imports"]:
        for include in imported.get("include-controls", []):
            ids.update(include.get("with-ids", []))
    return ids


@pytest.fixture
def imported(session: Session, sp800_53_path: Path) -> Path:
    code, out, err = run("catalog", "import", str(sp800_53_path), "--id", KEY)
    assert code == 0, err
    assert f"framework {KEY} 5.0.1: created (1209 entries)" in out
    return sp800_53_path


def test_catalog_has_exactly_the_controls_of_the_file(
    session: Session, imported: Path, sp800_53_raw: dict[str, Any]
) -> None:
    expected: dict[str, bool] = {}

    def walk(controls: list[dict[str, Any]]) -> None:
        for control in controls:
            withdrawn = any(
                p["name"] == "status" and p["value"] == "withdrawn"
                for p in control.get("props", [])
            )
            expected[control["id"]] = withdrawn
            walk(control.get("controls", []))

    for group in sp800_53_raw["catalog"]["groups"]:
        walk(group.get("controls", []))
    framework = service.get_framework(session, KEY)
    stored = dict(
        session.execute(
            select(Control.oscal_id, Control.withdrawn).where(
                Control.framework_id == framework.id, Control.level > 1
            )
        ).all()
    )
    assert stored == expected
    assert len(stored) == 1189 and sum(stored.values()) == 182
    summary = {s.framework.key: s for s in service.list_frameworks(session)}[KEY]
    assert summary.counts == {"family": 20, "control": 322, "enhancement": 867}
    ac21 = service.get_control(session, KEY, "AC-2(1)")
    assert (ac21.control.oscal_id, ac21.parent.label if ac21.parent else None) == ("ac-2.1", "AC-2")


def test_importing_twice_changes_nothing(session: Session, imported: Path) -> None:
    before = counts(session)
    code, out, _ = run("catalog", "import", str(imported), "--id", KEY)
    assert code == 0 and "unchanged" in out
    session.rollback()
    assert counts(session)[:3] == before[:3]


@pytest.mark.parametrize(
    ("profile", "key", "size"),
    [
        ("LOW", "low", 149),
        ("MODERATE", "moderate", 287),
        ("HIGH", "high", 370),
        ("PRIVACY", "privacy", 96),
    ],
)
def test_baselines_resolve_to_exactly_what_the_profile_selects(
    session: Session, imported: Path, reference_dir: Path, profile: str, key: str, size: int
) -> None:
    path = reference_dir / BASELINES / f"NIST_SP-800-53_rev5_{profile}-baseline_profile.json"
    code, out, err = run("catalog", "import", str(path), "--framework", KEY)
    assert code == 0, err
    assert f"baseline {KEY}/{key}" in out
    labels = service.baseline_labels(session, KEY, key)
    framework = service.get_framework(session, KEY)
    by_label = dict(
        session.execute(
            select(Control.label, Control.oscal_id).where(Control.framework_id == framework.id)
        ).all()
    )
    assert {by_label[label] for label in labels} == profile_ids(json.loads(path.read_bytes()))
    assert len(labels) == size
    shown = json.loads(run("catalog", "show", KEY, "--baseline", key, "--json")[1])
    assert {c["id"] for c in shown["controls"] if c["level"] > 1} >= set(labels)


def test_export_validates_and_reimports_identically(
    session: Session, imported: Path, tmp_path: Path, oscal_validate: Validate
) -> None:
    out_file = tmp_path / "export.json"
    code, _, err = run("catalog", "export", KEY, "--format", "oscal-json", "-o", str(out_file))
    assert code == 0, err
    exported = json.loads(out_file.read_text())
    assert oscal_validate("catalog", exported) == []
    code, _, err = run("catalog", "import", str(out_file), "--id", "sp800-53-copy")
    assert code == 0, err
    original = framework_document(session, service.get_framework(session, KEY))
    copy = framework_document(session, service.get_framework(session, "sp800-53-copy"))
    ignore = {"id", "source", "notice", "baselines"}
    assert copy.model_dump(exclude=ignore) == original.model_dump(exclude=ignore)


def test_newer_version_updates_in_place_and_says_what_changed(
    session: Session, imported: Path, tmp_path: Path, sp800_53_raw: dict[str, Any]
) -> None:
    raw = json.loads(json.dumps(sp800_53_raw))
    raw["catalog"]["metadata"]["version"] = "5.0.2-test"
    family = raw["catalog"]["groups"][0]
    family["controls"][0]["title"] = "Policy and Procedures, revised"
    removed = family["controls"].pop()
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(raw))
    ac1_id = service.get_control(session, KEY, "AC-1").control.id
    code, out, err = run("catalog", "import", str(newer), "--id", KEY)
    assert code == 0, err
    assert f"framework {KEY} 5.0.2-test: updated" in out
    assert "changed: AC-1" in out
    removed_label = next(p["value"] for p in removed["props"] if p["name"] == "label")
    assert f"removed: {removed_label}" in out
    assert service.get_control(session, KEY, "AC-1").control.id == ac1_id


def test_profile_for_a_missing_catalog_writes_nothing(
    session: Session, reference_dir: Path
) -> None:
    path = reference_dir / BASELINES / "NIST_SP-800-53_rev5_LOW-baseline_profile.json"
    before = counts(session)
    code, out, err = run("catalog", "import", str(path), "--framework", KEY)
    assert code == 1 and out == ""
    assert "is not imported" in err and path.name in err
    code, _, err = run("catalog", "import", str(path))
    assert code == 1 and "--framework" in err
    assert counts(session) == before


def test_wrong_model_and_huge_files_write_nothing(session: Session, tmp_path: Path) -> None:
    before = counts(session)
    ssp = tmp_path / "ssp.json"
    ssp.write_text('{"system-security-plan": {"uuid": "x"}}')
    code, _, err = run("catalog", "import", str(ssp))
    assert code == 1 and "ssp.json" in err and "system-security-plan" in err
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:  # sparse: 200 MB without using the disk
        handle.truncate(200 * 1024 * 1024)
    code, _, err = run("catalog", "import", str(huge))
    assert code == 1 and "too large" in err and "huge.json" in err
    with pytest.raises(InvalidInput, match="too large"):
        service.import_file(session, SYSTEM, b" " * (service.MAX_IMPORT_BYTES + 1), "big.json")
    assert counts(session) == before
    assert os.path.getsize(huge) == 200 * 1024 * 1024


def test_hostile_xml_is_refused_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    before = counts(session)
    xxe = tmp_path / "xxe.xml"
    xxe.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE catalog [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0"><metadata><title>&x;</title>'
        "</metadata></catalog>\n"
    )
    laughs = tmp_path / "laughs.xml"
    entities = ['<!ENTITY l0 "lol">']
    entities += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    laughs.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE catalog [{"".join(entities)}]>\n<catalog>&l9;</catalog>'
    )
    for path in (xxe, laughs):
        code, _, err = run("catalog", "import", str(path))
        assert code == 1 and path.name in err, err
        assert "root:" not in err
    assert counts(session) == before


def test_nist_csf_to_sp800_53_crosswalk_and_two_hop_map(
    session: Session, imported: Path, reference_dir: Path
) -> None:
    service.sync_builtin(session, SYSTEM)
    session.commit()
    workbook = (
        reference_dir / "mappings/Cybersecurity_Framework_v2-0_Concept_Crosswalk_800-53_final.xlsx"
    )
    before = counts(session)
    code, _, err = run("catalog", "import", str(workbook), "--from", "nist-csf-2.0", "--to", KEY)
    assert code == 1 and "IA-13" in err  # SP 800-53 5.1.1 added IA-13; the 5.0.1 catalog lacks it
    assert counts(session) == before
    code, out, err = run(
        "catalog", "import", str(workbook), "--from", "nist-csf-2.0", "--to", KEY, "--skip-unknown"
    )
    assert code == 0, err
    assert "created (738 entries)" in out and "skipped 2 mappings" in out
    result = json.loads(
        run("catalog", "map", "1.1", "--from", "cis-controls-v8.1", "--to", KEY, "--json")[1]
    )
    assert result["hops"] == 2
    assert "CM-8" in {r["target"] for r in result["results"]}
    step = next(r for r in result["results"] if r["target"] == "CM-8")["path"]
    assert [s["to"] for s in step] == ["nist-csf-2.0:ID.AM-01", f"{KEY}:CM-8"]


def test_csv_crosswalk_import(session: Session, imported: Path, tmp_path: Path) -> None:
    service.sync_builtin(session, SYSTEM)
    session.commit()
    csv_file = tmp_path / "mine.csv"
    csv_file.write_text("source,target,relationship\nAC-2,PR.AA-01,subset-of\n")
    code, out, err = run("catalog", "import", str(csv_file), "--from", KEY, "--to", "nist-csf-2.0")
    assert code == 0, err
    assert "mapping " in out and "created (1 entries)" in out
    detail = service.get_control(session, "nist-csf-2.0", "PR.AA-01")
    assert ("AC-2", "superset-of") not in {(m.label, m.relationship) for m in detail.mapped_to}
    assert ("AC-2", "subset-of") in {(m.label, m.relationship) for m in detail.mapped_from}
    bad = tmp_path / "bad.csv"
    bad.write_text("source,target,relationship\nAC-2,PR.AA-01,sameish\n")
    code, _, err = run("catalog", "import", str(bad), "--from", KEY, "--to", "nist-csf-2.0")
    assert code == 1 and "bad.csv" in err and "line 2" in err
    code, _, err = run("catalog", "import", str(csv_file))
    assert code == 1 and "--from and --to" in err
