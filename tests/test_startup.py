"""Starting up: workers started together on a fresh development database, the catalog parsed once."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app.catalog.loader import load_catalog
from app.config import PROJECT_ROOT
from app.db import make_engine
from tests.postgres import PostgresServer

_FRESH = itertools.count(1)
# Each process imports the app, says it is ready, then waits for the word to open the database:
# both start migrating at the same moment.
WORKER = """
import sys, time
from pathlib import Path
from app.config import Settings
from app.db import open_database
ready, go = Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.005)
open_database(Settings(database_url=sys.argv[1], data_dir=sys.argv[4], environment="development")).dispose()
"""


def fresh_database(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if database_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"fresh_{next(_FRESH)}"
    server.execute(f"CREATE DATABASE {name}")
    return server.url(name)


def test_two_workers_starting_together_on_a_fresh_database_both_start(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = fresh_database(database_kind, tmp_path, request)
    go = tmp_path / "go"
    workers = []
    for number in (1, 2):
        ready = tmp_path / f"ready-{number}"
        command = [sys.executable, "-c", WORKER, url, str(ready), str(go), str(tmp_path)]
        workers.append((ready, subprocess.Popen(command, cwd=PROJECT_ROOT, stderr=subprocess.PIPE)))
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready, _ in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    for _, worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors.decode()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert len(versions) == 1  # migrated once, to one head
        assert "answer" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_catalog_is_parsed_once_for_the_same_files_and_again_when_one_changes(tmp_path: Path) -> None:
    for kind in ("criteria", "questionnaires"):
        subprocess.run(["cp", "-r", str(PROJECT_ROOT / kind), str(tmp_path / kind)], check=True)
    first = load_catalog(tmp_path)
    assert load_catalog(tmp_path) is first
    translation = tmp_path / "questionnaires" / "full" / "1.0.0.en.yaml"
    translation.write_text(translation.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_catalog(tmp_path) is not first


FREEZING = """
import gc, sys
from fastapi.testclient import TestClient
from app.config import Settings
from app.main import create_app
for environment in ("test", "development"):
    settings = Settings(data_dir=sys.argv[1] + "/" + environment, environment=environment, mail_worker=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        print(environment, gc.get_freeze_count())
"""


@pytest.mark.sqlite_only
def test_a_served_worker_leaves_what_start_up_built_out_of_full_collections(tmp_path: Path) -> None:
    """A full collection walked the catalog, templates and routes each time (about 200 ms of a
    stalled worker); a served app freezes them once started (`gc.freeze`), tests' apps do not."""
    done = subprocess.run(
        [sys.executable, "-c", FREEZING, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    counts = dict(line.split() for line in done.stdout.splitlines())
    assert counts["test"] == "0"
    assert int(counts["development"]) > 100_000  # the start-up's objects, frozen
