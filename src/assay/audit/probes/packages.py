"""Installed packages from the package databases: dpkg's status file and rpm's sqlite db.

Both are parsed from bytes (so they work the same over SSH). The rpm database is opened in
memory with `sqlite3.deserialize`; its header blobs are decoded here (name, version, release,
epoch). The older Berkeley DB and ndb rpm formats are not read: such a host is reported.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from assay.audit.probes.base import Context, Location, NotApplicable, Observation, ProbeError
from assay.audit.schema import PackagesProbe
from assay.audit.source import Missing, SourceError

DPKG_STATUS = "/var/lib/dpkg/status"
RPM_SQLITE = ("/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")
RPM_LEGACY = (
    "/var/lib/rpm/Packages",
    "/var/lib/rpm/Packages.db",
    "/usr/lib/sysimage/rpm/Packages.db",
)
RPM_READ_LIMIT = 1024 * 1024 * 1024
DPKG_READ_LIMIT = 256 * 1024 * 1024
# dpkg states in which a package's files are on disk.
_ON_DISK = {
    "installed",
    "half-configured",
    "unpacked",
    "half-installed",
    "triggers-awaited",
    "triggers-pending",
}
_TAG_NAME, _TAG_VERSION, _TAG_RELEASE, _TAG_EPOCH = 1000, 1001, 1002, 1003
_STRING, _INT32 = 6, 4


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    location: Location


@dataclass(frozen=True)
class PackageDb:
    packages: dict[str, Package]
    databases: tuple[str, ...]


def _paragraphs(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    fields: dict[str, str] = {}
    start = 0
    key = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if fields:
                yield start, fields
            fields, key = {}, None
            continue
        if not fields:
            start = number
        if line[0] in " \t":
            continue  # continuation of a multi-line field (Description, Conffiles)
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    if fields:
        yield start, fields


def parse_dpkg_status(text: str, path: str = DPKG_STATUS) -> dict[str, Package]:
    """Packages whose files are on disk, from dpkg's status file (pure). Paragraphs without
    Package or Status, or with garbage, are skipped."""
    found: dict[str, Package] = {}
    for start, fields in _paragraphs(text):
        name = fields.get("package", "")
        status = fields.get("status", "").split()
        if not name or len(status) != 3 or status[2] not in _ON_DISK:
            continue
        found.setdefault(name, Package(name, fields.get("version", ""), Location(path, start)))
    return found


def _header_strings(blob: bytes) -> dict[int, str]:
    """Name, version, release and epoch from an rpm header blob (as stored in rpmdb.sqlite)."""
    if len(blob) < 8:
        raise ValueError("header too short")
    count, size = struct.unpack(">II", blob[:8])
    store = 8 + 16 * count
    if count > 100_000 or store + size > len(blob):
        raise ValueError("header sizes out of range")
    found: dict[int, str] = {}
    for index in range(count):
        tag, kind, offset, _n = struct.unpack(">IIII", blob[8 + 16 * index : 24 + 16 * index])
        if tag not in (_TAG_NAME, _TAG_VERSION, _TAG_RELEASE, _TAG_EPOCH) or offset >= size:
            continue
        at = store + offset
        if kind == _STRING:
            end = blob.find(b"\0", at, store + size)
            if end >= 0:
                found[tag] = blob[at:end].decode("utf-8", "replace")
        elif kind == _INT32 and at + 4 <= store + size:
            found[tag] = str(struct.unpack(">I", blob[at : at + 4])[0])
    return found


def parse_rpmdb_sqlite(data: bytes, path: str) -> dict[str, Package]:
    """Installed packages from the bytes of an rpmdb.sqlite file."""
    if data[:16] != b"SQLite format 3\0":
        raise ProbeError(f"{path}: not an SQLite database")
    image = bytearray(data)
    image[18:20] = b"\x01\x01"  # WAL mode needs a -wal file; read the main file as it stands
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(bytes(image))
        rows = connection.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as exc:
        raise ProbeError(f"{path}: cannot read the rpm database: {exc}") from None
    finally:
        connection.close()
    found: dict[str, Package] = {}
    for _hnum, blob in rows:
        try:
            tags = _header_strings(bytes(blob))
        except (ValueError, struct.error, TypeError):
            continue
        name = tags.get(_TAG_NAME)
        if not name:
            continue
        version = "-".join(t for t in (tags.get(_TAG_VERSION), tags.get(_TAG_RELEASE)) if t)
        if tags.get(_TAG_EPOCH):
            version = f"{tags[_TAG_EPOCH]}:{version}"
        found.setdefault(name, Package(name, version, Location(path, None)))
    return found


def package_db(ctx: Context) -> PackageDb:
    """Every package database found on the target, merged; NotApplicable when there is none."""

    def build() -> PackageDb:
        packages: dict[str, Package] = {}
        used: list[str] = []
        try:
            packages.update(parse_dpkg_status(ctx.read_text(DPKG_STATUS, DPKG_READ_LIMIT)))
            used.append(DPKG_STATUS)
        except Missing:
            pass
        for path in RPM_SQLITE:
            try:
                data = ctx.source.read_bytes(path, limit=RPM_READ_LIMIT)
            except Missing:
                continue
            for name, package in parse_rpmdb_sqlite(data, path).items():
                packages.setdefault(name, package)
            used.append(path)
            break
        if not used:
            legacy = next((p for p in RPM_LEGACY if _exists(ctx, p)), None)
            if legacy:
                raise ProbeError(f"{legacy}: this rpm database format is not supported")
            raise NotApplicable("no package database (dpkg status or rpm sqlite) on the target")
        return PackageDb(packages, tuple(used))

    return ctx.cached(("packages",), build)


def _exists(ctx: Context, path: str) -> bool:
    try:
        return ctx.source.exists(path)
    except SourceError:
        return False


def installed(ctx: Context, names: list[str]) -> list[Package]:
    db = package_db(ctx).packages
    return [db[name] for name in names if name in db]


def probe_packages(ctx: Context, probe: PackagesProbe) -> Observation:
    db = package_db(ctx)
    found = installed(ctx, probe.names)
    where = ", ".join(db.databases)
    if not found:
        names = ", ".join(probe.names)
        return Observation([], f"none of {names} is installed ({where})", (Location(where),))
    observed = "installed: " + ", ".join(f"{p.name} {p.version}" for p in found)
    return Observation(
        [f"{p.name} {p.version}" for p in found],
        observed + f" ({where})",
        tuple(p.location for p in found),
    )
