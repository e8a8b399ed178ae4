"""`FrameworkDocument` -> OSCAL catalog JSON, built with compliance-trestle's OSCAL models.

Structure: top-level nodes whose kind is not `control` (families, CSF functions) become
groups and everything below them controls; when every top-level node is a `control` (CIS
Controls) they become top-level controls. (When the two are mixed, all top-level nodes become
groups so that their order is kept.) Each node is written with:

* `id` = its `oscal_id` when that is a valid, unused OSCAL token, else one derived from the
  label (`AC-2(1)` -> `ac-2.1`, `4.1` -> `safeguard-4.1`);
* `class` = its kind, `title` = its title, prop `label` = its official id;
* prop `status=withdrawn` when withdrawn; a `statement` part holding the description;
* prop `sort-id` from the `sort-id` property; other properties as props in `PROPERTY_NS`.

What the OSCAL form cannot hold natively goes into props of `FIELD_NS` (see `_ns`): on the
metadata the framework key, content version, level names and notice; on a control an
`oscal-id` that differs from the written id (none, invalid or duplicate), a title that is not
one non-empty line, a kind that is not an OSCAL token.

Round trip: `read_catalog(export_catalog(doc))` equals `doc` in every field except `source`
(which becomes the name of the file read) and `baselines` (not written: a baseline is an OSCAL
profile, not part of a catalog). This covers ids, OSCAL ids, kinds, titles, descriptions
(character for character), withdrawn flags, properties with their types, hierarchy and order,
levels, name, version, content version, publisher and notice.

Output is deterministic: UUIDs are uuid5 of the framework key and version, `last-modified` is
the `last_modified` argument or a fixed date, so exporting twice gives identical text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import catalog as oscal

from assay.catalog.oscal._markup import escape_markdown, one_line
from assay.catalog.oscal._ns import (
    FIELD_NS,
    PROPERTY_NS,
    TOKEN,
    encode_value,
    property_prop_name,
)
from assay.catalog.oscal.inputs import fail
from assay.catalog.schema import ControlEntry, FrameworkDocument, walk

FIXED_LAST_MODIFIED = datetime(2000, 1, 1, tzinfo=UTC)
UUID_NAMESPACE = uuid.UUID("3b1f1f38-5d0e-4c52-9a53-6a2f0c1b7e21")
_SORT_ID = re.compile(r"^\S(.*\S)?$")
_ENHANCEMENT = re.compile(r"\((\w+)\)")
_NOT_TOKEN = re.compile(r"[^_A-Za-z0-9\-.]+")


def export_catalog(doc: FrameworkDocument, *, last_modified: datetime | None = None) -> str:
    """OSCAL catalog JSON of `doc` (pretty-printed, ends with a newline)."""
    try:
        return _Exporter(doc).catalog(last_modified or FIXED_LAST_MODIFIED)
    except ValidationError as exc:
        error = exc.errors()[0]
        place = ".".join(str(p) for p in error["loc"])
        fail(f"framework {doc.id}", None, f"cannot be written as OSCAL: {place}: {error['msg']}")


def _is_line(text: str) -> bool:
    return bool(text) and one_line(text) == text


def _field(name: str, value: Any) -> common.Property:
    encoded, class_ = encode_value(value)
    return common.Property(name=name, ns=FIELD_NS, value=encoded, class_=class_)


class _Exporter:
    def __init__(self, doc: FrameworkDocument) -> None:
        self.doc = doc
        self.seed = f"{doc.id}@{doc.version}"
        self.ids = self._assign_ids()

    def _uuid(self, what: str) -> str:
        return str(uuid.uuid5(UUID_NAMESPACE, f"{self.seed}/{what}"))

    def _assign_ids(self) -> dict[int, str]:
        """OSCAL id of each entry (keyed by object identity): its own when valid and unique."""
        used: set[str] = set()
        ids: dict[int, str] = {}
        pending: list[ControlEntry] = []
        for _, entry in walk(self.doc.controls):
            own = entry.oscal_id
            if own and TOKEN.match(own) and own not in used:
                used.add(own)
                ids[id(entry)] = own
            else:
                pending.append(entry)
        for entry in pending:
            base = _ENHANCEMENT.sub(r".\1", entry.id.lower())
            base = _NOT_TOKEN.sub("-", base).strip("-.") or "node"
            if not TOKEN.match(base):
                base = f"{entry.kind}-{base}"
            if not TOKEN.match(base):
                base = "_" + base
            candidate, n = base, 2
            while candidate in used:
                candidate, n = f"{base}-{n}", n + 1
            used.add(candidate)
            ids[id(entry)] = candidate
        return ids

    def catalog(self, last_modified: datetime) -> str:
        doc = self.doc
        kinds = {entry.kind for entry in doc.controls}
        if kinds == {"control"}:
            groups = None
            controls = [self._control(e) for e in doc.controls]
        else:
            groups = [self._group(e) for e in doc.controls]
            controls = None
        catalog = oscal.Catalog(
            uuid=self._uuid("catalog"),
            metadata=self._metadata(last_modified),
            groups=groups,
            controls=controls,
        )
        return catalog.oscal_serialize_json(pretty=True) + "\n"

    def _metadata(self, last_modified: datetime) -> common.Metadata:
        doc = self.doc
        props = [
            _field("framework-id", doc.id),
            _field("content-version", doc.content_version),
            _field("levels", list(doc.levels)),
        ]
        if doc.notice:
            props.append(_field("notice", doc.notice))
        title = doc.name
        if not _is_line(title):
            props.append(_field("name", doc.name))
            title = doc.id
        roles = parties = responsible = None
        if doc.publisher:
            party_uuid = self._uuid("publisher")
            publisher = doc.publisher
            if not _SORT_ID.match(publisher) or "\n" in publisher:
                props.append(_field("publisher", doc.publisher))
                publisher = one_line(publisher) or doc.id
            roles = [common.Role(id="publisher", title="Publisher")]
            parties = [common.Parties(uuid=party_uuid, type="organization", name=publisher)]
            responsible = [common.ResponsibleParty(role_id="publisher", party_uuids=[party_uuid])]
        return common.Metadata(
            title=escape_markdown(title),
            last_modified=last_modified,
            version=doc.version,
            oscal_version=OSCAL_VERSION,
            props=props,
            roles=roles,
            parties=parties,
            responsible_parties=responsible,
        )

    def _common(self, entry: ControlEntry) -> dict[str, Any]:
        """Fields shared by groups and controls."""
        oscal_id = self.ids[id(entry)]
        props = [common.Property(name="label", value=entry.id)]
        if entry.withdrawn:
            props.append(common.Property(name="status", value="withdrawn"))
        fields: list[common.Property] = []
        if oscal_id != entry.oscal_id:
            fields.append(_field("oscal-id", entry.oscal_id))
        title = entry.title
        if not _is_line(title):
            fields.append(_field("title", entry.title))
            title = one_line(title) or entry.id
        class_: str | None = entry.kind
        if not TOKEN.match(entry.kind):
            fields.append(_field("kind", entry.kind))
            class_ = None
        custom: list[common.Property] = []
        for key, value in entry.properties.items():
            if key == "sort-id" and isinstance(value, str) and _SORT_ID.match(value):
                props.append(common.Property(name="sort-id", value=value))
                continue
            encoded, value_class = encode_value(value)
            custom.append(
                common.Property(
                    name=property_prop_name(key), ns=PROPERTY_NS, value=encoded, class_=value_class
                )
            )
        parts = None
        if entry.description:
            parts = [
                common.Part(
                    id=f"{oscal_id}_smt",
                    name="statement",
                    prose=escape_markdown(entry.description),
                )
            ]
        return {
            "id": oscal_id,
            "class_": class_,
            "title": escape_markdown(title),
            "props": props + fields + custom,
            "parts": parts,
        }

    def _group(self, entry: ControlEntry) -> oscal.Group2:
        return oscal.Group2(
            **self._common(entry),
            controls=[self._control(c) for c in entry.controls] or None,
        )

    def _control(self, entry: ControlEntry) -> oscal.Control:
        return oscal.Control(
            **self._common(entry),
            controls=[self._control(c) for c in entry.controls] or None,
        )


def iter_exported_ids(doc: FrameworkDocument) -> Iterator[tuple[str, str]]:
    """(official id, OSCAL id written by `export_catalog`) for every node, in tree order."""
    exporter = _Exporter(doc)
    for _, entry in walk(doc.controls):
        yield entry.id, exporter.ids[id(entry)]
