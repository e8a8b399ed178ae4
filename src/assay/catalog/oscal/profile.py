"""OSCAL profiles (JSON or XML): read the control selection, resolve it to a baseline.

Only the selection is read (`imports` with `include-all`, `include-controls`,
`exclude-controls`, each with `with-ids`, `matching` patterns and `with-child-controls`);
`merge` and `modify` do not change which controls a profile selects and are ignored.
Resolution follows OSCAL: the included controls (plus, with `with-child-controls: yes`, all
controls below them), minus the excluded ones, in catalog order. Group nodes are never
selected; a top-level node whose kind is not `control` is a group (the rule `export` uses).
A profile importing another profile is not resolved here: the caller resolves the chain.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from typing import Any

from assay.catalog.oscal._document import fail_at, load_oscal, where, where_item
from assay.catalog.oscal._markup import md_to_text, one_line
from assay.catalog.oscal.inputs import DEFAULT_MAX_BYTES, KEY_PATTERN, derive_key, fail, slug
from assay.catalog.schema import BaselineEntry, ControlEntry, FrameworkDocument


@dataclass(frozen=True)
class Selection:
    """One `include-controls` / `exclude-controls` entry (or `include-all`)."""

    with_ids: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    id_places: tuple[str, ...] = ()
    """Where each with-id is in the file (`line 12`, `profile.imports[0]...with-ids[3]`)."""
    with_child_controls: bool = False
    everything: bool = False


@dataclass(frozen=True)
class ProfileImport:
    href: str
    include: tuple[Selection, ...]
    exclude: tuple[Selection, ...]
    resource_title: str = ""
    resource_hrefs: tuple[str, ...] = ()
    """For `#uuid` hrefs: the back-matter resource's title and rlink hrefs."""


@dataclass(frozen=True)
class Profile:
    name: str
    """The file the profile was read from."""
    uuid: str
    title: str
    version: str
    imports: tuple[ProfileImport, ...] = field(default_factory=tuple)


