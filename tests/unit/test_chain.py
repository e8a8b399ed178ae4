"""Hashing of audit events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from assay.auditlog.chain import (
    GENESIS_HASH,
    canonical_json,
    change_digest,
    event_hash,
    format_time,
    hashed_fields,
)


def fields(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "occurred_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "actor_user_id": 1,
        "actor_label": "a@example.org",
        "via": "cli",
        "organization_id": 3,
        "action": "member.add",
        "object_type": "membership",
        "object_id": "9",
        "digest": change_digest({"role": "admin"}),
    }
    base.update(overrides)
    return hashed_fields(**base)  # type: ignore[arg-type]


def test_canonical_json_ignores_key_order() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == canonical_json({"a": [1, "é"], "b": 1})


def test_time_is_normalized_to_utc() -> None:
    moment = datetime(2026, 1, 2, 5, 4, 5, 1, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2026-01-02T03:04:05.000001Z"


def test_hash_depends_on_every_field_and_on_the_previous_hash() -> None:
    reference = event_hash(GENESIS_HASH, fields())
    assert reference == event_hash(GENESIS_HASH, fields())
    for name, value in [
        ("actor_user_id", 2),
        ("actor_label", "b@example.org"),
        ("via", "web"),
        ("organization_id", 4),
        ("action", "member.remove"),
        ("object_type", "user"),
        ("object_id", "10"),
        ("digest", change_digest({"role": "auditor"})),
        ("occurred_at", datetime(2026, 1, 2, 3, 4, 5, 678902, tzinfo=UTC)),
    ]:
        assert event_hash(GENESIS_HASH, fields(**{name: value})) != reference, name
    assert event_hash("1" * 64, fields()) != reference


def test_digest_changes_with_the_change() -> None:
    assert change_digest({"role": "admin"}) != change_digest({"role": "Admin"})
    assert len(change_digest({})) == 64
