"""Drills against a served process (uvicorn in its own process, real HTTP), on SQLite and PostgreSQL.

- `kill -9` of the server while four browsers autosave: every autosave it acknowledged (200) is in
  the database afterwards, at that revision or a later one, and SQLite's file is intact;
- a backup taken while they autosave, restored: every autosave acknowledged before it began is there;
- concurrent edits of one answer from the same revision, in pairs: exactly one of each pair is
  written, the other gets 409 with the newer value; no update is lost;
- sessions: a copy of a cookie stops working once its session signs out, the others go on.
Each drill prints its figures (run with `-s` to read them).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from app.accounts.models import Role
from app.accounts.service import create_user
from app.assessments import service
from app.assessments.models import Answer
from app.backup.service import create_backup, restore_backup
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, pk
from app.structures import service as structures

PASSWORD = "une phrase de passe solide"
EMAIL = "directrice@example.org"
CRITERIA = ("DEO-01", "DEO-02", "DEO-03", "DEO-04")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def draft(app: FastAPI) -> int:
    """A director's draft assessment, made before the server starts."""
    with Session(app.state.engine) as session:
        owner = create_user(session, email=EMAIL, name="Directrice", role=Role.DIRECTOR, password=PASSWORD)
        structure = structures.create(session, name="Médiation Est")
        structures.add_member(session, structure=structure, user=owner)
        found = service.start(
            session, catalog=app.state.catalog, structure=structure, user=owner, questionnaire_ref="full"
        )
        return pk(found)


