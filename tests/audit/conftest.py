"""Fixtures for host audit tests: fixture roots built under tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.audit.trees import OwnedSource, make_source

MakeRoot = Callable[[dict[str, Any]], OwnedSource]


@pytest.fixture
def make_root(tmp_path: Path) -> MakeRoot:
    """Build a tree spec under a fresh directory and return a source confined to it."""
    count = 0

    def make(spec: dict[str, Any]) -> OwnedSource:
        nonlocal count
        count += 1
        return make_source(tmp_path / f"root{count}", spec)

    return make
