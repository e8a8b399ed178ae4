"""OSCAL catalog (JSON or XML) -> `FrameworkDocument`.

Mapping of the OSCAL model:

* top-level groups (and groups nested in groups) become nodes whose kind is the group's class
  (`family`, `function`; default `group`); controls become nodes whose kind comes from their
  class (`SP800-53` -> `control`, `SP800-53-enhancement` -> `enhancement`, any other class
  lower-cased, e.g. `category`, `subcategory`; default `control`); nested controls become
  children. Top-level controls come before top-level groups, as in OSCAL's XML order.
* `id` (the official label) is the control's `label` prop (the one without a class when there
  are several, as in the 5.1.1 catalogs), unwrapped when it reads `Title (ID)` with ID equal to
  the OSCAL id (CSF's `GOVERN (GV)` -> `GV`); without a label prop, the OSCAL id upper-cased.
  `oscal_id` is the OSCAL id.
* `title` is the title with markup removed; `description` is the `statement` part (or, when
  there is none, an `overview` part) flattened to plain text: one line per item, led by its
  label (`a.`, `1.`, `(a)`), parameters rendered as `[Assignment: ...]` / `[Selection ...]`.
* `withdrawn` is `prop name="status" value="withdrawn"`. The CSF 2.0 catalog published by NIST
  (CPRT metadata `framework-identifier=CSF`, version `CSF_2*`) carries its withdrawn CSF 1.1
  items without that prop; for it, a subcategory without `example` parts and a category with
  an empty statement are marked withdrawn (91 items: 12 categories, 79 subcategories).
* properties: the `sort-id` prop as `sort-id`, and Assay's own props (see `_ns`).
* framework: `key` argument, else Assay's `framework-id` prop, else a slug of the title
  without the version (`inputs.derive_key`: a newer release gets the same key);
  `name`/`version` from the metadata; `publisher` is the first party with role `publisher` or
  `creator`; `source` is the file name; `notice` is `oscal-uuid: <catalog uuid>` (unless the
  catalog was exported by Assay with a notice of its own); `levels` names each depth by its most
  common kind.

Text longer than the schema allows is cut with an ellipsis (names 200, titles 500,
descriptions 20000 characters).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import ValidationError

from assay.catalog.oscal._document import OscalDocument, fail_at, load_oscal, where
from assay.catalog.oscal._markup import ParamRenderer, md_to_text, normalize_text, one_line
from assay.catalog.oscal._ns import FIELD_NS, PROPERTY_NS, decode_value, property_key
from assay.catalog.oscal.inputs import DEFAULT_MAX_BYTES, KEY_PATTERN, derive_key, fail, slug
from assay.catalog.schema import ControlEntry, FrameworkDocument

OSCAL_NS_URI = "http://csrc.nist.gov/ns/oscal"
CPRT_NS = "https://csrc.nist.gov/ns/cprt"
UUID_NOTICE = "oscal-uuid: "

_CLASS_KINDS = {"SP800-53": "control", "SP800-53-enhancement": "enhancement"}
_WRAPPED_LABEL = re.compile(r"^(.+?)\s+\(([^()]+)\)$")
_MAX_LABEL = 64
_MAX_OSCAL_ID = 64
_MAX_DEPTH = 32


def read_catalog(
    data: bytes, name: str, *, key: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> FrameworkDocument:
    """The framework of an OSCAL catalog file; `InvalidInput` naming `name` when it is not one."""
    if key is not None and not KEY_PATTERN.match(key):
        fail(name, None, f"invalid framework key '{key}' (lower-case letters, digits, . and -)")
    document = load_oscal(data, name, "catalog", max_bytes=max_bytes)
    return _CatalogReader(document, key).read()


def oscal_uuid(doc: FrameworkDocument) -> str | None:
    """The OSCAL uuid `read_catalog` noted in a framework's notice, if any."""
    if doc.notice.startswith(UUID_NOTICE):
        return doc.notice[len(UUID_NOTICE) :].split()[0]
    return None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _list(node: dict[str, Any], key: str, name: str, path: str) -> list[Any]:
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        fail_at(name, node, f"{path}.{key}", "must be a list")
    return value


