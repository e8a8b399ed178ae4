"""Checks every importer runs on raw bytes before parsing: size, encoding, a clear error.

Every error is an `InvalidInput` with one line that starts with the file name and, where there
is one, the place in the file (`line 12`, `catalog.groups[3].id`).
"""

from __future__ import annotations

import re
from typing import NoReturn

from assay.errors import InvalidInput

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
"""Size cap of an imported file, checked before any parsing."""

_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def fail(name: str, where: str | None, message: str) -> NoReturn:
    """Raise the one-line error every importer uses: `name: where: message`."""
    place = f"{name}: {where}: " if where else f"{name}: "
    raise InvalidInput(place + " ".join(message.split()))


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


def check_size(data: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse an empty file or one over the cap, before anything reads it."""
    if len(data) > max_bytes:
        fail(name, None, f"file too large: {human_size(len(data))}, limit {human_size(max_bytes)}")
    if not data.strip():
        fail(name, None, "file is empty")


def wide_encoding(data: bytes) -> str | None:
    """`UTF-16`/`UTF-32` when the bytes are in a wide encoding (by BOM or NUL bytes), else None."""
    for bom, encoding in _WIDE_BOMS.items():
        if data.startswith(bom):
            return encoding
    head = data[:64]
    nuls = head.count(0)
    if nuls and nuls >= len(head) // 4:
        return "UTF-16"
    return None


def line_of(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def decode_utf8(data: bytes, name: str) -> str:
    """Text of a UTF-8 file (a leading BOM is dropped); any other encoding is refused."""
    wide = wide_encoding(data)
    if wide:
        fail(name, None, f"file is encoded as {wide}; save it as UTF-8")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(
            name,
            f"line {line_of(data, exc.start)}",
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
        )


def first_significant_byte(data: bytes) -> bytes:
    """The first byte that is not whitespace or a UTF-8 BOM (b'' when there is none)."""
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    stripped = body.lstrip()
    return stripped[:1]


_SLUG_CHARS = re.compile(r"[^a-z0-9.]+")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,62}$")
KEY_MAX = 63


def slug(text: str) -> str:
    """Lower-case `text` with runs of anything but letters, digits and dots turned into `-`."""
    return _SLUG_CHARS.sub("-", text.lower()).strip("-.")


_RELEASE = re.compile(r"^\d+(?:\.\d+)+$")
_VERSION_CORE = re.compile(r"^\d+(?:\.\d+)*")


def _without_release(title: str, version: str | None) -> str:
    """The title with a release number that spells the version cut to its major number
    ("Revision 5.1.1" with version 5.1.1+u4 -> "Revision 5"), so every release of a catalog
    has the same key."""
    core = _VERSION_CORE.match((version or "").strip())
    if core is None:
        return title
    words = title.split()
    for i, word in enumerate(words):
        if _RELEASE.match(word) and (core[0] == word or core[0].startswith(word + ".")):
            words[i] = word.split(".", 1)[0]
    return " ".join(words)


def derive_key(title: str, version: str | None = None) -> str:
    """A framework/mapping key (`schema.Key`) from a title, at most 63 characters.

    Only the title's main part (before a colon) is used, cut at a word to fit. The version is
    left out, so that a newer version of the same catalog has the same key and updates it in
    place; a release number in the title that spells the version is cut to its major number.
    """
    main = title.split(":", 1)[0] or title
    key = slug(_without_release(main, version))
    if len(key) > KEY_MAX:
        key = key[:KEY_MAX].rsplit("-", 1)[0]
    key = key.strip("-.") or "imported"
    if not key[0].isalnum():
        key = "x" + key[: KEY_MAX - 1]
    return key
