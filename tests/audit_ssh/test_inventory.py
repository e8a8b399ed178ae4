"""Inventory files, and auditing many hosts at once where some fail in every way they can."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import asyncssh
import pytest

from assay.audit.inventory import HostOutcome, audit_hosts, load_inventory, parse_inventory
from assay.audit.source import FileSource
from assay.audit.ssh import FailureKind, SshTarget
from assay.catalog.yamlfile import ContentError
from assay.errors import InvalidInput
from tests.audit_ssh.sshd_server import LoopbackSshd

# -- the file format ------------------------------------------------------------------------

GOOD = b"""\
defaults:
  user: audit
  key: keys/audit_ed25519
  connect_timeout: 3
  timeout: 7.5
hosts:
  - name: web1
    address: 192.0.2.10
    port: 2222
    tags: [web, production]
    asset: WEB-01
  - name: db1.example.org
    user: admin
    key: [~/.ssh/a, /etc/keys/b]
    known_hosts: site_known_hosts
"""


def test_a_good_inventory(tmp_path: Path) -> None:
    web, db = parse_inventory(GOOD, "hosts.yaml", tmp_path)
    assert web.name == "web1" and web.tags == ("web", "production") and web.asset == "WEB-01"
    assert web.target == SshTarget(
        address="192.0.2.10",
        user="audit",
        port=2222,
        keys=(str(tmp_path / "keys" / "audit_ed25519"),),
        known_hosts=str(Path("~/.ssh/known_hosts").expanduser()),
        connect_timeout=3.0,
        timeout=7.5,
    )
    assert db.target.address == "db1.example.org"  # the name, when no address
    assert db.target.user == "admin" and db.target.port == 22
    assert db.target.keys == (str(Path("~/.ssh/a").expanduser()), "/etc/keys/b")
    assert db.target.known_hosts == str(tmp_path / "site_known_hosts")
    assert db.target.check_host_key  # no way to turn it off in the file
    assert web.target.description == "ssh:audit@192.0.2.10:2222"


def test_load_inventory_reads_paths_from_the_files_folder(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_bytes(GOOD)
    hosts = load_inventory(tmp_path / "inventory.yaml")
    assert hosts[0].target.keys == (str(tmp_path.resolve() / "keys" / "audit_ed25519"),)
    with pytest.raises(InvalidInput, match="cannot read the inventory"):
        load_inventory(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"", "the file is empty"),
        (b"hosts: [a, b\n  - ]: :\n", "line 2: invalid YAML"),
        (b"- name: web1\n", "line 1: expected a mapping at the top level"),
        (b"defaults:\n  user: a\n", "line 1: hosts: Field required"),
        (b"hosts: []\n", "line 1: hosts: List should have at least 1 item"),
        (b"hosts:\n  - address: 10.0.0.1\n    user: a\n", "line 2: hosts.0.name: Field required"),
        (
            b"hosts:\n  - name: a\n    user: a\n    pasword: x\n",
            "line 4: hosts.0.pasword: Extra inputs are not permitted",
        ),
        (
            b"defaults:\n  user: a\nhosts:\n  - name: a\n  - name: b\n    port: 70000\n",
            "line 6: hosts.1.port: Input should be less than or equal to 65535",
        ),
        (b"hosts:\n  - name: a\n    user: a\n    port: '22'\n", "line 4: hosts.0.port"),
        (b"hosts:\n  - name: a\n    user: a\n    port: 0\n", "line 4: hosts.0.port"),
        (b"defaults:\n  timeout: -1\nhosts:\n  - name: a\n", "line 2: defaults.timeout"),
        (b"defaults:\n  colour: red\nhosts:\n  - name: a\n", "line 2: defaults.colour: Extra"),
        (b"hosts:\n  - name: web1\n    port: 22\n", "line 2: hosts.0: no user"),
        (
            b"defaults: {user: a}\nhosts:\n  - name: web1\n  - name: web1\n",
            "line 4: hosts.1.name: duplicate host name 'web1' (first at line 3)",
        ),
        (b"hosts:\n  - name: '  '\n    user: a\n", "line 2: hosts.0.name: String should have"),
    ],
)
def test_bad_inventories_name_the_line(text: bytes, expected: str) -> None:
    with pytest.raises(ContentError) as caught:
        parse_inventory(text, "hosts.yaml")
    assert str(caught.value).startswith("hosts.yaml: ")
    assert expected in str(caught.value)


# -- auditing many hosts --------------------------------------------------------------------


def read_passwd(source: FileSource) -> int:
    return len(source.read_bytes("/etc/passwd"))


def inventory_of(tmp_path: Path, sshd: LoopbackSshd, hosts: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        f"defaults:\n"
        f"  user: {sshd.user}\n"
        f"  key: {sshd.client_key}\n"
        f"  known_hosts: {sshd.known_hosts}\n"
        f"  connect_timeout: 1.5\n"
        f"  timeout: 5\n"
        f"hosts:\n{hosts}"
    )
    return path


def test_failing_hosts_are_reported_and_the_others_audited(
    sshd: LoopbackSshd, tmp_path: Path, hanging_port: int, closed_port: int
) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    stranger.write_private_key(str(tmp_path / "stranger"))
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    (tmp_path / "wrong_known_hosts").write_text(f"[127.0.0.1]:{sshd.port} {impostor}")
    port = sshd.port
    path = inventory_of(
        tmp_path,
        sshd,
        f"  - {{name: good1, address: 127.0.0.1, port: {port}}}\n"
        f"  - {{name: hangs, address: 127.0.0.1, port: {hanging_port}}}\n"
        f"  - {{name: impostor, address: 127.0.0.1, port: {port},"
        f" known_hosts: {tmp_path / 'wrong_known_hosts'}}}\n"
        f"  - {{name: stranger, address: 127.0.0.1, port: {port}, key: stranger}}\n"
        f"  - {{name: closed, address: 127.0.0.1, port: {closed_port}}}\n"
        f"  - {{name: unknown, address: 127.0.0.1, port: {port},"
        f" known_hosts: {tmp_path / 'absent'}}}\n"
        f"  - {{name: good2, address: 127.0.0.1, port: {port}, tags: [x], asset: A-2}}\n",
    )
    finished: list[str] = []
    started = time.monotonic()
    outcomes = audit_hosts(
        load_inventory(path),
        read_passwd,
        max_concurrent=3,
        on_done=lambda outcome: finished.append(outcome.host.name),
    )
    elapsed = time.monotonic() - started
    by_name = {o.host.name: o for o in outcomes}
    names = ["good1", "hangs", "impostor", "stranger", "closed", "unknown", "good2"]
    assert [o.host.name for o in outcomes] == names  # the inventory's order
    assert sorted(finished) == sorted(names)  # each reported once, as it finished
    expected = len(Path("/etc/passwd").read_bytes())
    for good in ("good1", "good2"):
        assert by_name[good].ok and by_name[good].result == expected
        assert by_name[good].error is None and by_name[good].kind is None
        assert by_name[good].host_key_checked
    assert by_name["good2"].host.asset == "A-2"

    def failed(name: str, kind: FailureKind, *words: str) -> None:
        outcome = by_name[name]
        assert not outcome.ok and outcome.result is None
        assert outcome.kind is kind, outcome.error
        for word in words:
            assert word in (outcome.error or ""), outcome.error

    failed("hangs", FailureKind.TIMEOUT, f"127.0.0.1:{hanging_port}", "within 1.5s")
    assert 1.4 < by_name["hangs"].seconds < 4
    failed("impostor", FailureKind.HOST_KEY, "host key", f"127.0.0.1:{port}")
    failed("stranger", FailureKind.AUTH, "authentication failed", f"{sshd.user}@127.0.0.1")
    failed("closed", FailureKind.REFUSED, "connection refused", f"127.0.0.1:{closed_port}")
    failed("unknown", FailureKind.CONFIG, "known_hosts", "absent")
    assert elapsed < 6  # the hanging host cost its own timeout, nothing more


def test_turning_host_key_checks_off_is_visible(sshd: LoopbackSshd, tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    (tmp_path / "wrong").write_text(f"[127.0.0.1]:{sshd.port} {impostor}")
    path = inventory_of(
        tmp_path,
        sshd,
        f"  - {{name: h, address: 127.0.0.1, port: {sshd.port}, known_hosts: {tmp_path}/wrong}}\n",
    )
    [checked] = audit_hosts(load_inventory(path), read_passwd)
    assert checked.kind is FailureKind.HOST_KEY
    [unchecked] = audit_hosts(load_inventory(path), read_passwd, check_host_keys=False)
    assert unchecked.ok and not unchecked.host_key_checked
    assert unchecked.description.endswith("(host key NOT checked)")


def test_an_audit_that_raises_fails_its_host_only(sshd: LoopbackSshd, tmp_path: Path) -> None:
    path = inventory_of(
        tmp_path,
        sshd,
        "".join(f"  - {{name: h{n}, address: 127.0.0.1, port: {sshd.port}}}\n" for n in range(3)),
    )

    calls: list[int] = []
    lock = threading.Lock()

    def audit(source: FileSource) -> int:
        with lock:
            calls.append(1)
            first = len(calls) == 1
        if source.read_bytes("/etc/hostname") and first:
            raise RuntimeError("probe bug")
        return 1

    outcomes = audit_hosts(load_inventory(path), audit, max_concurrent=3)
    assert sorted(o.ok for o in outcomes) == [False, True, True]
    [broken] = [o for o in outcomes if not o.ok]
    assert broken.kind is FailureKind.AUDIT
    assert "probe bug" in (broken.error or "")


def test_the_concurrency_bound_holds(sshd: LoopbackSshd, tmp_path: Path) -> None:
    path = inventory_of(
        tmp_path,
        sshd,
        "".join(f"  - {{name: h{n}, address: 127.0.0.1, port: {sshd.port}}}\n" for n in range(8)),
    )
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def audit(source: FileSource) -> bool:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.1)
        exists = source.exists("/etc/passwd")
        with lock:
            running[0] -= 1
        return exists

    outcomes: list[HostOutcome[bool]] = audit_hosts(load_inventory(path), audit, max_concurrent=3)
    assert all(o.result for o in outcomes)
    assert running[1] == 3
    with pytest.raises(ValueError, match="at least 1"):
        audit_hosts(load_inventory(path), audit, max_concurrent=0)
