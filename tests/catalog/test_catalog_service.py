"""Catalog services on a real database: built-in content, YAML imports, updates, mapping."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.auditlog.models import AuditEvent
from assay.auth.actor import Actor
from assay.catalog import service
from assay.catalog.crossmap import map_control
from assay.catalog.models import Baseline, Control, Framework, Mapping, MappingSet
from assay.catalog.schema import Relationship
from assay.catalog.yamlfile import ContentError
from assay.errors import InvalidInput, NotFound, PermissionDenied
from assay.tenancy.models import OrgKind, Role
from tests.factories import SYSTEM

USER = Actor(1, "admin@example.org", 1, OrgKind.MSP, Role.ADMIN, SYSTEM.via)

TOY = textwrap.dedent(
    """\
    format: assay/framework/v1
    id: toy
    name: Toy framework
    version: "1.0"
    levels: [area, item]
    controls:
      - id: A
        kind: area
        title: Area A
        controls:
          - {id: A-1, kind: item, title: First}
          - {id: A-2, kind: item, title: Second}
      - id: B
        kind: area
        title: Area B
        controls:
          - {id: B-1, kind: item, title: Third}
    baselines:
      - {id: core, name: Core, controls: [A-1, B-1]}
    """
)

TOY_TO_CSF = textwrap.dedent(
    """\
    format: assay/mapping/v1
    id: toy--csf
    name: Toy to CSF
    version: "1"
    source_framework: toy
    target_framework: nist-csf-2.0
    mappings:
      - {source: A-1, target: ID.AM-01, relationship: equivalent}
    """
)


@pytest.fixture
def builtin(session: Session) -> None:
    service.sync_builtin(session, SYSTEM)
    session.commit()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def counts(session: Session) -> tuple[int, ...]:
    """Rows of every catalog table and of the audit log."""
    tables = (Framework, Control, Baseline, MappingSet, Mapping, AuditEvent)
    return tuple(count(session, table) for table in tables)


def test_builtin_content_loads_once(session: Session, builtin: None) -> None:
    summaries = {s.framework.key: s for s in service.list_frameworks(session)}
    assert summaries["nist-csf-2.0"].counts == {"function": 6, "category": 22, "subcategory": 106}
    assert summaries["cis-controls-v8.1"].counts == {"control": 18, "safeguard": 153}
    assert summaries["cis-controls-v8.1"].baselines == ["ig1", "ig2", "ig3"]
    events = count(session, AuditEvent)
    again = service.sync_builtin(session, SYSTEM)
    session.commit()
    assert {r.status for r in again} == {"unchanged"}
    assert count(session, AuditEvent) == events


def test_ig_baselines_are_cumulative(session: Session, builtin: None) -> None:
    sizes = [
        len(service.baseline_labels(session, "cis-controls-v8.1", f"ig{n}")) for n in (1, 2, 3)
    ]
    assert sizes == [56, 130, 153]
    _, tree = service.framework_controls(session, "cis-controls-v8.1", baseline="ig1")
    assert sum(c.kind == "safeguard" for c in tree) == 56
    assert all(c.parent_id is None or c.kind == "safeguard" for c in tree)


def test_every_cis_safeguard_maps_to_csf(session: Session, builtin: None) -> None:
    cis = service.get_framework(session, "cis-controls-v8.1")
    unmapped = session.scalar(
        select(func.count())
        .select_from(Control)
        .where(
            Control.framework_id == cis.id,
            Control.kind == "safeguard",
            ~Control.id.in_(select(Mapping.source_id)),
        )
    )
    assert unmapped == 0


def test_import_user_yaml_then_update_in_place(session: Session, builtin: None) -> None:
    [report] = service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    session.commit()
    assert (report.status, report.total) == ("created", 5)
    [same] = service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    assert same.status == "unchanged"
    a1 = service.get_control(session, "toy", "A-1").control.id
    newer = (
        TOY.replace('version: "1.0"', 'version: "1.1"')
        .replace("title: Second", "title: Second reworded")
        .replace("- {id: B-1, kind: item, title: Third}", "- {id: B-2, kind: item, title: New}")
        .replace("controls: [A-1, B-1]", "controls: [A-1, B-2]")
    )
    [update] = service.import_file(session, SYSTEM, newer.encode(), "toy.yaml")
    session.commit()
    assert update.status == "updated"
    assert (update.added, update.removed, update.changed) == (["B-2"], ["B-1"], ["A-2"])
    assert update.baselines == ["core"]
    assert service.get_control(session, "toy", "A-1").control.id == a1  # updated in place
    assert service.baseline_labels(session, "toy", "core") == ["A-1", "B-2"]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("catalog.import") == 2  # the unchanged re-import wrote no event


def test_removing_a_control_reports_only_that(session: Session, builtin: None) -> None:
    service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    fewer = TOY.replace("      - {id: A-1, kind: item, title: First}\n", "").replace(
        "controls: [A-1, B-1]", "controls: [B-1]"
    )
    [report] = service.import_file(session, SYSTEM, fewer.encode(), "toy.yaml")
    assert report.status == "updated"
    assert (report.added, report.removed, report.changed) == ([], ["A-1"], [])
    assert (report.baselines, report.reordered) == (["core"], False)
    _, controls = service.framework_controls(session, "toy")
    assert [(c.label, c.position) for c in controls] == [("A", 0), ("A-2", 1), ("B", 2), ("B-1", 3)]


def test_reordering_is_an_update_without_changed_controls(session: Session, builtin: None) -> None:
    service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    first, second = "{id: A-1, kind: item, title: First}", "{id: A-2, kind: item, title: Second}"
    swapped = TOY.replace(first, "@").replace(second, first).replace("@", second)
    [report] = service.import_file(session, SYSTEM, swapped.encode(), "toy.yaml")
    assert (report.status, report.changed, report.reordered) == ("updated", [], True)
    assert report.summary().endswith("0 changed, order changed")
    _, controls = service.framework_controls(session, "toy", max_level=2)
    assert [c.label for c in controls] == ["A", "A-2", "A-1", "B", "B-1"]


def test_reimporting_the_same_file_writes_nothing(session: Session, builtin: None) -> None:
    service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    service.import_file(session, SYSTEM, TOY_TO_CSF.encode(), "toy-csf.yaml")
    session.commit()
    before = counts(session)
    for text, name in ((TOY, "toy.yaml"), (TOY_TO_CSF, "toy-csf.yaml")):
        [report] = service.import_file(session, SYSTEM, text.encode(), name)
        assert report.status == "unchanged"
    session.commit()
    assert counts(session) == before


def test_a_file_never_replaces_built_in_content(session: Session, builtin: None) -> None:
    before = counts(session)
    mine = TOY.replace("id: toy", "id: nist-csf-2.0")
    with pytest.raises(InvalidInput, match=r"^mine\.yaml: framework 'nist-csf-2\.0' is built in"):
        service.import_file(session, SYSTEM, mine.encode(), "mine.yaml")
    crosswalk = TOY_TO_CSF.replace("id: toy--csf", "id: cis-controls-v8.1--nist-csf-2.0")
    service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    with pytest.raises(
        InvalidInput, match=r"crosswalk 'cis-controls-v8\.1--nist-csf-2\.0' is built"
    ):
        service.import_file(session, SYSTEM, crosswalk.encode(), "m.yaml")
    session.rollback()
    assert counts(session) == before
    assert service.get_framework(session, "nist-csf-2.0").origin == "builtin"


def test_two_hop_mapping_says_which_path(session: Session, builtin: None) -> None:
    service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    service.import_file(session, SYSTEM, TOY_TO_CSF.encode(), "toy-csf.yaml")
    session.commit()
    direct = map_control(session, "A-1", "toy", "nist-csf-2.0")
    assert direct.hops == 1 and [p.target.to_label for p in direct.paths] == ["ID.AM-01"]
    reverse = map_control(session, "ID.AM-01", "nist-csf-2.0", "toy")
    assert reverse.hops == 1 and reverse.paths[0].relationship is Relationship.EQUIVALENT
    cis_to_csf = map_control(session, "1.1", "cis-controls-v8.1", "nist-csf-2.0")
    assert cis_to_csf.hops == 1 and "ID.AM-01" in {p.target.to_label for p in cis_to_csf.paths}
    two = map_control(session, "1.1", "cis-controls-v8.1", "toy")
    assert two.hops == 2
    assert [(s.from_label, s.to_label) for s in two.paths[0].steps] == [
        ("1.1", "ID.AM-01"),
        ("ID.AM-01", "A-1"),
    ]
    none = map_control(session, "A-2", "toy", "cis-controls-v8.1")
    assert (none.hops, none.paths) == (0, [])


def test_mapping_relationship_composition() -> None:
    from assay.catalog.crossmap import compose

    sub, sup, eq = Relationship.SUBSET_OF, Relationship.SUPERSET_OF, Relationship.EQUIVALENT
    assert compose([sub, eq]) is sub
    assert compose([sub, sub]) is sub
    assert compose([sup, sup]) is sup
    assert compose([sub, sup]) is Relationship.RELATED
    assert compose([Relationship.INTERSECTS_WITH, eq]) is Relationship.INTERSECTS_WITH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("format: [unclosed", "invalid YAML"),
        ("a: b\n  c: d\n", "line 2: invalid YAML"),
        ("", "empty"),
        ("- just\n- a list\n", "mapping at the top level"),
        ("format: other/v1\nid: x\n", "expected assay/framework/v1"),
        (TOY.replace("id: A-2", "id: A-1"), "duplicate control id A-1"),
        (TOY.replace("controls: [A-1, B-1]", "controls: [A-1, Z-9]"), "unknown control Z-9"),
        (TOY.replace("levels: [area, item]", "levels: [area]"), "deeper than"),
        (TOY.replace("title: First", "title: First\n            colour: red"), "line 12"),
        (TOY.replace('version: "1.0"\n', ""), "version"),
    ],
)
def test_bad_yaml_is_refused_with_its_line_and_nothing_written(
    session: Session, text: str, expected: str
) -> None:
    before = (count(session, Framework), count(session, Control), count(session, AuditEvent))
    with pytest.raises(InvalidInput) as caught:
        service.import_file(session, SYSTEM, text.encode(), "mine.yaml")
    session.rollback()
    assert "mine.yaml" in caught.value.message
    assert expected in caught.value.message or expected in str(
        getattr(caught.value, "problems", "")
    )
    assert (
        count(session, Framework),
        count(session, Control),
        count(session, AuditEvent),
    ) == before


def test_validate_reports_every_problem_with_its_line() -> None:
    broken = TOY.replace("kind: item, title: First", "kind: ITEM, title: First").replace(
        "title: Third", "titel: Third"
    )
    with pytest.raises(ContentError) as caught:
        service.validate_file(broken.encode(), "broken.yaml")
    problems = caught.value.problems
    assert len(problems) >= 3  # bad kind, unknown field, missing title
    assert {p.line for p in problems} >= {11, 17}  # A-1 and B-1 lines


CROSS_REFERENCE_ERRORS = textwrap.dedent(
    """\
    format: assay/framework/v1
    id: toy
    name: Toy framework
    version: "1.0"
    levels: [area, item]
    controls:
      - id: A
        kind: area
        title: Area A
        controls:
          - {id: A-1, kind: item, title: First}
          - {id: A-1, kind: item, title: Again}
          - id: A-3
            kind: ITEM
            title: Third
            controls:
              - {id: A-3-x, kind: item, title: Too deep}
      - id: B
        kind: area
        titel: Area B
    baselines:
      - {id: core, name: Core, controls: [A-1, Z-9]}
      - {id: core, name: Again, controls: [A-1]}
    assessable: [item, nope]
    """
)


def test_validate_reports_every_cross_reference_problem_beside_field_errors() -> None:
    with pytest.raises(ContentError) as caught:
        service.validate_file(CROSS_REFERENCE_ERRORS.encode(), "refs.yaml")
    found = [(p.line, p.path, p.message) for p in caught.value.problems]
    assert [(line, path) for line, path, _ in found] == [
        (12, "controls.0.controls.1.id"),
        (14, "controls.0.controls.2.kind"),
        (17, "controls.0.controls.2.controls.0"),
        (18, "controls.1.title"),
        (20, "controls.1.titel"),
        (22, "baselines.0.controls.1"),
        (23, "baselines.1.id"),
        (24, "assessable.1"),
    ]
    messages = {path: message for _, path, message in found}
    assert messages["controls.0.controls.1.id"] == "duplicate control id A-1 (first at line 11)"
    assert messages["controls.0.controls.2.controls.0"] == (
        "control A-3-x is deeper than the 2 levels"
    )
    assert messages["baselines.0.controls.1"] == "baseline core names unknown control Z-9"
    assert messages["baselines.1.id"] == "duplicate baseline id core (first at line 22)"
    assert messages["assessable.1"] == "assessable names unknown level nope"
    assert str(caught.value).startswith("refs.yaml: line 12: controls.0.controls.1.id: ")
    assert str(caught.value).endswith("(and 7 more)")


def test_validate_reports_duplicate_mappings_with_their_lines() -> None:
    twice = TOY_TO_CSF + (
        "  - {source: A-2, target: ID.AM-02, relationship: related}\n"
        "  - {source: A-1, target: ID.AM-01, relationship: related}\n"
        "  - {source: A-2, target: ID.AM-02, relationship: sameish}\n"
    )
    with pytest.raises(ContentError) as caught:
        service.validate_file(twice.encode(), "twice.yaml")
    assert [(p.line, p.path, p.message[:30]) for p in caught.value.problems] == [
        (10, "mappings.2", "duplicate mapping A-1 -> ID.AM"),
        (11, "mappings.3.relationship", "Input should be 'equivalent', "),
        (11, "mappings.3", "duplicate mapping A-2 -> ID.AM"),
    ]
    assert caught.value.problems[2].message.endswith("ID.AM-02 (first at line 9)")


def test_models_built_in_code_still_refuse_broken_references() -> None:
    from pydantic import ValidationError

    from assay.catalog.schema import ControlEntry, FrameworkDocument

    with pytest.raises(ValidationError, match=r"controls\.1\.id: duplicate control id X"):
        FrameworkDocument(
            id="x",
            name="X",
            version="1",
            levels=["item"],
            controls=[ControlEntry(id="X", kind="item", title="a")] * 2,
        )


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe\x00b\x00a\x00d", b"format: assay/framework/v1\nid: \xe9\n", b"   \n"],
)
def test_wrong_encoding_and_empty_files(session: Session, data: bytes) -> None:
    with pytest.raises(InvalidInput):
        service.import_file(session, SYSTEM, data, "enc.yaml")


def test_yaml_bombs_are_refused(session: Session) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    with pytest.raises(InvalidInput):
        service.import_file(session, SYSTEM, bomb.encode(), "bomb.yaml")
    with pytest.raises(InvalidInput, match="unknown file type"):
        service.import_file(session, SYSTEM, b"hello", "notes.txt")
    with pytest.raises(InvalidInput, match="too large"):
        service.import_file(session, SYSTEM, b"x" * (service.MAX_IMPORT_BYTES + 1), "big.yaml")


def test_mapping_to_unloaded_framework_or_dangling_ids(session: Session, builtin: None) -> None:
    with pytest.raises(InvalidInput, match="'toy' is not loaded"):
        service.import_file(session, SYSTEM, TOY_TO_CSF.encode(), "m.yaml")
    service.import_file(session, SYSTEM, TOY.encode(), "toy.yaml")
    dangling = TOY_TO_CSF.replace("target: ID.AM-01", "target: PR.AC-01") + (
        "  - {source: Z-1, target: ID.AM-02, relationship: related}\n"
    )
    with pytest.raises(ContentError) as caught:
        service.import_file(session, SYSTEM, dangling.encode(), "m.yaml")
    assert caught.value.message == (
        "m.yaml: line 8: mappings.0.target: PR.AC-01 is not a control of nist-csf-2.0 (and 1 more)"
    )
    assert str(caught.value.problems[1]) == (
        "line 9: mappings.1.source: Z-1 is not a control of toy"
    )


def test_only_the_local_operator_imports(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        service.import_file(session, USER, TOY.encode(), "toy.yaml")


def test_search_and_lookups(session: Session, builtin: None) -> None:
    found, total = service.search(session, "INVENTORY")
    assert total >= 3 and {"1.1", "ID.AM-01"} <= {c.label for _, c in found}
    assert service.search(session, "100%_")[1] == 0
    with pytest.raises(InvalidInput):
        service.search(session, "   ")
    with pytest.raises(NotFound, match=r"loaded: cis-controls-v8\.1, nist-csf-2\.0"):
        service.get_framework(session, "nope")
    with pytest.raises(NotFound):
        service.get_control(session, "nist-csf-2.0", "PR.AC-01")
    detail = service.get_control(session, "nist-csf-2.0", "ID.AM-01")
    assert "1.1" in {m.label for m in detail.mapped_from}


def test_cis_workbook_adds_official_text(
    session: Session, builtin: None, reference_dir: Path
) -> None:
    workbook = reference_dir / "cis-controls-v8" / "CIS_Controls_Version_8.1_6_24_2024.xlsx"
    report = service.import_cis_workbook(session, SYSTEM, workbook.read_bytes(), workbook.name)
    session.commit()
    assert (report.total, len(report.changed)) == (171, 171)
    ten = service.get_control(session, "cis-controls-v8.1", "3.10").control
    assert ten.official_title and ten.official_description
    assert ten.title != ten.official_title  # our own label stays beside CIS's title
    again = service.import_cis_workbook(session, SYSTEM, workbook.read_bytes(), workbook.name)
    assert again.status == "unchanged"


def test_cis_workbook_bad_input(session: Session, builtin: None) -> None:
    with pytest.raises(InvalidInput, match="not an XLSX"):
        service.import_cis_workbook(session, SYSTEM, b"garbage", "x.xlsx")
    with pytest.raises(PermissionDenied):
        service.import_cis_workbook(session, USER, b"garbage", "x.xlsx")


def test_control_characters_are_refused_before_the_database(
    session: Session, builtin: None
) -> None:
    for call in (
        lambda: service.search(session, "a\x00b"),
        lambda: service.get_control(session, "nist-csf-2.0", "ID.AM-01\x00"),
        lambda: service.get_framework(session, "nist\x00"),
        lambda: map_control(session, "1.1\x00", "cis-controls-v8.1", "nist-csf-2.0"),
    ):
        with pytest.raises(InvalidInput, match="control characters"):
            call()