def _obj(value: Any, name: str, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(name, path, "must be an object")
    return value


def _text(node: dict[str, Any], key: str, name: str, path: str, *, required: bool) -> str:
    value = node.get(key)
    if value is None or (isinstance(value, str) and not value.strip() and required):
        if required:
            fail_at(name, node, f"{path}.{key}", f"missing {key}")
        return ""
    if not isinstance(value, str):
        fail_at(name, node, f"{path}.{key}", "must be a string")
    return value


def _props(node: dict[str, Any], name: str, path: str) -> list[dict[str, Any]]:
    props = _list(node, "props", name, path)
    for i, prop in enumerate(props):
        prop_path = f"{path}.props[{i}]"
        _obj(prop, name, prop_path)
        if not isinstance(prop.get("name"), str) or not isinstance(prop.get("value"), str):
            fail_at(name, prop, prop_path, "a prop needs a name and a value")
    return props


def _is_oscal_ns(prop: dict[str, Any]) -> bool:
    return prop.get("ns") in (None, OSCAL_NS_URI)


def _decode(prop: dict[str, Any], name: str, path: str) -> Any:
    try:
        return decode_value(prop["value"], prop.get("class"))
    except ValueError:
        fail_at(name, prop, path, f"prop {prop['name']} holds invalid JSON")


class _CatalogReader:
    def __init__(self, document: OscalDocument, key: str | None) -> None:
        self.doc = document
        self.name = document.name
        self.key = key
        self.params: dict[str, dict[str, Any]] = {}
        self.renderer = ParamRenderer(self.params)
        self.seen_ids: dict[str, str] = {}
        self.seen_labels: dict[str, str] = {}
        self.kinds_by_depth: list[Counter[str]] = []
        self.csf2 = False
        self.exact = False

    # -- framework ---------------------------------------------------------------------------

    def read(self) -> FrameworkDocument:
        root, name = self.doc.root, self.name
        meta = _obj(root.get("metadata"), name, "catalog.metadata")
        title = one_line(md_to_text(_text(meta, "title", name, "catalog.metadata", required=True)))
        version = _text(meta, "version", name, "catalog.metadata", required=True).strip()
        if len(version) > 40:
            fail_at(name, meta, "catalog.metadata.version", "version longer than 40 characters")
        fields = self._assay_fields(meta)
        self.exact = "framework-id" in fields
        if isinstance(fields.get("name"), str):
            title = fields["name"]
        elif self.exact:
            title = md_to_text(_text(meta, "title", name, "catalog.metadata", required=True))
        self.csf2 = self._is_csf2(meta)
        self._collect_params(root, "catalog")

        controls = [
            self._node(c, f"catalog.controls[{i}]", 0, group=False)
            for i, c in enumerate(_list(root, "controls", name, "catalog"))
        ]
        controls += [
            self._node(g, f"catalog.groups[{i}]", 0, group=True)
            for i, g in enumerate(_list(root, "groups", name, "catalog"))
        ]
        if not controls:
            fail(name, "catalog", "the catalog has no groups or controls")

        levels = [counter.most_common(1)[0][0] for counter in self.kinds_by_depth]
        stored_levels = fields.get("levels")
        if (
            isinstance(stored_levels, list)
            and len(stored_levels) >= len(levels)
            and all(isinstance(v, str) and KEY_PATTERN.match(v) for v in stored_levels)
        ):
            levels = stored_levels
        key = self.key or fields.get("framework-id") or derive_key(title, version)
        uuid = root.get("uuid")
        notice = fields.get("notice")
        if not isinstance(notice, str):
            notice = f"{UUID_NOTICE}{uuid}" if isinstance(uuid, str) and not self.exact else ""
        content_version = fields.get("content-version")
        try:
            return FrameworkDocument(
                id=key if isinstance(key, str) else derive_key(title, version),
                name=_cut(title, 200),
                version=version,
                content_version=content_version if isinstance(content_version, str) else "1",
                publisher=_cut(
                    fields["publisher"]
                    if isinstance(fields.get("publisher"), str)
                    else self._publisher(meta),
                    200,
                ),
                source=_cut(self.name, 500),
                notice=_cut(notice, 20000),
                levels=levels,
                controls=controls,
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            place = ".".join(str(p) for p in error["loc"])
            fail(self.name, None, f"{place}: {error['msg']}")

    def _assay_fields(self, meta: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for i, prop in enumerate(_props(meta, self.name, "catalog.metadata")):
            if prop.get("ns") == FIELD_NS:
                fields[prop["name"]] = _decode(prop, self.name, f"catalog.metadata.props[{i}]")
        return fields

    @staticmethod
    def _is_csf2(meta: dict[str, Any]) -> bool:
        props = {
            p.get("name"): p.get("value")
            for p in meta.get("props") or []
            if isinstance(p, dict) and p.get("ns") == CPRT_NS
        }
        version = props.get("framework-version-identifier")
        return (
            props.get("framework-identifier") == "CSF"
            and isinstance(version, str)
            and version.startswith("CSF_2")
        )

    def _publisher(self, meta: dict[str, Any]) -> str:
        parties = {
            p.get("uuid"): p.get("name")
            for p in meta.get("parties") or []
            if isinstance(p, dict) and isinstance(p.get("name"), str)
        }
        responsible = [r for r in meta.get("responsible-parties") or [] if isinstance(r, dict)]
        for role in ("publisher", "creator"):
            for entry in responsible:
                if entry.get("role-id") != role:
                    continue
                for party_uuid in entry.get("party-uuids") or []:
                    party_name = parties.get(party_uuid)
                    if isinstance(party_name, str) and party_name.strip():
                        return one_line(party_name)
        return ""

    def _collect_params(self, node: dict[str, Any], path: str, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            fail_at(self.name, node, path, f"controls nested more than {_MAX_DEPTH} levels deep")
        for i, param in enumerate(_list(node, "params", self.name, path)):
            if isinstance(param, dict) and isinstance(param.get("id"), str):
                self.params[param["id"]] = param
            else:
                fail_at(self.name, param, f"{path}.params[{i}]", "a parameter needs an id")
        for child_key in ("groups", "controls"):
            for i, child in enumerate(_list(node, child_key, self.name, path)):
                child_path = f"{path}.{child_key}[{i}]"
                self._collect_params(_obj(child, self.name, child_path), child_path, depth + 1)

    # -- nodes -------------------------------------------------------------------------------

    def _node(self, node: Any, path: str, depth: int, *, group: bool) -> ControlEntry:
        name = self.name
        node = _obj(node, name, path)
        here = where(node, path)
        oscal_id = node.get("id")
        if oscal_id is not None and (not isinstance(oscal_id, str) or not oscal_id.strip()):
            fail(name, where(node, f"{path}.id"), "id must be a non-empty string")
        if oscal_id is None and not group:
            fail(name, where(node, f"{path}.id"), "control has no id")
        props = _props(node, name, path)
        fields = {
            p["name"]: _decode(p, name, f"{path}.props[{i}]")
            for i, p in enumerate(props)
            if p.get("ns") == FIELD_NS
        }

        label = self._label(props, oscal_id)
        if label is None:
            title_value = node.get("title")
            if not isinstance(title_value, str):
                fail(name, here, "group has neither an id nor a label")
            label = one_line(title_value)
        if not label or len(label) > _MAX_LABEL:
            fail(name, here, f"label '{label[:80]}' must be 1 to {_MAX_LABEL} characters")
        if isinstance(oscal_id, str):
            if oscal_id in self.seen_ids:
                fail(name, here, f"duplicate id {oscal_id} (first at {self.seen_ids[oscal_id]})")
            self.seen_ids[oscal_id] = here
        if "oscal-id" in fields:  # the id Assay had before export, when it was not written as is
            stored = fields["oscal-id"]
            oscal_id = stored if isinstance(stored, str) or stored is None else oscal_id
        if isinstance(oscal_id, str) and len(oscal_id) > _MAX_OSCAL_ID:
            fail(name, here, f"id '{oscal_id[:80]}…' is longer than {_MAX_OSCAL_ID}")
        if label in self.seen_labels:
            fail(
                name, here, f"duplicate control label {label} (first at {self.seen_labels[label]})"
            )
        self.seen_labels[label] = here

        title = fields.get("title")
        if not isinstance(title, str):
            raw_title = _text(node, "title", name, path, required=True)
            if self.exact:
                title = md_to_text(raw_title)
            else:
                title = one_line(self.renderer.render(raw_title))
        class_ = node.get("class")
        kind = fields.get("kind")
        if not isinstance(kind, str) or not KEY_PATTERN.match(kind):
            kind = self._kind(class_ if isinstance(class_, str) else None, group)

        parts = [p for p in _list(node, "parts", name, path) if isinstance(p, dict)]
        description = self._description(parts)
        withdrawn = any(
            p["name"] == "status" and p["value"].strip().lower() == "withdrawn" and _is_oscal_ns(p)
            for p in props
        )
        if self.csf2 and not withdrawn:
            if class_ == "subcategory":
                withdrawn = not any(p.get("name") == "example" for p in parts)
            elif class_ == "category":
                withdrawn = not description

        properties: dict[str, Any] = {}
        for i, prop in enumerate(props):
            if prop["name"] == "sort-id" and _is_oscal_ns(prop):
                properties["sort-id"] = prop["value"]
            elif prop.get("ns") == PROPERTY_NS:
                key = property_key(prop["name"])
                if not KEY_PATTERN.match(key):
                    fail(name, where(prop, f"{path}.props[{i}]"), f"invalid property name {key}")
                properties[key] = _decode(prop, name, f"{path}.props[{i}]")

        while len(self.kinds_by_depth) <= depth:
            self.kinds_by_depth.append(Counter())
        self.kinds_by_depth[depth][kind] += 1

        children = [
            self._node(c, f"{path}.controls[{i}]", depth + 1, group=False)
            for i, c in enumerate(_list(node, "controls", name, path))
        ]
        if group:
            children += [
                self._node(g, f"{path}.groups[{i}]", depth + 1, group=True)
                for i, g in enumerate(_list(node, "groups", name, path))
            ]
        try:
            return ControlEntry(
                id=label,
                oscal_id=oscal_id,
                kind=kind,
                title=_cut(title, 500),
                description=_cut(description, 20000),
                withdrawn=withdrawn,
                properties=properties,
                controls=children,
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            fail(name, here, f"{field}: {error['msg']}")

    @staticmethod
    def _label(props: list[dict[str, Any]], oscal_id: str | None) -> str | None:
        labels = [p for p in props if p["name"] == "label" and _is_oscal_ns(p)]
        if not labels:
            return oscal_id.strip().upper() if oscal_id else None
        plain = [p for p in labels if not p.get("class")]
        label = one_line((plain or labels)[0]["value"])
        wrapped = _WRAPPED_LABEL.match(label)
        if wrapped and oscal_id and wrapped.group(2).strip().lower() == oscal_id.lower():
            return wrapped.group(2).strip()
        return label

    @staticmethod
    def _kind(class_: str | None, group: bool) -> str:
        if class_:
            if class_ in _CLASS_KINDS:
                return _CLASS_KINDS[class_]
            kind = slug(class_)[:63]
            if kind and KEY_PATTERN.match(kind):
                return kind
        return "group" if group else "control"

    def _description(self, parts: list[dict[str, Any]]) -> str:
        if self.exact:
            statements = [p for p in parts if p.get("name") == "statement"]
            if len(statements) == 1 and not statements[0].get("parts"):
                prose = statements[0].get("prose")
                return md_to_text(prose) if isinstance(prose, str) else ""
        for part_name in ("statement", "overview"):
            chosen = [p for p in parts if p.get("name") == part_name and _is_oscal_ns(p)]
            if chosen:
                lines: list[str] = []
                for part in chosen:
                    self._flatten(part, lines)
                text = normalize_text("\n".join(lines))
                if text or part_name == "statement":
                    return text
        return ""

    def _flatten(self, part: dict[str, Any], lines: list[str]) -> None:
        prose = part.get("prose")
        text = self.renderer.render(prose) if isinstance(prose, str) else ""
        label = ""
        for prop in part.get("props") or []:
            if isinstance(prop, dict) and prop.get("name") == "label" and not prop.get("class"):
                label = one_line(str(prop.get("value", "")))
                break
        line = f"{label} {text.strip()}" if label else text
        if line.strip():
            lines.append(line)
        for sub in part.get("parts") or []:
            if isinstance(sub, dict):
                self._flatten(sub, lines)
