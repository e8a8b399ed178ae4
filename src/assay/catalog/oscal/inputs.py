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


def derive_key(title: str, version: str | None = None) -> str:
    """A framework/mapping key (`schema.Key`) from a title and version, at most 63 characters.

    Only the title's main part (before a colon) is used; the version is kept whole and the
    title cut at a word to make room for it.
    """
    version_part = slug(version or "")[:30]
    room = KEY_MAX - (len(version_part) + 1 if version_part else 0)
    title_part = slug(title.split(":", 1)[0] or title)
    if len(title_part) > room:
        title_part = title_part[:room].rsplit("-", 1)[0]
    title_part = title_part.strip("-.")
    key = "-".join(p for p in (title_part, version_part) if p) or "imported"
    if not key[0].isalnum():
        key = "x" + key[: KEY_MAX - 1]
    return key
