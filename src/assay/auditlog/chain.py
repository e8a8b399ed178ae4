"""Pure hashing for the audit chain: canonical JSON, change digests and chained event hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def change_digest(detail: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(detail))).hexdigest()


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical event fields."""
    return hashlib.sha256(
        prev_hash.encode("ascii") + b"\n" + canonical_json(dict(fields))
    ).hexdigest()


def hashed_fields(
    *,
    occurred_at: datetime,
    actor_user_id: int | None,
    actor_label: str,
    via: str,
    organization_id: int | None,
    action: str,
    object_type: str,
    object_id: str | None,
    digest: str,
) -> dict[str, Any]:
    """The fields an event hash covers (the change itself is covered through its digest)."""
    return {
        "occurred_at": format_time(occurred_at),
        "actor_user_id": actor_user_id,
        "actor_label": actor_label,
        "via": via,
        "organization_id": organization_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "digest": digest,
    }
