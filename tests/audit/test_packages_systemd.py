"""Package databases (dpkg status, rpm sqlite) and systemd unit enablement from links."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from assay.audit.probes.base import Context, NotApplicable, ProbeError
from assay.audit.probes.packages import parse_dpkg_status, parse_rpmdb_sqlite, probe_packages
from assay.audit.probes.systemd import probe_systemd_unit, unit_state
from assay.audit.schema import PackagesProbe, SystemdUnitProbe
from tests.audit.conftest import MakeRoot

STATUS = """Package: openssh-server
Status: install ok installed
Version: 1:9.2p1-2
Description: secure shell server
 a long description
 Status: not a field

Package: telnetd
Status: deinstall ok config-files
Version: 0.17-44

Package: half
Status: install reinstreq half-installed
Version: 1.0

garbage line without colon
Status: install ok installed

Package: rsh-client
Status: install ok installed
Version: 0.17-22
"""


def test_dpkg_status_keeps_packages_on_disk_and_skips_garbage() -> None:
    packages = parse_dpkg_status(STATUS)
    assert {name: p.version for name, p in packages.items()} == {
        "openssh-server": "1:9.2p1-2",
        "half": "1.0",
        "rsh-client": "0.17-22",
    }
    assert packages["rsh-client"].location.line == 19
    assert parse_dpkg_status("\x00\x01 not: a\n\n\n:::\n") == {}


def _header(tags: dict[int, str | int]) -> bytes:
    index, store = b"", b""
    for tag, value in tags.items():
        if isinstance(value, int):
            while len(store) % 4:
                store += b"\0"
            index += struct.pack(">IIII", tag, 4, len(store), 1)
            store += struct.pack(">I", value)
        else:
            index += struct.pack(">IIII", tag, 6, len(store), 1)
            store += value.encode() + b"\0"
    return struct.pack(">II", len(tags), len(store)) + index + store


def _rpmdb(tmp_path: Path, blobs: list[bytes]) -> bytes:
    path = tmp_path / "rpmdb.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    connection.commit()
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    return path.read_bytes()


def test_rpm_sqlite_database_is_read_from_bytes(tmp_path: Path) -> None:
    data = _rpmdb(
        tmp_path,
        [
            _header({1000: "openssh-server", 1001: "8.7p1", 1002: "38.el9", 1003: 1}),
            _header({1000: "telnet", 1001: "0.17", 1002: "85.el9"}),
            b"\x00\x00\x00\xff garbage header",
        ],
    )
    packages = parse_rpmdb_sqlite(data, "/var/lib/rpm/rpmdb.sqlite")
    assert {name: p.version for name, p in packages.items()} == {
        "openssh-server": "1:8.7p1-38.el9",
        "telnet": "0.17-85.el9",
    }
    with pytest.raises(ProbeError, match="not an SQLite"):
        parse_rpmdb_sqlite(b"garbage", "/x")


def test_packages_probe_on_roots(make_root: MakeRoot, tmp_path: Path) -> None:
    probe = PackagesProbe(type="packages", names=["telnetd", "rsh-client", "openssh-server"])
    dpkg = Context(make_root({"files": {"/var/lib/dpkg/status": STATUS}}))
    assert probe_packages(dpkg, probe).value == ["rsh-client 0.17-22", "openssh-server 1:9.2p1-2"]
    rpm_bytes = _rpmdb(tmp_path, [_header({1000: "telnet", 1001: "0.17", 1002: "1"})])
    rpm = Context(make_root({"files": {"/var/lib/rpm/rpmdb.sqlite": {"content": rpm_bytes}}}))
    assert probe_packages(rpm, PackagesProbe(type="packages", names=["telnet"])).value == [
        "telnet 0.17-1"
    ]
    with pytest.raises(NotApplicable, match="no package database"):
        probe_packages(Context(make_root({"files": {"/etc/hostname": "h"}})), probe)
    legacy = Context(make_root({"files": {"/var/lib/rpm/Packages": "bdb"}}))
    with pytest.raises(ProbeError, match="not supported"):
        probe_packages(legacy, probe)


def test_systemd_enablement_from_links(make_root: MakeRoot) -> None:
    lib = "/usr/lib/systemd/system"
    ctx = Context(
        make_root(
            {
                "files": {
                    f"{lib}/auditd.service": "[Unit]\n",
                    f"{lib}/ssh.service": "[Unit]\n",
                    f"{lib}/telnet.socket": "[Unit]\n",
                    f"{lib}/rsync.service": "[Unit]\n",
                    f"{lib}/getty@.service": "[Unit]\n",
                    f"{lib}/tmp.mount": "[Mount]\n",
                },
                "links": {
                    "/etc/systemd/system/multi-user.target.wants/auditd.service": (
                        f"{lib}/auditd.service"
                    ),
                    "/etc/systemd/system/sshd.service": f"{lib}/ssh.service",
                    "/etc/systemd/system/multi-user.target.wants/ssh.service": (
                        f"{lib}/ssh.service"
                    ),
                    "/etc/systemd/system/telnet.socket": "/dev/null",
                    "/etc/systemd/system/getty.target.wants/getty@tty1.service": (
                        f"{lib}/getty@.service"
                    ),
                    f"{lib}/local-fs.target.wants/tmp.mount": "../tmp.mount",
                },
            }
        )
    )

    def state(unit: str) -> str:
        return unit_state(ctx, unit).state

    assert state("auditd.service") == "enabled"
    assert state("sshd.service") == "enabled"  # an alias of an enabled unit
    assert state("telnet.socket") == "masked"
    assert state("rsync.service") == "disabled"
    assert state("getty@tty1.service") == "enabled"
    assert state("tmp.mount") == "enabled"  # the vendor's own wants link
    assert state("nothing.service") == "not-found"
    both = SystemdUnitProbe(type="systemd_unit", units=["rsync.service", "auditd.service"])
    assert probe_systemd_unit(ctx, both).value == "enabled"
