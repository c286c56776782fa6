"""Shared fixtures for the design tests: the stored R reference values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "values" / "design.json"


@pytest.fixture(scope="session")
def r_design() -> dict[str, Any]:
    """Output of tests/reference/r/design_reference.R (R 4.2.2, pwr 1.3.0, rpact 3.3.4)."""
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data
