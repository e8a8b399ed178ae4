"""Load an OSCAL document, JSON or XML, into one JSON-shaped tree.

XML is converted to the structure of OSCAL JSON (flags and fields as keys, repeated elements
as plural lists: `prop` -> `props`, `with-id` -> `with-ids`...), with its prose turned into
OSCAL Markdown (see `_markup`) and each object carrying its source line under `@line`. The
readers then walk one shape and report either `line N` (XML) or a JSON path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from lxml import etree

from assay.catalog.oscal._markup import escape_markdown
from assay.catalog.oscal.inputs import (
    DEFAULT_MAX_BYTES,
    check_size,
    decode_utf8,
    fail,
    first_significant_byte,
    wide_encoding,
)
from assay.catalog.oscal.safe_xml import parse_xml

OSCAL_NS = "http://csrc.nist.gov/ns/oscal/1.0"
MODELS = {
    "catalog": "a catalog",
    "profile": "a profile",
    "component-definition": "a component definition",
    "system-security-plan": "a system security plan",
    "assessment-plan": "an assessment plan",
    "assessment-results": "assessment results",
    "plan-of-action-and-milestones": "a plan of action and milestones",
    "mapping-collection": "a mapping collection",
}
LINE = "@line"
LINES = "@lines"
"""XML only: {plural field: {index: line}} for items that are plain text (`with-id`...)."""

_PLURAL = {
    "prop": "props",
    "link": "links",
    "part": "parts",
    "control": "controls",
    "group": "groups",
    "param": "params",
    "role": "roles",
    "party": "parties",
    "responsible-party": "responsible-parties",
    "resource": "resources",
    "rlink": "rlinks",
    "import": "imports",
    "include-controls": "include-controls",
    "exclude-controls": "exclude-controls",
    "with-id": "with-ids",
    "matching": "matching",
    "party-uuid": "party-uuids",
    "choice": "choice",
    "value": "values",
    "guideline": "guidelines",
    "mapping": "mappings",
    "map": "maps",
    "source": "sources",
    "target": "targets",
    "email-address": "email-addresses",
    "addr-line": "addr-lines",
    "document-id": "document-ids",
    "location": "locations",
    "revision": "revisions",
}
_MARKUP_LINE = {"title", "label", "choice", "text", "short-name"}
_MARKUP_MULTILINE = {"remarks", "description", "usage", "mapping-description", "prose"}
_BLOCKS = {"p", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "hr"}
_LINE_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre"}


@dataclass(frozen=True)
class OscalDocument:
    """One OSCAL document: its model name (`catalog`...), the model's object, the format."""

    name: str
    model: str
    root: dict[str, Any]
    format: str  # "json" or "xml"


def where(node: object, path: str) -> str:
    """`line N` for a node read from XML, the JSON path otherwise."""
    if isinstance(node, dict) and isinstance(node.get(LINE), int):
        return f"line {node[LINE]}"
    return path


def where_item(node: object, key: str, index: int, path: str) -> str:
    """`line N` of item `index` of the plain-text list `key` of a node read from XML, else the
    JSON path `path.key[index]`."""
    lines = node.get(LINES, {}).get(key, {}) if isinstance(node, dict) else {}
    if isinstance(lines.get(index), int):
        return f"line {lines[index]}"
    return where(node, f"{path}.{key}[{index}]")


def fail_at(name: str, node: object, path: str, message: str) -> NoReturn:
    fail(name, where(node, path), message)


