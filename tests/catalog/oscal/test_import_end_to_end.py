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
from assay.catalog.models import Baseline, Control, Framework, Mapping, MappingSet
from assay.catalog.oscal._ns import FIELD_NS
from assay.cli.main import app
from assay.errors import InvalidInput, NotFound
from tests.catalog.oscal.conftest import Validate
from tests.factories import SYSTEM

runner = CliRunner()
KEY = "nist-sp-800-53-r5"
BASELINES = Path("nist-800-53-r5/oscal-baselines-5.1.1")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def counts(session: Session) -> tuple[int, ...]:
    """Rows of every catalog table and of the audit log."""
    tables = (Framework, Control, Baseline, MappingSet, Mapping, AuditEvent)
    return tuple(session.scalar(select(func.count()).select_from(t)) or 0 for t in tables)


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
    assert counts(session) == before  # not even an audit event


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
    session: Session, sp800_53_path: Path, tmp_path: Path, sp800_53_raw: dict[str, Any]
) -> None:
    """Without --id: the key leaves the version out, so 5.1.1 updates what 5.0.1 created."""
    code, out, err = run("catalog", "import", str(sp800_53_path))
    assert code == 0, err
    derived = "nist-special-publication-800-53-revision-5"
    assert f"framework {derived} 5.0.1: created (1209 entries)" in out
    ac1_id = service.get_control(session, derived, "AC-1").control.id
    raw = json.loads(json.dumps(sp800_53_raw))
    metadata = raw["catalog"]["metadata"]
    metadata["version"] = "5.1.1"
    metadata["title"] = metadata["title"].replace("Revision 5:", "Revision 5.1.1:")
    metadata["title"] = metadata["title"].replace("Federal Information", "Information")
    families = {group["id"]: group for group in raw["catalog"]["groups"]}
    families["ac"]["controls"][0]["title"] = "Policy and Procedures, revised"
    assert families["ac"]["controls"].pop()["id"] == "ac-25"  # every later control moves up
    ia13 = json.loads(json.dumps(families["ia"]["controls"][0]))
    ia13.update(id="ia-13", title="Identity Providers and Authorization Servers")
    ia13["props"] = [{"name": "label", "value": "IA-13"}, {"name": "sort-id", "value": "ia-13"}]
    ia13.pop("controls", None)
    families["ia"]["controls"].append(ia13)
    newer = tmp_path / "NIST_SP-800-53_rev5.1.1_catalog.json"
    newer.write_text(json.dumps(raw))
    before = counts(session)

    code, out, err = run("catalog", "import", str(newer))
    assert code == 0, err
    assert out.splitlines() == [
        f"framework {derived} 5.1.1: updated: 1 added, 1 removed, 1 changed",
        "  added: IA-13",
        "  removed: AC-25",
        "  changed: AC-1",
    ]
    session.rollback()
    framework = service.get_framework(session, derived)
    assert framework.name.startswith("NIST Special Publication 800-53 Revision 5.1.1: Security")
    assert (framework.version, service.get_control(session, derived, "AC-1").control.id) == (
        "5.1.1",
        ac1_id,
    )
    frameworks, controls, *_, events = counts(session)
    assert (frameworks, controls, events) == (before[0], before[1], before[-1] + 1)
    with pytest.raises(NotFound):
        service.get_control(session, derived, "AC-25")


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
    dangling = tmp_path / "dangling.csv"
    dangling.write_text(
        "source,target,relationship\nAC-2,PR.AA-01,related\nAC-99,PR.AA-01,related\n"
    )
    session.rollback()
    before = counts(session)
    code, _, err = run("catalog", "import", str(dangling), "--from", KEY, "--to", "nist-csf-2.0")
    assert code == 1
    assert err.strip() == f"error: {dangling}: line 3: unknown source control AC-99"
    session.rollback()
    assert counts(session) == before
    code, out, err = run(
        "catalog", "import", str(dangling), "--from", KEY, "--to", "nist-csf-2.0", "--id", "mine"
    )
    assert code == 1 and "AC-99" in err
    code, out, err = run(
        "catalog",
        "import",
        str(dangling),
        "--from",
        KEY,
        "--to",
        "nist-csf-2.0",
        "--id",
        "mine",
        "--skip-unknown",
    )
    assert code == 0, err
    assert out.splitlines() == [
        "mapping mine 1: created (1 entries)",
        "  skipped 1 mappings naming unknown ids: AC-99->PR.AA-01",
    ]


