"""Input rules for slugs, names, kinds, roles and emails."""

from __future__ import annotations

import pytest

from assay.accounts.service import clean_email
from assay.errors import InvalidInput
from assay.tenancy.models import OrgKind, Role
from assay.tenancy.validation import clean_name, clean_slug, parse_kind, parse_role


@pytest.mark.parametrize("slug", ["a", "client-a", "x1", "a" * 63])
def test_good_slugs(slug: str) -> None:
    assert clean_slug(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "-a", "a-", "A", "a_b", "a b", "a" * 64, "../etc", "é", "a\x00b", "<script>"]
)
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(InvalidInput, match="invalid slug"):
        clean_slug(slug)


def test_names_are_trimmed_and_limited() -> None:
    assert clean_name("  Contoso   Dental ") == "Contoso Dental"
    with pytest.raises(InvalidInput):
        clean_name("   ")
    with pytest.raises(InvalidInput):
        clean_name("x" * 201)


def test_kinds_and_roles() -> None:
    assert parse_kind("client") is OrgKind.CLIENT
    assert parse_role("it_operator") is Role.IT_OPERATOR
    with pytest.raises(InvalidInput, match="unknown organization kind"):
        parse_kind("vendor")
    with pytest.raises(InvalidInput, match="unknown role"):
        parse_role("root")


@pytest.mark.parametrize("email", ["", "no-at", "a@b", "@example.org", "a b@example.org"])
def test_bad_emails(email: str) -> None:
    with pytest.raises(InvalidInput):
        clean_email(email)


def test_emails_are_lowercased() -> None:
    assert clean_email(" Ada@Example.ORG ") == "ada@example.org"
