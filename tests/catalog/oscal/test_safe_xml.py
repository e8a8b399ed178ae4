"""Untrusted XML: no DOCTYPE, no entities, a size cap, and errors that name file and line."""

from __future__ import annotations

import pytest

from assay.catalog.oscal import parse_xml
from assay.errors import InvalidInput

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE catalog [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<catalog><title>&xxe;</title></catalog>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


def test_plain_xml_parses() -> None:
    root = parse_xml(
        b'<?xml version="1.0"?>\n<!-- <!DOCTYPE in a comment> -->\n<a><b>x</b></a>', "a.xml"
    )
    assert root.tag == "a"
    assert root[0].text == "x"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (XXE, 2),
        (BILLION_LAUGHS, 2),
        (b"<!DOCTYPE a SYSTEM 'http://example.com/a.dtd'><a/>", 1),
        (b"<?xml version='1.0'?><!-- c --> \n\n<!doctype a []><a/>", 3),
        (b'\xef\xbb\xbf<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 1),
    ],
    ids=["xxe", "billion-laughs", "external-dtd", "lowercase-after-comment", "bom"],
)
def test_doctype_and_entities_are_refused(data: bytes, line: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_xml(data, "evil.xml")
    message = caught.value.message
    assert message.startswith(f"evil.xml: line {line}: ")
    assert "DOCTYPE" in message
    assert "root:" not in message  # nothing of /etc/passwd


def test_undeclared_entity_is_malformed() -> None:
    with pytest.raises(InvalidInput, match=r"^x\.xml: line 2: malformed XML: .*xxe"):
        parse_xml(b"<a>\n&xxe;</a>", "x.xml")


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(InvalidInput, match=r"^bad\.xml: line 3: malformed XML: "):
        parse_xml(b"<a>\n  <b>\n  </c>\n</a>", "bad.xml")


def test_size_cap_is_checked_before_parsing() -> None:
    data = b"<a>" + b"x" * 2000 + b"</a>"
    with pytest.raises(InvalidInput, match=r"^big\.xml: file too large: 2\.0 KB, limit 1\.0 KB$"):
        parse_xml(data, "big.xml", max_bytes=1024)
    assert parse_xml(data, "big.xml", max_bytes=4096).tag == "a"


def test_megabytes_in_the_size_message() -> None:
    with pytest.raises(InvalidInput, match=r"file too large: 3\.0 MB, limit 2\.0 MB"):
        parse_xml(b" " * (3 * 1024 * 1024), "big.xml", max_bytes=2 * 1024 * 1024)


@pytest.mark.parametrize("data", [b"", b"  \n\t"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"^empty\.xml: file is empty$"):
        parse_xml(data, "empty.xml")


def test_utf16_is_refused() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")
    with pytest.raises(InvalidInput, match=r"^w\.xml: file is encoded as UTF-16"):
        parse_xml(data, "w.xml")


def test_latin1_bytes_in_utf8_document() -> None:
    data = "<a>\n<b>café</b></a>".encode("latin-1")
    with pytest.raises(InvalidInput, match=r"^l\.xml: line 2: malformed XML: .*character encoding"):
        parse_xml(data, "l.xml")


def test_declared_latin1_is_decoded() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><a>café</a>'.encode("latin-1")
    assert parse_xml(data, "l.xml").text == "café"
