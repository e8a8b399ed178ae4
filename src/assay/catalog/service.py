"""Catalog services: load built-in content, import and export files, browse, search and map."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import PurePath

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from assay.auditlog.service import record
from assay.auth.actor import Actor
from assay.catalog.models import Baseline, BaselineControl, Control, Framework, Mapping, MappingSet
from assay.catalog.schema import (
    FORMAT_FRAMEWORK,
    FORMAT_MAPPING,
    FrameworkDocument,
    MappingDocument,
    framework_issues,
    mapping_issues,
)
from assay.catalog.store import (
    LoadReport,
    StoreError,
    UnknownIds,
    store_baseline,
    store_framework,
    store_mapping,
)
from assay.catalog.yamlfile import ContentError, Problem, compose, line_of, validate
from assay.errors import InvalidInput, NotFound, PermissionDenied

MAX_IMPORT_BYTES = 100 * 1024 * 1024


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _require_operator(actor: Actor) -> None:
    """Catalogs are shared by the whole installation: only a local operator changes them."""
    if not actor.is_system:
        raise PermissionDenied("catalogs are imported by a local operator (assay catalog import)")


def _audit(session: Session, actor: Actor, action: str, report: LoadReport, source: str) -> None:
    record(
        session,
        actor,
        action,
        organization_id=None,
        object_type=report.kind,
        object_id=report.key,
        detail={
            "source": source,
            "version": report.version,
            "status": report.status,
            "added": len(report.added),
            "removed": len(report.removed),
            "changed": len(report.changed),
        },
    )


# --- built-in content ----------------------------------------------------------------------


def content_root() -> Traversable:
    """The folder of the built-in content files (inside the package)."""
    return resources.files("assay.catalog") / "content"


def builtin_files() -> list[tuple[str, bytes]]:
    """Packaged content files: frameworks first, then mappings (which refer to frameworks)."""
    root = content_root()
    found: list[tuple[str, bytes]] = []
    for folder in ("frameworks", "mappings"):
        for item in sorted((root / folder).iterdir(), key=lambda p: p.name):
            if item.name.endswith((".yaml", ".yml")):
                found.append((f"{folder}/{item.name}", item.read_bytes()))
    return found


def sync_builtin(session: Session, actor: Actor) -> list[LoadReport]:
    """Load built-in frameworks and crosswalks; a file is re-loaded only when it changed."""
    loaded = set(session.scalars(select(Framework.digest))) | set(
        session.scalars(select(MappingSet.digest))
    )
    reports = []
    for name, data in builtin_files():
        if _digest(data) in loaded:  # unchanged since it was loaded: nothing to parse
            reports.append(LoadReport("content", name, name, "", status="unchanged"))
            continue
        report = _store_yaml(session, _parse_builtin(data, name), data, name, origin="builtin")
        if report.status != "unchanged":
            _audit(session, actor, "catalog.load", report, name)
        reports.append(report)
    return reports


@lru_cache(maxsize=8)
def _parse_builtin(data: bytes, name: str) -> FrameworkDocument | MappingDocument:
    """Packaged files never change while a process runs: parse each once (the store reads
    documents, never changes them)."""
    return parse_yaml(data, name)


def _load_yaml(session: Session, data: bytes, name: str) -> LoadReport:
    document = parse_yaml(data, name)
    _refuse_builtin(session, document, name, "give the file an id of its own")
    return _store_yaml(session, document, data, name, origin="yaml")


def _store_yaml(
    session: Session,
    document: FrameworkDocument | MappingDocument,
    data: bytes,
    name: str,
    *,
    origin: str,
) -> LoadReport:
    """Store a YAML document; a mapping naming unknown controls is refused line by line."""
    try:
        return _store(session, document, data, origin=origin)
    except UnknownIds as exc:
        _, node = compose(data, name)
        problems = []
        for unknown in exc.unknown:
            loc = ("mappings", unknown.index, unknown.side)
            message = f"{unknown.label} is not a control of {unknown.framework}"
            problems.append(Problem(line_of(node, loc), ".".join(map(str, loc)), message))
        raise ContentError(name, problems) from None


def _refuse_builtin(
    session: Session, document: FrameworkDocument | MappingDocument, name: str, hint: str
) -> None:
    """A file never replaces a built-in framework or crosswalk (the next `assay db upgrade`
    would put it back, and assessments rely on it)."""
    model = Framework if isinstance(document, FrameworkDocument) else MappingSet
    if session.scalar(select(model.origin).where(model.key == document.id)) == "builtin":
        kind = "framework" if model is Framework else "crosswalk"
        raise InvalidInput(
            f"{name}: {kind} '{document.id}' is built in and is not replaced; {hint}"
        )


def _store(
    session: Session, document: FrameworkDocument | MappingDocument, data: bytes, *, origin: str
) -> LoadReport:
    if isinstance(document, FrameworkDocument):
        return store_framework(session, document, origin=origin, digest=_digest(data))
    return store_mapping(session, document, origin=origin, digest=_digest(data))


def parse_yaml(data: bytes, name: str) -> FrameworkDocument | MappingDocument:
    value, node = compose(data, name)
    kind = value.get("format")
    if kind == FORMAT_MAPPING:
        return validate(value, node, name, MappingDocument, mapping_issues)
    if kind == FORMAT_FRAMEWORK:
        return validate(value, node, name, FrameworkDocument, framework_issues)
    raise ContentError(
        name, [Problem(1, "format", f"expected {FORMAT_FRAMEWORK} or {FORMAT_MAPPING}")]
    )


# --- importing files -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """What a file cannot say about itself."""

    key: str | None = None  # framework key for an OSCAL catalog
    framework: str | None = None  # the catalog a profile selects from
    baseline: str | None = None  # baseline key for a profile
    source_framework: str | None = None  # for CSV and NIST crosswalk workbooks
    target_framework: str | None = None
    mapping_key: str | None = None
    skip_unknown: bool = False  # crosswalks: leave out mappings naming ids a framework lacks


def detect(data: bytes, name: str) -> str:
    """yaml, oscal-json, oscal-xml, csv or xlsx, from the name and the first bytes."""
    suffix = PurePath(name).suffix.lower()
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:4] == b"PK\x03\x04" or suffix == ".xlsx":
        return "xlsx"
    if head.startswith(b"{") or suffix == ".json":
        return "oscal-json"
    if head.startswith(b"<") or suffix == ".xml":
        return "oscal-xml"
    if suffix == ".csv":
        return "csv"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise InvalidInput(f"{name}: unknown file type (expected YAML, OSCAL JSON/XML, CSV or XLSX)")


_JSON_MODEL = re.compile(rb'^\s*\{\s*"([a-z-]{1,40})"\s*:')
_XML_ROOT = re.compile(rb"<([A-Za-z][\w.:-]{0,60})[\s/>]")


def oscal_model(data: bytes, kind: str, name: str) -> str:
    """Which OSCAL model a JSON or XML document holds: catalog, profile, mapping-collection...

    Sniffed from the first JSON key or the first XML element (the readers then parse and check
    the whole file, safely); a file whose model cannot be seen is left to the catalog reader,
    which names what it found.
    """
    if kind == "oscal-json":
        match = _JSON_MODEL.match(data.removeprefix(b"\xef\xbb\xbf")[:4096])
        return match.group(1).decode() if match else "catalog"
    match = _XML_ROOT.search(data[:4096])
    return match.group(1).decode().rsplit(":", 1)[-1] if match else "catalog"


def import_file(
    session: Session, actor: Actor, data: bytes, name: str, options: ImportOptions | None = None
) -> list[LoadReport]:
    """Import one file of any supported kind; everything lands or nothing does."""
    _require_operator(actor)
    options = options or ImportOptions()
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"{name}: file too large ({len(data) // 2**20} MB, limit 100 MB)")
    if not data.strip():
        raise InvalidInput(f"{name}: the file is empty")
    kind = detect(data, name)
    try:
        if kind == "yaml":
            report = _load_yaml(session, data, name)
        elif kind in ("csv", "xlsx"):
            report = _import_crosswalk(session, data, name, kind, options)
        else:
            report = _import_oscal(session, data, name, kind, options)
    except StoreError as exc:  # the store does not know the file: name it
        raise InvalidInput(f"{name}: {exc.message}") from None
    if report.status != "unchanged":  # the same file again writes nothing, not even an event
        _audit(session, actor, "catalog.import", report, PurePath(name).name)
    return [report]


def _import_oscal(
    session: Session, data: bytes, name: str, kind: str, options: ImportOptions
) -> LoadReport:
    from assay.catalog.oscal._document import MODELS

    model = oscal_model(data, kind, name)
    if model not in MODELS:  # not OSCAL at all: the reader says what it found
        model = "catalog"
    if model == "catalog":
        from assay.catalog.oscal.reader import read_catalog

        document = read_catalog(data, name, key=options.key)
        _refuse_builtin(session, document, name, ANOTHER_KEY)
        return store_framework(session, document, origin="oscal", digest=_digest(data))
    if model == "profile":
        return _import_profile(session, data, name, options)
    if model == "mapping-collection":
        from assay.catalog.documents import framework_document
        from assay.catalog.oscal.mapping import read_mapping

        ends = [
            framework_document(session, get_framework(session, key)) if key else None
            for key in (options.source_framework, options.target_framework)
        ]
        mapping = read_mapping(
            data,
            name,
            source_framework=ends[0],
            target_framework=ends[1],
            key=options.mapping_key,
            frameworks=_loaded_framework(session),
            keep_unknown=options.skip_unknown,
        )
        _refuse_builtin(session, mapping, name, ANOTHER_KEY)
        return store_mapping(
            session,
            mapping,
            origin="oscal",
            digest=_digest(data),
            skip_unknown=options.skip_unknown,
        )
    raise InvalidInput(
        f"{name}: OSCAL model '{model}' cannot be imported as a catalog, profile or mapping"
    )


ANOTHER_KEY = "import it under a key of its own with --id KEY"


def _loaded_framework(session: Session) -> Callable[[str], FrameworkDocument | None]:
    """Look up a loaded framework by key (for readers resolving ids against it)."""
    from assay.catalog.documents import framework_document

    def lookup(key: str) -> FrameworkDocument | None:
        framework = session.scalar(select(Framework).where(Framework.key == key))
        return framework_document(session, framework) if framework is not None else None

    return lookup


def _import_profile(session: Session, data: bytes, name: str, options: ImportOptions) -> LoadReport:
    from assay.catalog.documents import framework_document
    from assay.catalog.oscal.profile import imported_catalog_hint, read_profile, resolve_baseline

    profile = read_profile(data, name)
    if options.framework is None:
        hint = imported_catalog_hint(profile)
        raise InvalidInput(
            f"{name}: a profile selects from an imported catalog ({hint}); name it with --framework"
        )
    framework = session.scalar(select(Framework).where(Framework.key == options.framework))
    if framework is None:
        raise InvalidInput(
            f"{name}: the profile's catalog '{options.framework}' is not imported "
            f"(the profile imports {imported_catalog_hint(profile)}); import the catalog first"
        )
    key = options.baseline or baseline_key(profile.title, framework.name)
    baseline = resolve_baseline(profile, framework_document(session, framework), baseline_id=key)
    return store_baseline(session, framework, baseline.id, baseline.name, baseline.controls)


def baseline_key(profile_title: str, framework_name: str) -> str:
    """A short key for a profile: its title after the words it begins with in common with its
    catalog's name, without version numbers ("NIST SP 800-53 Revision 5.1.1 LOW IMPACT BASELINE"
    -> "low")."""
    words = [w.strip(":,.()").lower() for w in profile_title.split()]
    name = [w.strip(":,.()").lower() for w in framework_name.split()]
    shared = 0
    while shared < min(len(words), len(name)) and words[shared] == name[shared]:
        shared += 1
    kept = [w for w in words[shared:] if w and not re.fullmatch(r"[\d.]+", w)]
    kept = [w for w in kept if w not in ("impact", "baseline", "profile")] or kept
    slug = re.sub(r"[^a-z0-9.]+", "-", " ".join(kept)).strip("-.")[:63].strip("-.")
    return slug or "baseline"


def _import_crosswalk(
    session: Session, data: bytes, name: str, kind: str, options: ImportOptions
) -> LoadReport:
    if not options.source_framework or not options.target_framework:
        raise InvalidInput(f"{name}: a {kind.upper()} crosswalk needs --from and --to frameworks")
    from assay.catalog import crosswalk

    ids = [
        _labels(session, key, name) for key in (options.source_framework, options.target_framework)
    ]
    reader = crosswalk.read_csv_mapping if kind == "csv" else crosswalk.read_olir_xlsx
    document = reader(
        data,
        name,
        source_framework=options.source_framework,
        target_framework=options.target_framework,
        key=options.mapping_key,
        source_ids=None if options.skip_unknown else ids[0],
        target_ids=None if options.skip_unknown else ids[1],
    )
    _refuse_builtin(session, document, name, ANOTHER_KEY)
    return store_mapping(
        session, document, origin=kind, digest=_digest(data), skip_unknown=options.skip_unknown
    )


def _labels(session: Session, key: str, name: str) -> set[str]:
    """Control ids of a loaded framework; a crosswalk file naming a missing one is refused."""
    framework = session.scalar(select(Framework).where(Framework.key == key))
    if framework is None:
        raise InvalidInput(f"{name}: framework '{key[:80]}' is not loaded; import it first")
    return set(session.scalars(select(Control.label).where(Control.framework_id == framework.id)))


def validate_file(data: bytes, name: str) -> FrameworkDocument | MappingDocument:
    """Check a YAML content file without loading it; ContentError lists every problem by line."""
    if detect(data, name) != "yaml":
        raise InvalidInput(f"{name}: `validate` checks Assay YAML content files")
    return parse_yaml(data, name)


def import_cis_workbook(session: Session, actor: Actor, data: bytes, name: str) -> LoadReport:
    """Add CIS's official titles and descriptions from a licensee's workbook to this database."""
    from assay.catalog.cis_workbook import read_cis_workbook

    _require_operator(actor)
    texts = read_cis_workbook(data, name)
    framework = get_framework(session, "cis-controls-v8.1")
    controls = {
        c.label: c
        for c in session.scalars(select(Control).where(Control.framework_id == framework.id))
    }
    unknown = [t.id for t in texts if t.id not in controls]
    missing = sorted(set(controls) - {t.id for t in texts})
    if unknown or missing:
        raise InvalidInput(
            f"{name}: does not match CIS Controls v8.1 (unknown ids {unknown[:5]}, "
            f"missing ids {missing[:5]})"
        )
    report = LoadReport(
        "framework", framework.key, framework.name, framework.version, total=len(texts)
    )
    for text in texts:
        control = controls[text.id]
        if (control.official_title, control.official_description) != (text.title, text.description):
            control.official_title, control.official_description = text.title, text.description
            report.changed.append(text.id)
    report.status = "updated" if report.changed else "unchanged"
    session.flush()
    if report.changed:
        _audit(session, actor, "catalog.import_cis", report, PurePath(name).name)
    return report


# --- browsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameworkSummary:
    framework: Framework
    counts: dict[str, int]  # controls per level name
    withdrawn: int
    baselines: list[str]


def list_frameworks(session: Session) -> list[FrameworkSummary]:
    frameworks = list(session.scalars(select(Framework).order_by(Framework.key)))
    per_level = session.execute(
        select(Control.framework_id, Control.level, func.count()).group_by(
            Control.framework_id, Control.level
        )
    ).all()
    withdrawn = dict(
        session.execute(
            select(Control.framework_id, func.count())
            .where(Control.withdrawn.is_(True))
            .group_by(Control.framework_id)
        ).all()
    )
    baselines: dict[int, list[str]] = {}
    for framework_id, key in session.execute(
        select(Baseline.framework_id, Baseline.key).order_by(Baseline.key)
    ).all():
        baselines.setdefault(framework_id, []).append(key)
    summaries = []
    for framework in frameworks:
        counts = {
            framework.levels[level - 1] if level <= len(framework.levels) else f"level-{level}": n
            for fid, level, n in per_level
            if fid == framework.id
        }
        summaries.append(
            FrameworkSummary(
                framework, counts, withdrawn.get(framework.id, 0), baselines.get(framework.id, [])
            )
        )
    return summaries


def _clean_text(value: str, what: str, limit: int = 200) -> str:
    """Text that goes into a query: no control characters (PostgreSQL refuses NUL), bounded."""
    if len(value) > limit:
        raise InvalidInput(f"{what} must have at most {limit} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(f"{what} must not contain control characters")
    return value


def get_framework(session: Session, key: str) -> Framework:
    key = _clean_text(key, "framework id", 63)
    framework = session.scalar(select(Framework).where(Framework.key == key))
    if framework is None:
        known = ", ".join(session.scalars(select(Framework.key).order_by(Framework.key))) or "none"
        raise NotFound(f"framework '{key[:80]}' not found (loaded: {known})")
    return framework


def framework_controls(
    session: Session,
    key: str,
    *,
    max_level: int | None = None,
    baseline: str | None = None,
    include_withdrawn: bool = True,
) -> tuple[Framework, list[Control]]:
    """Controls of a framework in document order, optionally cut at a level or to a baseline.

    With a baseline, the selected controls are shown with their ancestors for context.
    """
    framework = get_framework(session, key)
    query = select(Control).where(Control.framework_id == framework.id)
    if max_level is not None:
        if max_level < 1:
            raise InvalidInput("level must be 1 or more")
        query = query.where(Control.level <= max_level)
    if not include_withdrawn:
        query = query.where(Control.withdrawn.is_(False))
    controls = list(session.scalars(query.order_by(Control.position)))
    if baseline is not None:
        selected = set(_baseline_members(session, framework, baseline))
        keep = set(selected)
        by_id = {c.id: c for c in controls}
        for control_id in selected:
            parent = by_id.get(control_id)
            while parent is not None and parent.parent_id is not None:
                keep.add(parent.parent_id)
                parent = by_id.get(parent.parent_id)
        controls = [c for c in controls if c.id in keep]
    return framework, controls


def _baseline_members(session: Session, framework: Framework, key: str) -> list[int]:
    baseline = session.scalar(
        select(Baseline).where(Baseline.framework_id == framework.id, Baseline.key == key)
    )
    if baseline is None:
        known = ", ".join(
            session.scalars(select(Baseline.key).where(Baseline.framework_id == framework.id))
        )
        raise NotFound(
            f"baseline '{key[:80]}' not found in {framework.key} (has: {known or 'none'})"
        )
    return list(
        session.scalars(
            select(BaselineControl.control_id).where(BaselineControl.baseline_id == baseline.id)
        )
    )


def baseline_labels(session: Session, key: str, baseline: str) -> list[str]:
    framework = get_framework(session, key)
    members = _baseline_members(session, framework, baseline)
    query = select(Control.label).where(Control.id.in_(members)).order_by(Control.position)
    return list(session.scalars(query))


@dataclass(frozen=True)
class MappedControl:
    """A control at the other end of a mapping, with the relationship read from `control`."""

    framework: str
    label: str
    title: str
    relationship: str
    mapping_set: str


@dataclass
class ControlDetail:
    framework: Framework
    control: Control
    parent: Control | None
    children: list[Control]
    mapped_to: list[MappedControl] = field(default_factory=list)  # this control -> other
    mapped_from: list[MappedControl] = field(default_factory=list)  # other -> this control
    baselines: list[str] = field(default_factory=list)


def get_control(session: Session, key: str, label: str) -> ControlDetail:
    framework = get_framework(session, key)
    label = _clean_text(label, "control id", 64)
    control = session.scalar(
        select(Control).where(Control.framework_id == framework.id, Control.label == label.strip())
    )
    if control is None:
        raise NotFound(f"control '{label[:64]}' not found in {framework.key}")
    parent = session.get(Control, control.parent_id) if control.parent_id else None
    children = list(
        session.scalars(
            select(Control).where(Control.parent_id == control.id).order_by(Control.position)
        )
    )
    detail = ControlDetail(framework, control, parent, children)
    detail.mapped_to = _mapped(session, control.id, outgoing=True)
    detail.mapped_from = _mapped(session, control.id, outgoing=False)
    detail.baselines = list(
        session.scalars(
            select(Baseline.key)
            .join(BaselineControl, BaselineControl.baseline_id == Baseline.id)
            .where(BaselineControl.control_id == control.id)
            .order_by(Baseline.key)
        )
    )
    return detail


def _mapped(session: Session, control_id: int, *, outgoing: bool) -> list[MappedControl]:
    here, there = (
        (Mapping.source_id, Mapping.target_id)
        if outgoing
        else (Mapping.target_id, Mapping.source_id)
    )
    query = (
        select(Framework.key, Control.label, Control.title, Mapping.relationship, MappingSet.key)
        .join(Control, Control.id == there)
        .join(Framework, Framework.id == Control.framework_id)
        .join(MappingSet, MappingSet.id == Mapping.mapping_set_id)
        .where(here == control_id)
        .order_by(Framework.key, Control.position)
    )
    return [MappedControl(*row) for row in session.execute(query).all()]


def search(
    session: Session, text: str, *, framework: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[str, Control]], int]:
    """Controls whose id, title or description contains `text` (case-insensitive)."""
    needle = " ".join(_clean_text(text.replace("\t", " "), "search text", 10000).split())
    if not needle:
        raise InvalidInput("search text must not be empty")
    if len(needle) > 200:
        raise InvalidInput("search text must have at most 200 characters")
    pattern = (
        "%" + needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )
    fields = (Control.label, Control.title, Control.description, Control.official_title)
    query = (
        select(Framework.key, Control)
        .join(Framework, Framework.id == Control.framework_id)
        .where(or_(*(func.lower(f).like(pattern, escape="\\") for f in fields)))
    )
    if framework is not None:
        query = query.where(Framework.key == get_framework(session, framework).key)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Framework.key, Control.position).limit(limit).offset(offset)
    ).all()
    return [(key, control) for key, control in rows], total


def export_framework(session: Session, key: str, fmt: str = "oscal-json") -> str:
    from assay.catalog.documents import framework_document
    from assay.catalog.oscal.export import export_catalog

    if fmt != "oscal-json":
        raise InvalidInput(f"unknown export format '{fmt[:40]}' (use oscal-json)")
    return export_catalog(framework_document(session, get_framework(session, key)))
