"""The API served for real: Schemathesis over every operation, and the auditor's example client.

SQLite only (the database fixtures run them once): what they check is the HTTP contract.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from tests.api.helpers import World, bearer, live, seed, token_for

CLIENT = PROJECT_ROOT / "examples" / "auditor_client.py"
CASES: dict[str, int] = {}
"""How many cases Schemathesis sent to each operation, to check that the run was large enough."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, World]]:
    """A live server on its own SQLite file with the seeded world; yields (url, token, world)."""
    data_dir = tmp_path_factory.mktemp("live-api")
    app = create_app(Settings(data_dir=data_dir, environment="test", api_rate_limit_per_minute=1_000_000))
    world = seed(app)
    token = token_for(app, world.auditor)
    with live(app) as url:
        yield url, token, world


@pytest.fixture(scope="module")
def api_schema(server: tuple[str, str, World]) -> schemathesis.BaseSchema:
    url, _, _ = server
    return schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")


OPERATIONS = [
    f"{method.upper()} {path}"
    for path, methods in json.loads((PROJECT_ROOT / "examples" / "openapi.json").read_text())["paths"].items()
    for method in methods
]


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_keeps_its_contract(
    api_schema: schemathesis.BaseSchema, server: tuple[str, str, World], label: str
) -> None:
    """No 5xx; every answer matches its documented status, content type, headers and schema.

    `POST /score`: a document can match the schema and still name a criterion its questionnaire
    does not ask; that is a 422 by design, so only there may schema-valid data be refused.
    """
    url, token, _ = server
    method, path = label.split(" ")
    operation = api_schema[path][method]
    excluded = [positive_data_acceptance] if path == "/score" else []
    # A PDF takes seconds to lay out and its only input is the assessment's id: a few cases say it all.
    examples, timeout = (6, 120) if path.endswith(".pdf") else (90, 10)
    sent = 0

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        nonlocal sent
        case.call_and_validate(
            base_url=f"{url}/api/v1", headers=bearer(token), excluded_checks=excluded, timeout=timeout
        )
        sent += 1

    check()
    CASES[label] = sent


def test_schemathesis_sent_over_a_thousand_cases_to_every_operation() -> None:
    """Runs after the tests above (same module, in order)."""
    assert set(CASES) == set(OPERATIONS)
    assert sum(CASES.values()) >= 1000, CASES


def run_client(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTODIAG_TOKEN": os.environ.get("AUTODIAG_TOKEN", "")}
    return subprocess.run(
        [sys.executable, str(CLIENT), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_example_client_downloads_and_verifies_then_detects_tampering(
    server: tuple[str, str, World], tmp_path: Path
) -> None:
    url, token, world = server
    out = tmp_path / "audit"
    done = run_client("download", "--url", url, "--token", token, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: every snapshot and evidence file verifies" in done.stdout
    assert "1 evidence file(s) checked" in done.stdout
    folder = out / f"structure-{world.structure_id}" / f"assessment-{world.submitted_id}"
    evidence = next((folder / "evidence").iterdir())
    original = evidence.read_bytes()

    evidence.write_bytes(original + b"%")
    tampered = run_client("verify", str(out))
    expected, found = hashlib.sha256(original).hexdigest(), hashlib.sha256(original + b"%").hexdigest()
    assert tampered.returncode == 1
    assert f"MISMATCH {evidence}: expected sha256 {expected}, found {found}" in tampered.stdout

    evidence.write_bytes(original)
    snapshot = folder / "snapshot.json"
    content = json.loads(snapshot.read_bytes())
    content["result"]["verdict"] = "pret"
    snapshot.write_bytes(
        json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    )
    tampered = run_client("verify", str(out))
    assert tampered.returncode == 1
    assert f"MISMATCH {snapshot}: signature does not verify" in tampered.stdout