@pytest.fixture
def served(database_url: str, tmp_path: Path, draft: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The app served by uvicorn in a process of its own, on the test's database and data folder."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = os.environ | {
        "AUTODIAG_ENVIRONMENT": "test",
        "AUTODIAG_DATA_DIR": str(tmp_path),
        "AUTODIAG_DATABASE_URL": database_url,
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=environment, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def browser(base: str) -> tuple[httpx.Client, str]:
    """A signed-in browser and its CSRF token."""
    client = httpx.Client(base_url=base, timeout=30)
    token = CSRF_FIELD.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    signed = client.post("/connexion", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 303
    return client, CSRF_FIELD.search(client.get("/compte").text).group(1)  # type: ignore[union-attr]


def autosave(client: httpx.Client, token: str, draft: int, criterion: str, revision: int) -> int:
    """One htmx autosave based on `revision`; its status."""
    response = client.post(
        f"/autoevaluations/{draft}/reponses/{criterion}",
        data={"niveau": str(revision % 4), "revision": str(revision), "commentaire": f"n° {revision + 1}"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    return response.status_code


def stored_revisions(database_url: str, draft: int) -> dict[str, int]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        found = {
            a.criterion_id: a.revision
            for a in session.exec(select(Answer).where(Answer.assessment_id == draft))
        }
    engine.dispose()
    return found


class Writers:
    """Four browsers autosaving one answer each, as fast as the server answers, until stopped."""

    def __init__(self, base: str, draft: int) -> None:
        self.acknowledged: dict[str, int] = dict.fromkeys(CRITERIA, 0)
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(base, draft, c)) for c in CRITERIA]

    def _run(self, base: str, draft: int, criterion: str) -> None:
        client, token = browser(base)
        try:
            while not self.stop.is_set():
                try:
                    status = autosave(client, token, draft, criterion, self.acknowledged[criterion])
                except httpx.TransportError:
                    return  # the server is gone
                if status != 200:
                    self.errors.append(f"{criterion}: {status}")
                    return
                self.acknowledged[criterion] += 1
        finally:
            client.close()

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def wait_for(self, total: int) -> dict[str, int]:
        deadline = time.monotonic() + 120
        while sum(self.acknowledged.values()) < total and time.monotonic() < deadline:
            if not any(thread.is_alive() for thread in self.threads):
                break
            time.sleep(0.01)
        return dict(self.acknowledged)


def test_kill_9_during_autosaves_and_a_backup_under_load_lose_nothing_acknowledged(
    served: tuple[str, subprocess.Popen[bytes]],
    draft: int,
    database_url: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    database_kind: str,
    request: pytest.FixtureRequest,
) -> None:
    base, process = served
    settings = Settings(environment="test", data_dir=tmp_path, database_url=database_url)
    with Writers(base, draft) as writers:
        before_backup = writers.wait_for(60)
        archive, _ = create_backup(settings=settings, destination=tmp_path_factory.mktemp("backups"))
        after_backup = writers.wait_for(sum(before_backup.values()) + 60)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        acknowledged = dict(writers.acknowledged)  # nothing more can be acknowledged: the server is dead
    assert writers.errors == []
    stored = stored_revisions(database_url, draft)
    lost = {c: (n, stored.get(c, 0)) for c, n in acknowledged.items() if stored.get(c, 0) < n}
    print(
        f"\n[{database_kind}] kill -9 after {sum(acknowledged.values())} acknowledged autosaves: {len(lost)} lost"
    )
    assert lost == {}
    if database_kind == "sqlite":
        path = make_url(database_url).database
        with sqlite3.connect(str(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sum(after_backup.values()) > sum(before_backup.values())
    restored_url = _empty_database(database_kind, tmp_path_factory, request)
    restored = Settings(environment="test", data_dir=restored_url[0], database_url=restored_url[1])
    restore_backup(archive=archive, settings=restored)
    in_backup = stored_revisions(restored_url[1], draft)
    missing = {c: n for c, n in before_backup.items() if in_backup.get(c, 0) < n}
    print(
        f"[{database_kind}] backup under load: {sum(before_backup.values())} acknowledged before it, "
        f"{sum(in_backup.values())} in it, {len(missing)} missing"
    )
    assert missing == {}


def _empty_database(
    database_kind: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("restored")
    if database_kind == "sqlite":
        return folder / "data", f"sqlite:///{folder / 'data' / 'autodiag.sqlite3'}"
    server: Any = request.getfixturevalue("postgres")
    name = f"drill_{folder.name.replace('-', '_')}"
    server.execute(f"CREATE DATABASE {name}")
    return folder / "data", server.url(name)


def test_concurrent_edits_from_one_revision_never_lose_an_update(
    served: tuple[str, subprocess.Popen[bytes]], draft: int, database_url: str, database_kind: str
) -> None:
    base, _process = served
    (first, first_token), (second, second_token) = browser(base), browser(base)
    pairs, outcomes = 25, []
    for revision in range(pairs):
        outcomes.append(race([(first, first_token), (second, second_token)], draft, revision))
    first.close()
    second.close()
    print(
        f"\n[{database_kind}] {pairs} concurrent edit pairs: {outcomes.count([200, 409])} with one 200 and one 409"
    )
    assert outcomes == [[200, 409]] * pairs
    assert stored_revisions(database_url, draft) == {"DEO-01": pairs}


def race(browsers: list[tuple[httpx.Client, str]], draft: int, revision: int) -> list[int]:
    """The browsers autosave DEO-01 at once, all from `revision`; their statuses, sorted."""
    statuses: list[int] = []
    gate = threading.Barrier(len(browsers))

    def write(client: httpx.Client, token: str) -> None:
        gate.wait()
        statuses.append(autosave(client, token, draft, "DEO-01", revision))

    threads = [threading.Thread(target=write, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.mark.sqlite_only  # the sessions' queries run on both databases in tests/accounts/test_sessions.py
def test_a_signed_out_sessions_cookie_stops_working_and_the_others_go_on(
    served: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, _process = served
    (leaving, token), (staying, _) = browser(base), browser(base)
    copy = httpx.Client(base_url=base, cookies=dict(leaving.cookies))
    assert copy.get("/compte").status_code == 200
    assert leaving.post("/deconnexion", data={"csrf_token": token}).status_code == 303
    refused = copy.get("/compte")
    assert (refused.status_code, refused.headers["location"]) == (303, "/connexion?suivant=%2Fcompte")
    assert staying.get("/compte").status_code == 200
    for client in (leaving, staying, copy):
        client.close()
