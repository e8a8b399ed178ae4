"""Loading check files: YAML validated by `schema.py`, references checked against the catalogs.

Every problem names its file and line. CIS v8.1 safeguards and CSF 2.0 subcategories must
exist in the built-in catalog files (read directly, no database); SP 800-53 controls are checked
by their pattern only. The built-in checks are loaded once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assay.audit.schema import Check, CheckFile
from assay.catalog.yamlfile import ContentError, Problem, compose, line_of, validate

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
FRAMEWORKS_DIR = Path(__file__).resolve().parents[1] / "catalog" / "content" / "frameworks"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class KnownControls:
    """Control ids that check references may use."""

    cis: frozenset[str]
    csf: frozenset[str]


def _ids(controls: Iterable[Any], kind: str) -> Iterator[str]:
    for control in controls:
        if not isinstance(control, dict):
            continue
        if control.get("kind") == kind:
            yield str(control["id"])
        yield from _ids(control.get("controls") or (), kind)


@functools.cache
def known_controls() -> KnownControls:
    """CIS v8.1 safeguards and CSF 2.0 subcategories of the built-in catalogs."""

    def ids(name: str, kind: str) -> frozenset[str]:
        data = yaml.load((FRAMEWORKS_DIR / name).read_bytes(), Loader=_Loader)  # noqa: S506 - safe loader
        return frozenset(_ids(data.get("controls") or (), kind))

    return KnownControls(
        cis=ids("cis-controls-v8.1.yaml", "safeguard"),
        csf=ids("nist-csf-2.0.yaml", "subcategory"),
    )


def parse_check_file(data: bytes, name: str, known: KnownControls | None = None) -> CheckFile:
    """Validate one check file; raise `ContentError` naming the line of every problem."""
    value, node = compose(data, name)
    document = validate(value, node, name, CheckFile)
    known = known or known_controls()
    problems: list[Problem] = []
    for index, check in enumerate(document.checks):
        for field, valid in (("cis", known.cis), ("csf", known.csf)):
            for position, ref in enumerate(getattr(check.references, field)):
                if ref not in valid:
                    where = ("checks", index, "references", field, position)
                    catalog = "CIS Controls v8.1" if field == "cis" else "NIST CSF 2.0"
                    message = f"{ref} is not in the {catalog} catalog"
                    problems.append(
                        Problem(line_of(node, where), ".".join(map(str, where)), message)
                    )
    if problems:
        raise ContentError(name, problems)
    return document


def effective(document: CheckFile) -> list[Check]:
    """The file's checks with the file-level `applies_if` added to each."""
    if not document.applies_if:
        return list(document.checks)
    return [
        check.model_copy(update={"applies_if": [*document.applies_if, *check.applies_if]})
        for check in document.checks
    ]


def load_checks(directory: Path) -> tuple[Check, ...]:
    """Every check of every `*.yaml` file of a directory, in file then document order.

    The file's name must be its area; ids must be unique across files."""
    checks: list[Check] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        document = parse_check_file(path.read_bytes(), path.name)
        if document.area != path.stem:
            message = f"area '{document.area}' does not match the file name"
            raise ContentError(path.name, [Problem(None, "area", message)])
        for check in effective(document):
            if check.id in seen:
                message = f"{check.id} is already defined in {seen[check.id]}"
                raise ContentError(path.name, [Problem(None, "checks", message)])
            seen[check.id] = path.name
            checks.append(check)
    return tuple(checks)


@functools.cache
def builtin_checks() -> tuple[Check, ...]:
    """The checks shipped with Assay (loaded once per process)."""
    return load_checks(CHECKS_DIR)


def select(
    checks: Iterable[Check], *, patterns: Iterable[str] = (), areas: Iterable[str] = ()
) -> list[Check]:
    """Checks whose id matches any glob of `patterns` and whose area is in `areas` (each filter
    only when given)."""
    import fnmatch

    wanted_areas = set(areas)
    globs = list(patterns)
    return [
        c
        for c in checks
        if (not wanted_areas or c.area in wanted_areas)
        and (not globs or any(fnmatch.fnmatchcase(c.id, g) for g in globs))
    ]
