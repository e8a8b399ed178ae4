"""OSCAL mapping-collection (OSCAL 1.2 mapping model, JSON; XML read the same way) ->
`MappingDocument`.

Every `map` of every `mapping` yields one entry per (source, target) pair of its `sources`
and `targets`. Relationships: `equivalent-to` and `equal-to` -> equivalent, `subset-of`,
`superset-of`, `intersects-with` as they are, `no-relationship` maps are skipped (they state
that the two do not relate), anything else -> related. The map's `remarks` become the note.

Ids (`id-ref`) are OSCAL ids. When `source_framework` / `target_framework` is given as a
`FrameworkDocument` (or named by the mapping's resource and found by the `frameworks` lookup),
each id-ref is translated to the official label (`ac-2.1` -> `AC-2(1)`; an id-ref that already
is a label is accepted; a `statement` id-ref such as `ac-2_smt.a` maps to its control) and an
unknown id is an error naming its place (with `keep_unknown`, it is kept as it is, for the
caller to skip); given as a key, id-refs are kept as they are.
Pairs that occur twice (several statements of one control) are merged: one relationship is
kept when they agree, `related` when they differ.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from assay.catalog.oscal._document import fail_at, load_oscal, where
from assay.catalog.oscal._markup import md_to_text, normalize_text, one_line
from assay.catalog.oscal._ns import FIELD_NS
from assay.catalog.oscal.inputs import DEFAULT_MAX_BYTES, KEY_PATTERN, derive_key, fail
from assay.catalog.schema import (
    FrameworkDocument,
    MappingDocument,
    MappingEntry,
    Relationship,
    walk,
)

OSCAL_RELATIONSHIPS = {
    "equivalent-to": Relationship.EQUIVALENT,
    "equal-to": Relationship.EQUIVALENT,
    "subset-of": Relationship.SUBSET_OF,
    "superset-of": Relationship.SUPERSET_OF,
    "intersects-with": Relationship.INTERSECTS_WITH,
}
NO_RELATIONSHIP = "no-relationship"


class _Resolver:
    """OSCAL id-ref -> official label of one framework (or the id-ref itself)."""

    def __init__(self, framework: FrameworkDocument | str, *, keep_unknown: bool = False) -> None:
        self.keep_unknown = keep_unknown
        self.labels: dict[str, str] | None = None
        if isinstance(framework, FrameworkDocument):
            self.key = framework.id
            self.title = framework.name
            self.labels = {}
            for _, entry in walk(framework.controls):
                self.labels[entry.id] = entry.id
            for _, entry in walk(framework.controls):
                if entry.oscal_id:
                    self.labels[entry.oscal_id] = entry.id
        else:
            self.key = framework
            self.title = framework

    def label(self, id_ref: str, kind: str) -> str | None:
        if self.labels is None:
            return id_ref
        found = self.labels.get(id_ref)
        if found is None and kind == "statement":
            control = id_ref.split("_smt", 1)[0].split("_", 1)[0]
            found = self.labels.get(control)
        return id_ref if found is None and self.keep_unknown else found


def read_mapping(
    data: bytes,
    name: str,
    *,
    source_framework: FrameworkDocument | str | None = None,
    target_framework: FrameworkDocument | str | None = None,
    key: str | None = None,
    frameworks: Callable[[str], FrameworkDocument | None] | None = None,
    keep_unknown: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MappingDocument:
    """The crosswalk of an OSCAL mapping-collection file; `InvalidInput` naming `name` otherwise.

    A framework not given is named after the mapping's `source-resource` / `target-resource`:
    its Assay `framework-id` prop, else a key made from the file name of its href; the
    `frameworks` lookup then gives its document when it is known (else id-refs are kept as
    they are). The key of the crosswalk is `key`, else a slug of the title (without version).
    """
    if key is not None and not KEY_PATTERN.match(key):
        fail(name, None, f"invalid mapping key '{key}'")
    document = load_oscal(data, name, "mapping-collection", max_bytes=max_bytes)
    root = document.root
    base = "mapping-collection"
    meta = root.get("metadata")
    if not isinstance(meta, dict):
        fail(name, f"{base}.metadata", "missing metadata")
    title = meta.get("title")
    version = meta.get("version")
    if not isinstance(title, str) or not title.strip():
        fail_at(name, meta, f"{base}.metadata.title", "missing title")
    if not isinstance(version, str) or not version.strip():
        fail_at(name, meta, f"{base}.metadata.version", "missing version")
    title = one_line(md_to_text(title))
    version = version.strip()
    if len(version) > 40:
        fail_at(name, meta, f"{base}.metadata.version", "version longer than 40 characters")

    mappings = root.get("mappings")
    if isinstance(mappings, dict):
        mappings = [mappings]
    if not isinstance(mappings, list) or not mappings:
        fail_at(name, root, f"{base}.mappings", "no mappings")
    ends = []
    for given, which in (
        (source_framework, "source-resource"),
        (target_framework, "target-resource"),
    ):
        found = given or _resource_key(root, which, name)
        if isinstance(found, str) and frameworks is not None and KEY_PATTERN.match(found):
            found = frameworks(found) or found
        ends.append(_Resolver(found, keep_unknown=keep_unknown))
    source, target = ends
    for resolver in (source, target):
        if not KEY_PATTERN.match(resolver.key):
            fail(name, None, f"invalid framework key '{resolver.key}'")

    merged: dict[tuple[str, str], tuple[Relationship, list[str]]] = {}
    for i, mapping in enumerate(mappings):
        mapping_path = f"{base}.mappings[{i}]"
        if not isinstance(mapping, dict):
            fail(name, mapping_path, "must be an object")
        maps = mapping.get("maps")
        if not isinstance(maps, list) or not maps:
            fail_at(name, mapping, f"{mapping_path}.maps", "no maps")
        for j, entry in enumerate(maps):
            _read_map(entry, f"{mapping_path}.maps[{j}]", name, source, target, merged)
    if not merged:
        fail(name, f"{base}.mappings", "no relationships (every map is no-relationship)")

    entries = [
        MappingEntry(
            source=pair[0],
            target=pair[1],
            relationship=relationship,
            note=_cut("; ".join(dict.fromkeys(n for n in notes if n)), 1000),
        )
        for pair, (relationship, notes) in merged.items()
    ]
    try:
        return MappingDocument(
            id=key or derive_key(title, version),
            name=_cut(title, 200),
            version=version,
            source_framework=source.key,
            target_framework=target.key,
            notice=f"oscal-uuid: {root['uuid']}" if isinstance(root.get("uuid"), str) else "",
            mappings=entries,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        place = ".".join(str(p) for p in error["loc"])
        fail(name, None, f"{place}: {error['msg']}")


def _resource_key(root: dict[str, Any], which: str, name: str) -> str:
    """Framework key named by the `which` resource of every mapping (they must agree)."""
    keys: dict[str, str] = {}
    mappings = root.get("mappings")
    for i, mapping in enumerate(mappings if isinstance(mappings, list) else [mappings]):
        path = f"mapping-collection.mappings[{i}].{which}"
        resource = mapping.get(which) if isinstance(mapping, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("href"), str):
            fail(name, where(mapping, path), f"missing {which} href")
        found = [
            p["value"]
            for p in resource.get("props") or []
            if isinstance(p, dict) and p.get("ns") == FIELD_NS and p.get("name") == "framework-id"
        ]
        href = resource["href"].strip()
        stem = posixpath.basename(href.split("#", 1)[0]).rsplit(".", 1)[0] or href
        keys[found[0] if found and isinstance(found[0], str) else derive_key(stem)] = path
    if len(keys) != 1:
        fail(name, None, f"the mappings name different {which}s ({', '.join(sorted(keys))})")
    return next(iter(keys))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _read_map(
    entry: Any,
    path: str,
    name: str,
    source: _Resolver,
    target: _Resolver,
    merged: dict[tuple[str, str], tuple[Relationship, list[str]]],
) -> None:
    if not isinstance(entry, dict):
        fail(name, path, "must be an object")
    raw = entry.get("relationship")
    if isinstance(raw, dict):  # XML field with flags
        raw = raw.get("value") or raw.get("text")
    if not isinstance(raw, str) or not raw.strip():
        fail_at(name, entry, f"{path}.relationship", "missing relationship")
    token = raw.strip().lower()
    if token == NO_RELATIONSHIP:
        return
    relationship = OSCAL_RELATIONSHIPS.get(token, Relationship.RELATED)
    remarks = entry.get("remarks")
    note = (
        normalize_text(md_to_text(remarks)).replace("\n", " ") if isinstance(remarks, str) else ""
    )
    sources = _items(entry, "sources", path, name, source)
    targets = _items(entry, "targets", path, name, target)
    for s in sources:
        for t in targets:
            notes = [note]
            if s[1]:
                notes.append(f"source {s[1]}")
            if t[1]:
                notes.append(f"target {t[1]}")
            pair = (s[0], t[0])
            if pair in merged:
                previous, previous_notes = merged[pair]
                kept = previous if previous == relationship else Relationship.RELATED
                merged[pair] = (kept, previous_notes + notes)
            else:
                merged[pair] = (relationship, notes)


def _items(
    entry: dict[str, Any], key: str, path: str, name: str, resolver: _Resolver
) -> list[tuple[str, str]]:
    """(label, statement id or '') of each source or target of a map."""
    items = entry.get(key)
    if not isinstance(items, list) or not items:
        fail_at(name, entry, f"{path}.{key}", f"no {key}")
    result = []
    for k, item in enumerate(items):
        item_path = f"{path}.{key}[{k}]"
        if not isinstance(item, dict) or not isinstance(item.get("id-ref"), str):
            fail(name, where(item, item_path), "needs an id-ref")
        id_ref = item["id-ref"].strip()
        kind = str(item.get("type", "control"))
        label = resolver.label(id_ref, kind)
        if label is None:
            fail(
                name,
                where(item, f"{item_path}.id-ref"),
                f"{id_ref} is not a control of {resolver.title}",
            )
        if not 1 <= len(label) <= 64:
            fail(name, where(item, f"{item_path}.id-ref"), f"id {label[:80]} is not 1-64 chars")
        result.append((label, id_ref if kind == "statement" else ""))
    return result