def read_profile(data: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Profile:
    """The control selection of an OSCAL profile file; `InvalidInput` naming `name` otherwise."""
    document = load_oscal(data, name, "profile", max_bytes=max_bytes)
    root = document.root
    meta = root.get("metadata")
    if not isinstance(meta, dict):
        fail(name, "profile.metadata", "missing metadata")
    title = meta.get("title")
    version = meta.get("version")
    if not isinstance(title, str) or not title.strip():
        fail_at(name, meta, "profile.metadata.title", "missing title")
    resources = _resources(root, name)
    raw_imports = root.get("imports")
    if not isinstance(raw_imports, list) or not raw_imports:
        fail_at(name, root, "profile.imports", "the profile imports nothing")
    imports = []
    for i, imp in enumerate(raw_imports):
        path = f"profile.imports[{i}]"
        if not isinstance(imp, dict) or not isinstance(imp.get("href"), str):
            fail_at(name, imp, path, "an import needs an href")
        href = imp["href"].strip()
        include = _selections(imp, "include-controls", name, path)
        if "include-all" in imp:
            include = (Selection(everything=True, with_child_controls=True), *include)
        exclude = _selections(imp, "exclude-controls", name, path)
        title_hint: str = ""
        hrefs: tuple[str, ...] = ()
        if href.startswith("#"):
            resource = resources.get(href[1:])
            if resource is None:
                fail_at(name, imp, f"{path}.href", f"{href} names no back-matter resource")
            title_hint, hrefs = resource
        imports.append(ProfileImport(href, include, exclude, title_hint, hrefs))
    return Profile(
        name=name,
        uuid=str(root.get("uuid", "")),
        title=one_line(md_to_text(title)),
        version=one_line(version) if isinstance(version, str) else "",
        imports=tuple(imports),
    )


def imported_catalog_hint(profile: Profile) -> str:
    """What the profile imports, for a message such as 'load <hint> first'.

    The file name of the imported catalog (the JSON rlink when there are several) with the
    resource's title, e.g. `NIST_SP-800-53_rev5_catalog.json (NIST Special Publication ...)`.
    """
    hints = []
    for imp in profile.imports:
        files = [posixpath.basename(h) for h in imp.resource_hrefs if h]
        json_files = [f for f in files if f.endswith(".json")]
        file = (json_files or files or [""])[0]
        if not imp.href.startswith("#"):
            file = posixpath.basename(imp.href) or imp.href
        if file and imp.resource_title:
            hints.append(f"{file} ({imp.resource_title})")
        else:
            hints.append(file or imp.resource_title or imp.href)
    return "; ".join(dict.fromkeys(hints))


def resolve_baseline(
    profile: Profile, catalog: FrameworkDocument, *, baseline_id: str | None = None
) -> BaselineEntry:
    """The controls `profile` selects from `catalog`, by official label, in catalog order.

    Ids of the profile are matched against `ControlEntry.oscal_id`. Every import is resolved
    against `catalog`. An id the catalog does not have is an `InvalidInput` naming the place of
    the first one and listing the first few.
    """
    by_id: dict[str, ControlEntry] = {}
    order: list[ControlEntry] = []
    selectable: set[str] = set()

    def visit(entries: list[ControlEntry], depth: int) -> None:
        for entry in entries:
            order.append(entry)
            if entry.oscal_id:
                by_id[entry.oscal_id] = entry
            if depth > 0 or entry.kind == "control":
                selectable.add(entry.id)
            visit(entry.controls, depth + 1)

    visit(catalog.controls, 0)

    selected: set[str] = set()
    unknown: list[tuple[str, str]] = []  # (id, place)
    for imp in profile.imports:
        included = _apply(imp.include, by_id, order, selectable, unknown)
        excluded = _apply(imp.exclude, by_id, order, selectable, unknown)
        selected |= included - excluded
    if unknown:
        first = list(dict.fromkeys(control_id for control_id, _ in unknown))
        shown = ", ".join(first[:5]) + (f" and {len(first) - 5} more" if len(first) > 5 else "")
        fail(
            profile.name,
            unknown[0][1] or None,
            f"{len(first)} control id(s) selected by the profile are not in catalog "
            f"'{catalog.name}' {catalog.version}: {shown}",
        )
    key = baseline_id or derive_key(profile.title)
    if not KEY_PATTERN.match(key):
        fail(profile.name, None, f"invalid baseline id '{key}'")
    return BaselineEntry(
        id=key,
        name=profile.title[:200] or slug(profile.name),
        controls=[e.id for e in order if e.id in selected],
    )


def _apply(
    selections: tuple[Selection, ...],
    by_id: dict[str, ControlEntry],
    order: list[ControlEntry],
    selectable: set[str],
    unknown: list[tuple[str, str]],
) -> set[str]:
    result: set[str] = set()

    def add(entry: ControlEntry, children: bool) -> None:
        if entry.id in selectable:
            result.add(entry.id)
        if children:
            for child in entry.controls:
                add(child, True)

    for selection in selections:
        if selection.everything:
            result |= {e.id for e in order if e.id in selectable}
            continue
        places = selection.id_places or ("",) * len(selection.with_ids)
        for control_id, place in zip(selection.with_ids, places, strict=True):
            entry = by_id.get(control_id)
            if entry is None:
                unknown.append((control_id, place))
            else:
                add(entry, selection.with_child_controls)
        for pattern in selection.patterns:
            for oscal_id, entry in by_id.items():
                if fnmatch.fnmatchcase(oscal_id, pattern):
                    add(entry, selection.with_child_controls)
    return result


def _selections(imp: dict[str, Any], key: str, name: str, path: str) -> tuple[Selection, ...]:
    raw = imp.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        fail_at(name, imp, f"{path}.{key}", "must be a list")
    result = []
    for i, entry in enumerate(raw):
        entry_path = f"{path}.{key}[{i}]"
        if not isinstance(entry, dict):
            fail(name, entry_path, "must be an object")
        ids = entry.get("with-ids") or []
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            fail(name, where(entry, f"{entry_path}.with-ids"), "must be a list of ids")
        patterns = [
            m["pattern"]
            for m in entry.get("matching") or []
            if isinstance(m, dict) and isinstance(m.get("pattern"), str)
        ]
        result.append(
            Selection(
                with_ids=tuple(x.strip() for x in ids),
                patterns=tuple(patterns),
                id_places=tuple(
                    where_item(entry, "with-ids", k, entry_path) for k in range(len(ids))
                ),
                with_child_controls=entry.get("with-child-controls") == "yes",
            )
        )
    return tuple(result)


def _resources(root: dict[str, Any], name: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    back = root.get("back-matter")
    resources: dict[str, tuple[str, tuple[str, ...]]] = {}
    if not isinstance(back, dict):
        return resources
    for resource in back.get("resources") or []:
        if not isinstance(resource, dict) or not isinstance(resource.get("uuid"), str):
            continue
        title = resource.get("title") or resource.get("description") or ""
        hrefs = tuple(
            r["href"]
            for r in resource.get("rlinks") or []
            if isinstance(r, dict) and isinstance(r.get("href"), str)
        )
        resources[resource["uuid"]] = (one_line(md_to_text(str(title))), hrefs)
    return resources
