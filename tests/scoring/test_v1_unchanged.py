"""Every 1.0.0 result is what the scoring core returned before scoring v2 was written.

The stored results (`tests/fixtures/scoring/v1_results.json`) were computed from the code as it was
before the v2 rules; later versions may add keys to a result, never change or drop one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.scoring.v1_cases import STORED, cases

EXPECTED: dict[str, Any] = json.loads(STORED.read_text(encoding="utf-8"))


def contained(stored: Any, now: Any, where: str = "") -> list[str]:
    """Where `now` differs from `stored`, ignoring keys that `stored` does not have."""
    if isinstance(stored, dict) and isinstance(now, dict):
        return [
            d for key in stored for d in contained(stored[key], now.get(key, "<missing>"), f"{where}.{key}")
        ]
    if isinstance(stored, list) and isinstance(now, list) and len(stored) == len(now):
        return [
            d
            for i, (a, b) in enumerate(zip(stored, now, strict=True))
            for d in contained(a, b, f"{where}[{i}]")
        ]
    return [] if stored == now else [f"{where}: {stored!r} became {now!r}"]


@pytest.fixture(scope="module")
def computed() -> dict[str, dict[str, Any]]:
    return cases()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_v1_result_is_unchanged(name: str, computed: dict[str, dict[str, Any]]) -> None:
    assert contained(EXPECTED[name], computed[name]) == []


def test_stored_cases_cover_every_verdict() -> None:
    assert {case["verdict"] for case in EXPECTED.values()} == {"pret", "presque_pret", "pas_pret"}
    assert {case["scoring_version"] for case in EXPECTED.values()} == {"1.0", "t1"}
