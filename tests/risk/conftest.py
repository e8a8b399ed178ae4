"""The risk engine and `assay risk simulate` are pure: these tests need no database.

The suite's autouse fixtures (tests/conftest.py) migrate and empty a database around every
test; the no-op fixtures of the same names below replace them for this folder.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _environment() -> None:
    """No database to set up."""


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """No database to empty."""