def load_oscal(
    data: bytes, name: str, expected: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> OscalDocument:
    """Parse `data` (JSON or XML, told by its first byte) and check it is an OSCAL `expected`."""
    check_size(data, name, max_bytes)
    wide = wide_encoding(data)
    if wide:
        fail(name, None, f"file is encoded as {wide}; save it as UTF-8")
    first = first_significant_byte(data)
    if first == b"<":
        doc = _load_xml(data, name, max_bytes)
    elif first in (b"{", b"["):
        doc = _load_json(data, name)
    else:
        fail(name, None, f"not an OSCAL {expected}: expected JSON or XML")
    if doc.model != expected:
        found = MODELS.get(doc.model, f"'{doc.model}'")
        fail(name, None, f"expected an OSCAL {expected}, but the file is {found}")
    return doc


def _load_json(data: bytes, name: str) -> OscalDocument:
    text = decode_utf8(data, name)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(name, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}")
    except RecursionError:
        fail(name, None, "malformed JSON: nested too deeply")
    if not isinstance(value, dict):
        fail(name, None, "not an OSCAL document: the top level is not a JSON object")
    keys = [k for k in value if k != "$schema"]
    if len(keys) != 1:
        fail(name, None, f"not an OSCAL document: top-level keys {sorted(keys)[:5]}")
    model = keys[0]
    if model not in MODELS:
        fail(name, None, f"not an OSCAL document: unknown top-level key '{model}'")
    root = value[model]
    if not isinstance(root, dict):
        fail(name, model, "must be an object")
    return OscalDocument(name, model, root, "json")


def _load_xml(data: bytes, name: str, max_bytes: int) -> OscalDocument:
    element = parse_xml(data, name, max_bytes=max_bytes)
    qname = etree.QName(element)
    if qname.namespace != OSCAL_NS:
        fail(
            name,
            f"line {element.sourceline}",
            f"not an OSCAL document: root element <{qname.localname}> is not in the "
            f"OSCAL namespace {OSCAL_NS}",
        )
    if qname.localname not in MODELS:
        fail(name, None, f"not an OSCAL document: unknown root element <{qname.localname}>")
    return OscalDocument(name, qname.localname, _object(element), "xml")


def _local(element: etree._Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):
        return None  # comment or processing instruction
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return local if namespace == OSCAL_NS else None
    return tag


def _object(element: etree._Element) -> dict[str, Any]:
    result: dict[str, Any] = {LINE: element.sourceline}
    result.update({str(k): str(v) for k, v in element.attrib.items()})
    prose: list[str] = []
    for child in element:
        tag = _local(child)
        if tag is None:
            continue
        value: Any
        if tag in _BLOCKS:
            prose.append(_block(child))
            continue
        if tag in _MARKUP_LINE:
            value = _inline(child)
        elif tag in _MARKUP_MULTILINE:
            value = _multiline(child)
        elif len(child) == 0 and not child.attrib:
            value = (child.text or "").strip()
        else:
            value = _object(child)
        plural = _PLURAL.get(tag)
        if plural:
            items = result.setdefault(plural, [])
            if isinstance(value, str):
                result.setdefault(LINES, {}).setdefault(plural, {})[len(items)] = child.sourceline
            items.append(value)
        else:
            result[tag] = value
    if prose:
        result["prose"] = "\n\n".join(p for p in prose if p)
    return result


def _multiline(element: etree._Element) -> str:
    blocks = [_block(c) for c in element if _local(c) in _BLOCKS]
    if blocks:
        return "\n\n".join(b for b in blocks if b)
    return _inline(element)


def _inline(element: etree._Element) -> str:
    """Markdown of an element's mixed content: text escaped, inserts as placeholders."""
    out = [escape_markdown(element.text or "")]
    for child in element:
        tag = _local(child)
        if tag == "insert":
            if child.get("type", "param") == "param" and child.get("id-ref"):
                out.append(f"{{{{ insert: param, {child.get('id-ref')} }}}}")
        elif tag is not None:
            out.append(_inline(child))
        out.append(escape_markdown(child.tail or ""))
    return "".join(out)


def _block(element: etree._Element) -> str:
    tag = _local(element)
    if tag in _LINE_BLOCKS:
        return " ".join(_inline(element).split())
    if tag in ("ul", "ol"):
        return "\n".join("- " + _block(li) for li in element if _local(li) == "li")
    if tag == "table":
        rows = []
        for row in element.iter(f"{{{OSCAL_NS}}}tr", "tr"):
            cells = [" ".join(_inline(c).split()) for c in row if _local(c) in ("td", "th")]
            rows.append(" | ".join(cells))
        return "\n".join(rows)
    if tag == "blockquote":
        return "\n".join(_block(c) for c in element if _local(c) in _BLOCKS)
    return ""