@pytest.mark.parametrize("key", ["nist-csf-2.0", "cis-controls-v8.1"])
def test_built_in_catalog_exports_validate_and_reimport_identically(
    session: Session, tmp_path: Path, oscal_validate: Validate, key: str
) -> None:
    service.sync_builtin(session, SYSTEM)
    session.commit()
    out_file = tmp_path / f"{key}.json"
    code, _, err = run("catalog", "export", key, "--format", "oscal-json", "-o", str(out_file))
    assert code == 0, err
    assert oscal_validate("catalog", json.loads(out_file.read_text())) == []

    before = counts(session)
    code, out, err = run("catalog", "import", str(out_file))  # its key is the built-in's
    assert (code, out) == (1, "")
    assert f"{out_file}: framework '{key}' is built in" in err and "--id" in err
    session.rollback()
    assert counts(session) == before

    code, out, err = run("catalog", "import", str(out_file), "--id", "copy")
    assert code == 0, err
    assert "framework copy " in out and ": created" in out
    session.rollback()
    original = framework_document(session, service.get_framework(session, key))
    copy = framework_document(session, service.get_framework(session, "copy"))
    ignore = {"id", "source", "baselines"}
    assert copy.model_dump(exclude=ignore) == original.model_dump(exclude=ignore)
    assert service.get_framework(session, key).origin == "builtin"


def _sp800_53_to_csf(relationship: str = "subset-of") -> dict[str, Any]:
    """A small OSCAL mapping collection from the imported SP 800-53 to the built-in CSF 2.0,
    naming both by Assay framework-id props and using OSCAL ids on the SP 800-53 side."""

    def resource(href: str, key: str) -> dict[str, Any]:
        prop = {"name": "framework-id", "ns": FIELD_NS, "value": key}
        return {"type": "catalog", "href": href, "props": [prop]}

    def mapped(uuid: str, source: str, target: str) -> dict[str, Any]:
        return {
            "uuid": uuid,
            "relationship": relationship,
            "sources": [{"type": "control", "id-ref": source}],
            "targets": [{"type": "control", "id-ref": target}],
        }

    return {
        "mapping-collection": {
            "uuid": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            "metadata": {
                "title": "SP 800-53 to CSF 2.0 (excerpt)",
                "last-modified": "2025-01-01T00:00:00Z",
                "version": "1.0",
                "oscal-version": "1.2.3",
            },
            "provenance": {
                "method": "human",
                "matching-rationale": "semantic",
                "status": "complete",
                "mapping-description": "Hand-written test mapping.",
            },
            "mappings": [
                {
                    "uuid": "1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f",
                    "source-resource": resource("NIST_SP-800-53_rev5_catalog.json", KEY),
                    "target-resource": resource("csf2.json", "nist-csf-2.0"),
                    "maps": [
                        mapped("2d3e4f5a-6b7c-4d8e-8f9a-1b2c3d4e5f6a", "ac-2", "PR.AA-01"),
                        mapped("3e4f5a6b-7c8d-4e9f-9a0b-2c3d4e5f6a7b", "ac-2.1", "PR.AA-01"),
                    ],
                }
            ],
        }
    }


