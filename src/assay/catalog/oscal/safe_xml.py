"""Parse untrusted XML: no DTD, no entities, no network, a size cap, errors with the line.

A document with a DOCTYPE (and so any entity declaration) is refused before lxml sees it:
that closes XXE (external entities such as file:///etc/passwd) and entity expansion bombs
(billion laughs) outright, rather than relying on the parser to decline to expand them. The
parser is also configured not to resolve entities, load a DTD or touch the network, and the
parsed tree is checked once more for a DOCTYPE as a second line of defence.
"""

from __future__ import annotations

from lxml import etree

from assay.catalog.oscal.inputs import (
    DEFAULT_MAX_BYTES,
    check_size,
    fail,
    line_of,
    wide_encoding,
)

_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _refuse_doctype(data: bytes, name: str) -> None:
    """Walk the prolog (declaration, comments, processing instructions) up to the root element
    and refuse a DOCTYPE or ENTITY declaration found there."""
    pos = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    size = len(data)
    while pos < size:
        while pos < size and data[pos] in _WHITESPACE:
            pos += 1
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end < 0:
                return  # unterminated: the parser reports it with its line
            pos = end + 2
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end < 0:
                return
            pos = end + 3
        elif data[pos : pos + 9].upper() in (b"<!DOCTYPE", b"<!ENTITY "):
            fail(
                name,
                f"line {line_of(data, pos)}",
                "XML with a DOCTYPE or entity declarations is not accepted "
                "(it can read local files or expand without limit); remove the DOCTYPE",
            )
        else:
            return


def parse_xml(data: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root element of XML `data`, parsed safely; `InvalidInput` naming `name` otherwise."""
    check_size(data, name, max_bytes)
    wide = wide_encoding(data)
    if wide:
        fail(name, None, f"file is encoded as {wide}; save it as UTF-8")
    _refuse_doctype(data, name)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        where = f"line {line}" if line else None
        fail(name, where, f"malformed XML: {exc.msg}")
    docinfo = root.getroottree().docinfo
    doctype: str = getattr(docinfo, "doctype", "")
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        fail(name, None, "XML with a DOCTYPE or entity declarations is not accepted")
    return root
