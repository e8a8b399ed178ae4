"""Identifiers and fields: normalized so that one host maps to one asset; bad values refused
with a message that names the problem."""

from __future__ import annotations

import pytest

from assay.assets.models import IdentifierKind
from assay.assets.validation import (
    MAX_TAGS,
    AssetInput,
    clean_asset,
    clean_description,
    clean_identifiers,
    clean_owner,
    clean_tags,
    normalize_identifier,
    parse_kind,
    split_identifiers,
    split_tags,
)
from assay.errors import InvalidInput


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("hostname", "WEB1", "web1"),
        ("hostname", " Web1.Example.COM. ", "web1.example.com"),
        ("hostname", "dc_01.corp.local", "dc_01.corp.local"),
        ("hostname", "bücher.example", "xn--bcher-kva.example"),
        ("fqdn", "Mail.Example.org.", "mail.example.org"),
        ("ip", "10.0.0.5", "10.0.0.5"),
        ("ip", " 2001:DB8:0:0::1 ", "2001:db8::1"),
        ("ip", "[fe80::1]", "fe80::1"),
        ("ip", "::ffff:10.0.0.5", "10.0.0.5"),
        ("mac", "AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"),
        ("mac", "aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
        ("mac", "AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff"),
        ("url", "HTTPS://Portal.Example.com:443", "https://portal.example.com/"),
        ("url", "http://Host:8080/a/B?x=1#frag", "http://host:8080/a/B?x=1"),
        ("url", "https://[2001:db8::1]/", "https://[2001:db8::1]/"),
        ("cloud_id", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0ABC", None),
        (
            "cloud_id",
            "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ),
        (
            "cloud_id",
            "/subscriptions/ABC/resourceGroups/RG",
            "/subscriptions/abc/resourcegroups/rg",
        ),
        ("other", "  asset   tag 42 ", "asset tag 42"),
        ("IP", "10.0.0.5", "10.0.0.5"),  # kinds are case-insensitive
    ],
)
def test_identifiers_are_normalized(kind: str, value: str, expected: str | None) -> None:
    parsed, normalized = normalize_identifier(kind, value)
    assert parsed is IdentifierKind(kind.lower())
    assert normalized == (expected if expected is not None else value.strip())


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("ip", "999.1.1.1", "not an IP address"),
        ("ip", "10.0.0.0/24", "is a network"),
        ("ip", "010.000.000.005", "not an IP address"),
        ("ip", "", "not an IP address"),
        ("hostname", "10.0.0.5", "is an IP address: give it as ip:10.0.0.5"),
        ("hostname", "web 1", "not a valid hostname"),
        ("hostname", "-web", "not a valid hostname"),
        ("hostname", "a" * 64 + ".example", "not a valid hostname"),
        ("hostname", ".".join(["a" * 60] * 5), "not a valid hostname"),
        ("hostname", "", "hostname is empty"),
        ("fqdn", "web1", "not fully qualified"),
        ("mac", "aa:bb:cc:dd:ee", "not a MAC address"),
        ("mac", "aa:bb-cc:dd:ee:ff", "not a MAC address"),
        ("mac", "gg:bb:cc:dd:ee:ff", "not a MAC address"),
        ("url", "portal.example.com", "not a URL"),
        ("url", "https://user:secret@portal.example.com/", "user name or password"),
        ("url", "https://host:99999/", "not a valid URL"),
        ("cloud_id", "two words", "without spaces"),
        ("other", "   ", "empty"),
        ("other", "a;b", "must not contain ';'"),
        ("other", "x\x00y", "control characters"),
        ("other", "x" * 501, "longer than 500"),
        ("serial", "123", "unknown identifier kind 'serial'"),
    ],
)
def test_bad_identifiers_are_refused_with_a_reason(kind: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")) as raised:
        normalize_identifier(kind, value)
    assert "\x00" not in raised.value.message


def test_an_identifier_given_twice_after_normalizing_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"ip:10\.0\.0\.5 is given twice"):
        clean_identifiers([("ip", "10.0.0.5"), ("ip", "::ffff:10.0.0.5")])


def test_identifier_lists_split_on_semicolons_and_lines_and_need_a_kind() -> None:
    assert split_identifiers("hostname:web1; ip:fe80::1\nurl:https://x/\n\n") == [
        ("hostname", "web1"),
        ("ip", "fe80::1"),
        ("url", "https://x/"),
    ]
    with pytest.raises(InvalidInput, match="needs a kind: write it as kind:value"):
        split_identifiers("web1")


def test_tags_are_short_lower_case_and_distinct() -> None:
    assert clean_tags(split_tags("DMZ; pci,  Payment   Cards ;dmz")) == [
        "dmz",
        "pci",
        "payment cards",
    ]
    with pytest.raises(InvalidInput, match="longer than 40"):
        clean_tags(["x" * 41])
    with pytest.raises(InvalidInput, match="may hold letters"):
        clean_tags(["<script>"])
    with pytest.raises(InvalidInput, match="may hold letters"):
        clean_tags(["=cmd"])
    with pytest.raises(InvalidInput, match=f"at most {MAX_TAGS}"):
        clean_tags([f"t{i}" for i in range(MAX_TAGS + 1)])


def test_text_fields_are_bounded_and_free_of_control_characters() -> None:
    assert clean_owner("  Ops  Team ") == "Ops Team"
    assert clean_owner("") is None
    with pytest.raises(InvalidInput, match="at most 254"):
        clean_owner("o" * 255)
    with pytest.raises(InvalidInput, match="control characters"):
        clean_owner("ops\x07")
    assert clean_description("line 1\r\nline 2\ttabbed ") == "line 1\nline 2\ttabbed"
    with pytest.raises(InvalidInput, match="at most 4000"):
        clean_description("d" * 4001)
    with pytest.raises(InvalidInput, match="control characters"):
        clean_description("nul\x00")


def test_choices_are_forgiving_about_case_and_spelling_but_not_values() -> None:
    assert parse_kind("Cloud Account") == "cloud_account"
    assert parse_kind("network-device") == "network_device"
    with pytest.raises(InvalidInput, match=r"unknown asset kind 'spaceship' \(use host, "):
        parse_kind("spaceship")
    with pytest.raises(InvalidInput, match="asset kind is required"):
        parse_kind(" ")


def test_a_whole_asset_is_checked_field_by_field() -> None:
    data = clean_asset(
        AssetInput(
            name="  Web   1 ",
            kind="host",
            criticality="HIGH",
            tags=["DMZ"],
            identifiers=[("hostname", "WEB1")],
        )
    )
    assert (data.name, data.kind, data.criticality, data.data_classification) == (
        "Web 1",
        "host",
        "high",
        "internal",
    )
    assert data.tags == ("dmz",) and data.identifiers == ((IdentifierKind.HOSTNAME, "web1"),)
    with pytest.raises(InvalidInput, match="asset name must not be empty"):
        clean_asset(AssetInput(name=" ", kind="host"))
    with pytest.raises(InvalidInput, match="at most 200"):
        clean_asset(AssetInput(name="n" * 201, kind="host"))
    with pytest.raises(InvalidInput, match="control characters"):
        clean_asset(AssetInput(name="web\x1b[31m", kind="host"))
