"""Files over HTTP, shared by the API and the web pages: multipart uploads read as a stream with
hard limits, and downloads that are always attachments.

`read_upload` reads a `multipart/form-data` body chunk by chunk through python-multipart's push
parser. The one file part goes to a spooled temporary file (memory first, disk past 1 MiB) and is
refused the moment it passes its limit, so an oversized upload is never read to its end; the
other parts are small text fields with the same limits as url-encoded forms. Nothing here touches
the database or the evidence store: callers hand the file to a service afterwards.

`attachment_headers` makes every download a download: `Content-Disposition: attachment` with the
original name in RFC 6266 form (an ASCII fallback and the exact UTF-8 name in `filename*`),
`application/octet-stream` and `nosniff`, so no browser ever renders an uploaded file inline.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, cast
from urllib.parse import quote

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assay.errors import ContentTooLarge, InvalidInput, UnsupportedMediaType

MULTIPART = "multipart/form-data"
SPOOL_BYTES = 1024 * 1024  # kept in memory up to this size, then on disk
MAX_FIELDS = 32
MAX_FIELD_NAME_CHARS = 64
MAX_FILENAME_BYTES = 1024  # the service allows 255 characters; this only bounds the header
BYTES_PER_CHAR = 4  # UTF-8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:\\.|[^"\\])*"|[^;]*)')


def human_bytes(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


@dataclass
class Upload:
    """A read multipart body: its text fields and at most one file (None when not sent)."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    file: BinaryIO | None = None
    size: int = 0

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    def optional(self, name: str) -> str | None:
        return self.fields.get(name, "").strip() or None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _disposition_params(header: bytes) -> dict[str, str]:
    """The parameters of a part's Content-Disposition, values as sent (UTF-8, as browsers send
    them). Unlike python-multipart's reader, a file name is never shortened (it turns an old
    Windows path into its last component): the service must see it whole to refuse it.
    RFC 7578 forbids the `name*=` forms in forms, so they are ignored."""
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("a part of the form has a header that is not UTF-8") from None
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(text):
        if "*" in key:
            continue
        value = raw.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            # only \\ and \" are escapes: a lone backslash (browsers send it raw) stays
            value = value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        params.setdefault(key.lower(), value)
    return params


def _filename(params: dict[str, str]) -> str | None:
    name = params.get("filename")
    return name.replace("%22", '"') if name is not None else None  # browsers send " as %22


class _Reader:
    """python-multipart callbacks collecting one upload, with every limit checked as data comes."""

    def __init__(self, file_field: str, max_file_bytes: int, max_field_chars: int) -> None:
        self.file_field = file_field
        self.max_file_bytes = max_file_bytes
        self.max_field_chars = max_field_chars
        self.upload = Upload()
        self.pending = bytearray()  # file bytes not yet written (written off the event loop)
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()
        self._parts = 0

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_FIELDS:
            raise ContentTooLarge(f"the form has more than {MAX_FIELDS} fields")
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        if len(self._header_value) > MAX_FILENAME_BYTES + 200:
            raise InvalidInput("a part of the form has an oversized header")

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        params = _disposition_params(self._disposition)
        name = params.get("name")
        if name is None:
            raise InvalidInput("every part of the form needs a name")
        if len(name) > MAX_FIELD_NAME_CHARS or _CONTROL.search(name):
            raise InvalidInput("the form has a field with an invalid name")
        self._name = name
        filename = _filename(params)
        if name == self.file_field:
            if self.upload.file is not None:
                raise InvalidInput(f"send one file in the '{self.file_field}' field")
            self._is_file = True
            self.upload.filename = filename if filename is not None else ""
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by Upload)
            self.upload.file = cast(BinaryIO, spool)
        elif filename is not None:
            raise InvalidInput(f"unexpected file in field '{name}': send it as '{self.file_field}'")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._is_file:
            self.upload.size += size
            if self.upload.size > self.max_file_bytes:
                raise ContentTooLarge(f"the file is larger than {human_bytes(self.max_file_bytes)}")
            self.pending += data[start:end]
            return
        self._data += data[start:end]
        if len(self._data) > self.max_field_chars * BYTES_PER_CHAR:
            raise ContentTooLarge(
                f"the field '{self._name}' is longer than {self.max_field_chars} characters"
            )

    def on_part_end(self) -> None:
        if self._is_file:
            return
        try:
            value = self._data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"the field '{self._name}' is not valid UTF-8") from None
        if len(value) > self.max_field_chars:
            raise ContentTooLarge(
                f"the field '{self._name}' is longer than {self.max_field_chars} characters"
            )
        if _CONTROL.search(value):
            raise InvalidInput(f"the field '{self._name}' contains control characters")
        self.upload.fields.setdefault(self._name, value)


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind.decode("latin-1").lower() != MULTIPART:
        raise UnsupportedMediaType(f"send the file as {MULTIPART}")
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise InvalidInput("the multipart form has no valid boundary")
    return boundary


