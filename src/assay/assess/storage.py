"""Content-addressed evidence files in the data directory: `evidence/ab/cdef...` by SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assay.errors import InvalidInput

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    head: bytes  # the first bytes, for media type detection


class EvidenceStore:
    """Writes are atomic (temporary file, then rename); the same content is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InvalidInput("invalid evidence digest")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, stream: BinaryIO, limit: int) -> Stored:
        """Copy a stream into the store, refusing more than `limit` bytes and empty input."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise InvalidInput(f"file too large: more than {limit // (1024 * 1024)} MB")
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise InvalidInput("the file is empty")
            target = self.path(digest.hexdigest())
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                os.unlink(temporary)
            else:
                os.chmod(temporary, 0o640)
                os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return Stored(digest.hexdigest(), size, head)

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")


def detect_media_type(head: bytes) -> str:
    """The media type from the content's first bytes, never from the file name."""
    import filetype

    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "application/octet-stream"
    stripped = head.lstrip()
    if stripped.startswith((b"{", b"[")):
        return "application/json"
    if stripped.startswith(b"<"):
        return "application/xml"
    return "text/plain"