def test_oscal_mapping_import_end_to_end(
    session: Session, imported: Path, tmp_path: Path, oscal_validate: Validate
) -> None:
    service.sync_builtin(session, SYSTEM)
    session.commit()
    document = _sp800_53_to_csf()
    assert oscal_validate("mapping", document) == []
    path = tmp_path / "sp800-53-to-csf.json"
    path.write_text(json.dumps(document))
    code, out, err = run("catalog", "import", str(path))
    assert code == 0, err
    assert out.strip() == "mapping sp-800-53-to-csf-2.0-excerpt 1.0: created (2 entries)"
    session.rollback()
    before = counts(session)
    code, out, _ = run("catalog", "import", str(path))
    assert code == 0 and out.strip().endswith(": unchanged (2 entries)")
    session.rollback()
    assert counts(session) == before

    result = json.loads(
        run("catalog", "map", "PR.AA-01", "--from", "nist-csf-2.0", "--to", KEY, "--json")[1]
    )
    assert result["hops"] == 1
    assert {(r["target"], r["relationship"]) for r in result["results"]} == {
        ("AC-2", "superset-of"),
        ("AC-2(1)", "superset-of"),
    }
    two_hops = json.loads(
        run("catalog", "map", "5.1", "--from", "cis-controls-v8.1", "--to", KEY, "--json")[1]
    )
    assert two_hops["hops"] == 2
    assert [s["to"] for s in two_hops["results"][0]["path"]] == [
        "nist-csf-2.0:PR.AA-01",
        f"{KEY}:AC-2",
    ]

    unknown = json.loads(json.dumps(document))
    unknown["mapping-collection"]["mappings"][0]["maps"][1]["sources"][0]["id-ref"] = "ac-999"
    bad = tmp_path / "unknown.json"
    bad.write_text(json.dumps(unknown))
    code, out, err = run("catalog", "import", str(bad))
    assert (code, out) == (1, "")
    assert err.strip() == (
        f"error: {bad}: mapping-collection.mappings[0].maps[1].sources[0].id-ref: ac-999 is not "
        "a control of NIST Special Publication 800-53 Revision 5: Security and Privacy Controls "
        "for Federal Information Systems and Organizations"
    )
    session.rollback()
    assert counts(session) == before

    document["mapping-collection"]["metadata"]["version"] = "1.1"
    document["mapping-collection"]["mappings"][0]["maps"].pop()
    path.write_text(json.dumps(document))
    code, out, err = run("catalog", "import", str(path))
    assert code == 0, err
    assert out.splitlines() == [
        "mapping sp-800-53-to-csf-2.0-excerpt 1.1: updated: 0 added, 1 removed, 0 changed",
        "  removed: AC-2(1)->PR.AA-01",
    ]


def _bad_files(tmp_path: Path, sp800_53_raw: dict[str, Any], reference_dir: Path) -> dict[str, Any]:
    duplicate = json.loads(json.dumps(sp800_53_raw))
    duplicate["catalog"]["groups"][0]["controls"][1]["id"] = "ac-1"
    profile = json.loads(
        (reference_dir / BASELINES / "NIST_SP-800-53_rev5_LOW-baseline_profile.json").read_text()
    )
    with_ids = profile["profile"]["imports"][0]["include-controls"][0]["with-ids"]
    with_ids.insert(2, "zz-99")
    dangling = (
        "format: assay/mapping/v1\nid: sp--csf\nname: SP to CSF\nversion: '1'\n"
        f"source_framework: {KEY}\ntarget_framework: nist-csf-2.0\nmappings:\n"
        "  - {source: AC-2, target: PR.AA-01, relationship: related}\n"
        "  - {source: AC-99, target: PR.AA-01, relationship: related}\n"
    )
    return {
        "malformed.json": '{"catalog": {"uuid": "x",\n  "metadata": }}',
        "malformed.xml": '<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0">\n<metadata>\n</catalog>',
        "duplicate.json": json.dumps(duplicate),
        "dangling.yaml": dangling,
        "profile.json": json.dumps(profile, indent=1),
    }


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("malformed.json", "malformed.json: line 2 column 15: malformed JSON"),
        ("malformed.xml", "malformed.xml: line 3: malformed XML: Opening and ending tag"),
        (
            "duplicate.json",
            "duplicate.json: catalog.groups[0].controls[1]: duplicate id ac-1 "
            "(first at catalog.groups[0].controls[0])",
        ),
        (
            "dangling.yaml",
            f"dangling.yaml: line 9: mappings.1.source: AC-99 is not a control of {KEY}",
        ),
        (
            "profile.json",
            "profile.json: profile.imports[0].include-controls[0].with-ids[2]: 1 control id(s) "
            "selected by the profile are not in catalog",
        ),
    ],
)
def test_bad_files_name_their_place_and_write_nothing(
    session: Session,
    imported: Path,
    tmp_path: Path,
    sp800_53_raw: dict[str, Any],
    reference_dir: Path,
    file: str,
    expected: str,
) -> None:
    service.sync_builtin(session, SYSTEM)
    session.commit()
    path = tmp_path / file
    path.write_text(_bad_files(tmp_path, sp800_53_raw, reference_dir)[file])
    before = counts(session)
    options = ["--framework", KEY] if file == "profile.json" else []
    code, out, err = run("catalog", "import", str(path), *options)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {tmp_path}/{expected}"), err
    session.rollback()
    assert counts(session) == before
