"""Input rules for assets, shared by every interface and the CSV import. Pure: no I/O.

Identifiers are normalized so that one host always maps to one asset however it reports
itself: hostnames and FQDNs lower-case, without a trailing dot, internationalized names in
their ASCII (punycode) form; IP addresses in canonical form (`ipaddress`; an IPv4-mapped IPv6
address becomes the IPv4 address); MAC addresses as `aa:bb:cc:dd:ee:ff`; URLs with a
lower-case scheme and host, without default port, credentials or fragment; cloud ids as given
(Azure resource ids and UUIDs, which are case-insensitive, lower-case).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from assay.assets.models import AssetKind, Criticality, DataClassification, IdentifierKind
from assay.errors import InvalidInput
from assay.tenancy.validation import clean_name

MAX_OWNER_CHARS = 254
MAX_DESCRIPTION_CHARS = 4000
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_IDENTIFIERS = 50
MAX_IDENTIFIER_CHARS = 500
LIST_SEPARATORS = re.compile(r"[;\n]")  # between identifiers (and tags, with commas)

DEFAULT_CRITICALITY = Criticality.MEDIUM
DEFAULT_CLASSIFICATION = DataClassification.INTERNAL

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tab and newline are text
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TAG = re.compile(r"[^\W_][\w .:/+-]*")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_MAC = re.compile(
    r"[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}"
    r"|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}|[0-9a-f]{12}"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DEFAULT_PORTS = {"http": 80, "https": 443}

Choice = TypeVar("Choice", bound=enum.StrEnum)
Identifier = tuple[IdentifierKind, str]


def _shown(value: str, limit: int = 60) -> str:
    """A value safe to quote in an error: one line, cut short."""
    text = _LINE_CONTROL.sub("?", value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _choice(cls: type[Choice], value: str, what: str) -> Choice:
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    try:
        return cls(key)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        if not key:
            raise InvalidInput(f"{what} is required (use {allowed})") from None
        raise InvalidInput(f"unknown {what} '{_shown(value, 40)}' (use {allowed})") from None


def parse_kind(value: str) -> AssetKind:
    return _choice(AssetKind, value, "asset kind")


def parse_criticality(value: str) -> Criticality:
    return _choice(Criticality, value, "criticality")


def parse_classification(value: str) -> DataClassification:
    return _choice(DataClassification, value, "data classification")


def parse_identifier_kind(value: str) -> IdentifierKind:
    return _choice(IdentifierKind, value, "identifier kind")


def clean_asset_name(value: str) -> str:
    if _LINE_CONTROL.search(value.strip()):
        raise InvalidInput("asset name must not contain control characters")
    return clean_name(value, "asset name")


def clean_owner(value: str | None) -> str | None:
    """Free text or an e-mail address; blank is no owner."""
    raw = value or ""
    if _LINE_CONTROL.search(raw):
        raise InvalidInput("owner must not contain control characters")
    text = " ".join(raw.split())
    if len(text) > MAX_OWNER_CHARS:
        raise InvalidInput(f"owner must have at most {MAX_OWNER_CHARS} characters")
    return text or None


def clean_description(value: str) -> str:
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(text):
        raise InvalidInput("description must not contain control characters")
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(
            f"description has {len(text)} characters; at most {MAX_DESCRIPTION_CHARS} allowed"
        )
    return text


def clean_tags(values: Iterable[str]) -> list[str]:
    """Tags lower-case, single-spaced, each given once, in the order given."""
    tags: list[str] = []
    for raw in values:
        tag = " ".join(raw.split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidInput(f"tag '{_shown(tag, 20)}' is longer than {MAX_TAG_CHARS} characters")
        if not _TAG.fullmatch(tag):
            raise InvalidInput(
                f"tag '{_shown(tag, 40)}' may hold letters, digits, spaces and . : / + - _ "
                "(starting with a letter or digit)"
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"{len(tags)} tags; at most {MAX_TAGS} allowed")
    return tags


def split_tags(text: str) -> list[str]:
    """Tags written in one cell or field: `a;b` (commas and new lines separate too)."""
    return [part for part in re.split(r"[;,\n]", text) if part.strip()]


# --- identifiers ----------------------------------------------------------------------------


def _dns_name(value: str, what: str) -> str:
    name = value.strip().lower().removesuffix(".")
    if not name:
        raise InvalidInput(f"{what} is empty")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidInput(f"'{_shown(value)}' is not a valid {what}") from None
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise InvalidInput(f"'{_shown(value)}' is an IP address: give it as ip:{name}")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise InvalidInput(
            f"'{_shown(value)}' is not a valid {what} (labels of letters, digits, hyphens, "
            "at most 63 characters each)"
        )
    return name


def _ip(value: str) -> str:
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "/" in text:
        raise InvalidInput(f"'{_shown(value)}' is a network; give one address")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidInput(f"'{_shown(value)}' is not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _mac(value: str) -> str:
    text = value.strip().lower()
    if not _MAC.fullmatch(text):
        raise InvalidInput(
            f"'{_shown(value)}' is not a MAC address (aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff)"
        )
    digits = re.sub(r"[^0-9a-f]", "", text)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _url(value: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"'{_shown(value)}' is not a valid URL") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if not scheme or not host or any(c.isspace() for c in text):
        raise InvalidInput(f"'{_shown(value)}' is not a URL (scheme://host/...)")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("a URL identifier must not hold a user name or password")
    host = f"[{host}]" if ":" in host else host
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path or '/'}{query}"


def _cloud_id(value: str) -> str:
    text = value.strip()
    if not text or any(c.isspace() for c in text):
        raise InvalidInput(f"cloud id '{_shown(value)}' must be one word, without spaces")
    if _UUID.fullmatch(text) or text.lower().startswith("/subscriptions/"):
        return text.lower()  # Azure ids and UUIDs are case-insensitive
    return text


def _other(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise InvalidInput("identifier value is empty")
    return text


_NORMALIZERS = {
    IdentifierKind.HOSTNAME: lambda v: _dns_name(v, "hostname"),
    IdentifierKind.FQDN: lambda v: _dns_name(v, "FQDN"),
    IdentifierKind.IP: _ip,
    IdentifierKind.MAC: _mac,
    IdentifierKind.URL: _url,
    IdentifierKind.CLOUD_ID: _cloud_id,
    IdentifierKind.OTHER: _other,
}


def normalize_identifier(kind: str | IdentifierKind, value: str) -> Identifier:
    """The identifier in the one form it is stored and looked up in."""
    parsed = parse_identifier_kind(str(kind))
    if _LINE_CONTROL.search(value):
        raise InvalidInput(f"{parsed} identifier must not contain control characters")
    if ";" in value:
        raise InvalidInput(f"{parsed} identifier must not contain ';' (it separates identifiers)")
    normalized: str = _NORMALIZERS[parsed](value)
    if parsed is IdentifierKind.FQDN and "." not in normalized:
        raise InvalidInput(f"'{_shown(value)}' is not fully qualified: give it as hostname:")
    if len(normalized) > MAX_IDENTIFIER_CHARS:
        raise InvalidInput(f"{parsed} identifier longer than {MAX_IDENTIFIER_CHARS} characters")
    return parsed, normalized


def split_identifier(text: str) -> tuple[str, str]:
    """`kind:value` -> (kind, value); only the first colon separates (IPv6, URLs)."""
    kind, colon, value = text.strip().partition(":")
    if not colon or not kind.strip():
        kinds = ", ".join(k.value for k in IdentifierKind)
        raise InvalidInput(
            f"identifier '{_shown(text.strip())}' needs a kind: write it as kind:value, "
            f"e.g. hostname:web1 or ip:10.0.0.5 (kinds: {kinds})"
        )
    return kind.strip(), value


def split_identifiers(text: str) -> list[tuple[str, str]]:
    """Identifiers written in one cell or field: `hostname:web1;ip:10.0.0.5` (or one a line)."""
    return [split_identifier(part) for part in LIST_SEPARATORS.split(text) if part.strip()]


def format_identifier(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def clean_identifiers(pairs: Iterable[tuple[str, str]]) -> list[Identifier]:
    """Normalized identifiers, refusing one given twice and more than MAX_IDENTIFIERS."""
    found: list[Identifier] = []
    for kind, value in pairs:
        identifier = normalize_identifier(kind, value)
        if identifier in found:
            raise InvalidInput(f"identifier {format_identifier(*identifier)} is given twice")
        found.append(identifier)
    if len(found) > MAX_IDENTIFIERS:
        raise InvalidInput(f"{len(found)} identifiers; at most {MAX_IDENTIFIERS} allowed")
    return found


# --- a whole asset --------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetInput:
    """An asset as an interface received it (text, not yet checked)."""

    name: str
    kind: str
    criticality: str = DEFAULT_CRITICALITY.value
    data_classification: str = DEFAULT_CLASSIFICATION.value
    owner: str | None = None
    description: str = ""
    tags: Sequence[str] = ()
    identifiers: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class AssetData:
    """A checked, normalized asset."""

    name: str
    kind: AssetKind
    criticality: Criticality
    data_classification: DataClassification
    owner: str | None
    description: str
    tags: tuple[str, ...]
    identifiers: tuple[Identifier, ...]


def clean_asset(spec: AssetInput) -> AssetData:
    """Check every field; the first problem is raised as InvalidInput."""
    return AssetData(
        name=clean_asset_name(spec.name),
        kind=parse_kind(spec.kind),
        criticality=parse_criticality(spec.criticality),
        data_classification=parse_classification(spec.data_classification),
        owner=clean_owner(spec.owner),
        description=clean_description(spec.description),
        tags=tuple(clean_tags(spec.tags)),
        identifiers=tuple(clean_identifiers(spec.identifiers)),
    )