async def read_upload(
    request: Request, *, file_field: str, max_file_bytes: int, max_field_chars: int
) -> Upload:
    """Read a multipart form with at most one file (`file_field`) of up to `max_file_bytes`.

    Raises UnsupportedMediaType (415) for another encoding, ContentTooLarge (413) as soon as the
    file or a field passes its limit, InvalidInput (422) for a malformed body. The caller closes
    the upload (it is a context manager)."""
    boundary = _boundary(request)
    allowance = max_file_bytes + MAX_FIELDS * (max_field_chars * BYTES_PER_CHAR + 1024)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > allowance:
        raise ContentTooLarge(f"the file is larger than {human_bytes(max_file_bytes)}")
    reader = _Reader(file_field, max_file_bytes, max_field_chars)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except (ContentTooLarge, InvalidInput):
                raise
            except Exception:  # the parser's own errors: a malformed body
                raise InvalidInput("the multipart form is malformed") from None
            if reader.pending and reader.upload.file is not None:
                data = bytes(reader.pending)
                reader.pending.clear()
                await run_in_threadpool(reader.upload.file.write, data)
        try:
            parser.finalize()
        except Exception:
            raise InvalidInput("the multipart form is malformed") from None
        if reader.upload.file is not None:
            reader.upload.file.seek(0)
    except BaseException:
        reader.upload.close()
        raise
    return reader.upload


async def read_bounded_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, or ContentTooLarge (413) the moment it passes `max_bytes`: first by its
    declared length, then by the bytes received (a chunked body declares none)."""
    too_large = ContentTooLarge(f"the body is larger than {human_bytes(max_bytes)}")
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


async def read_json_body(request: Request, *, max_bytes: int) -> bytes:
    """A JSON request body of at most `max_bytes`, refused (413) as soon as it passes the limit
    and never read to its end; 415 for another media type."""
    kind, _ = parse_options_header(request.headers.get("content-type", ""))
    if kind.decode("latin-1").lower() != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    return await read_bounded_body(request, max_bytes)


def content_disposition(filename: str) -> str:
    """`attachment` with the name twice (RFC 6266): an ASCII stand-in for old clients and the
    exact name, percent-encoded UTF-8, in `filename*`."""
    name = unicodedata.normalize("NFC", filename) or "download"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name
    )
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def attachment_headers(
    filename: str, size: int | None = None, *, media_type: str = "application/octet-stream"
) -> dict[str, str]:
    """Headers that make a response a download, never a page: see the module docstring.
    Uploaded files keep the default media type; only files Assay writes itself (spreadsheet
    exports) name theirs."""
    headers = {
        "Content-Disposition": content_disposition(filename),
        "Content-Type": media_type,
        "X-Content-Type-Options": "nosniff",
    }
    if size is not None:
        headers["Content-Length"] = str(size)
    return headers


def file_chunks(handle: IO[bytes], chunk: int = 64 * 1024) -> Iterator[bytes]:
    """Iterate over an open file in chunks, closing it at the end (for StreamingResponse)."""
    try:
        while data := handle.read(chunk):
            yield data
    finally:
        handle.close()
