"""Server CPU time per request of the requests that matter, as ratios to a bare FastAPI endpoint.

    uv run python -m benchmarks.cpu [--requests 300] [--postgres]

Two servers, one uvicorn worker each, started in this run: the app on the demo data (SQLite, or a
throw-away PostgreSQL with --postgres) and a bare FastAPI endpoint returning 1 KB of HTML. Each
request is sent `--requests` times one after the other over a kept-alive connection, with
`Accept-Encoding: gzip` as a browser sends it; the CPU time the server process spent (read from
/proc) divided by the number of requests is its CPU per request. Targets (shared/design.md §10):
section page ≤ 5 ms (≤ 7× bare) and ≤ 80 KB of HTML, autosave ≤ 3 ms (≤ 4× bare), results page ≤ 4 ms
and flat in the number of evidence items, API listing of 50 snapshots ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx2 as httpx
from sqlmodel import Session, select

from app.accounts import sessions
from app.accounts.models import Role, User
from app.accounts.tokens import create_token
from app.assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Snapshot,
)
from app.db import make_engine
from benchmarks.served import (
    REVISION,
    ROOT,
    bare_server,
    cpu_seconds,
    environment,
    machine_load,
    server,
    session_cookie,
)

Request = Callable[[], httpx.Response]


def per_request(pid: int, request: Request, count: int) -> float:
    """Milliseconds of server CPU per request, after a warm-up."""
    for _ in range(20):
        request()
    began = cpu_seconds(pid)
    for _ in range(count):
        response = request()
        assert response.status_code < 400, (response.status_code, response.text[:300])
    return (cpu_seconds(pid) - began) / count * 1000


def demo_ids(database_url: str) -> dict[str, int]:
    """The demo director (id, session version), her draft and the submitted assessment."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        director = session.exec(select(User).where(User.email == "directrice@demo.autodiag.fr")).one()
        draft = session.exec(select(Assessment).where(Assessment.status == AssessmentStatus.DRAFT)).first()
        submitted = session.exec(
            select(Assessment).where(
                Assessment.status == AssessmentStatus.SUBMITTED, Assessment.structure_id == draft.structure_id
            )  # type: ignore[union-attr]
        ).first()
        auditor = session.exec(select(User).where(User.role == Role.AUDITOR)).one()
        _, secret = create_token(session, user=auditor, name="benchmark", scopes=["read:assessments"], days=1)
        ids = {
            "user": director.id,
            "session": sessions.open_session(session, user=director, user_agent="benchmark"),
            "draft": draft.id,
            "submitted": submitted.id,
        }  # type: ignore[union-attr]
    engine.dispose()
    return ids | {"token": secret}  # type: ignore[dict-item]


def add_evidence(database_url: str, assessment_id: int, count: int) -> None:
    """`count` more pieces of evidence, each supporting an answered criterion of the assessment."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        assessment = session.get(Assessment, assessment_id)
        answered = [
            a.criterion_id for a in session.exec(select(Answer).where(Answer.assessment_id == assessment_id))
        ]
        for number in range(count):
            piece = Evidence(
                structure_id=assessment.structure_id,  # type: ignore[union-attr]
                kind=EvidenceKind.REFERENCE,
                title=f"Document {number:03}",
                document_date=date(2026, 1, 1),
                created_by=assessment.created_by,  # type: ignore[union-attr]
            )
            session.add(piece)
            session.flush()
            criterion = answered[number % len(answered)]
            session.add(
                EvidenceLink(assessment_id=assessment_id, criterion_id=criterion, evidence_id=piece.id)
            )  # type: ignore[arg-type]
        session.commit()
    engine.dispose()


def add_snapshots(database_url: str, assessment_id: int, total: int) -> None:
    """Copies of the assessment's snapshot under more revisions, so that a page holds `total`."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        first = session.exec(select(Snapshot).where(Snapshot.assessment_id == assessment_id)).first()
        assert first is not None
        for revision in range(first.revision + 1, first.revision + total):
            values = first.model_dump(exclude={"id", "revision"})
            session.add(Snapshot(**values, revision=revision))
        session.commit()
    engine.dispose()


def measure(url: str, pid: int, ids: dict[str, int], database_url: str, count: int) -> dict[str, float]:
    csrf = "benchmark-csrf"
    cookies = {"autodiag_session": session_cookie(ids["session"], csrf)}
    gzip = {"Accept-Encoding": "gzip"}
    figures: dict[str, float] = {}
    with httpx.Client(base_url=url, cookies=cookies, headers=gzip, timeout=60) as client:
        section = f"/autoevaluations/{ids['draft']}/sections/structuration"
        page = client.get(section)
        figures["section page HTML (KB)"] = len(page.content) / 1000
        figures["section page"] = per_request(pid, lambda: client.get(section), count)
        form = re.search(r'action="([^"]*/reponses/[A-Z]+-\d+)"', page.text)
        revision = [int(REVISION.search(page.text, form.end()).group(1))]  # type: ignore[union-attr]
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf}

        def autosave() -> httpx.Response:
            data = {"niveau": str(revision[0] % 4), "revision": str(revision[0])}
            response = client.post(form.group(1), headers=headers, data=data)  # type: ignore[union-attr]
            revision[0] = int(REVISION.search(response.text).group(1))  # type: ignore[union-attr]
            return response

        figures["autosave"] = per_request(pid, autosave, count)
        results = f"/autoevaluations/{ids['draft']}/resultats"
        figures["results page"] = per_request(pid, lambda: client.get(results), count)
        add_evidence(database_url, ids["draft"], 200)
        figures["results page, 200 more evidence items"] = per_request(
            pid, lambda: client.get(results), count
        )
    add_snapshots(database_url, ids["submitted"], 50)
    api_headers = {"Authorization": f"Bearer {ids['token']}", **gzip}
    with httpx.Client(base_url=url, headers=api_headers, timeout=60) as api:
        listing = f"/api/v1/assessments/{ids['submitted']}/snapshots?limit=50"
        assert len(api.get(listing).json()["items"]) == 50
        figures["API snapshot listing, 50"] = per_request(pid, lambda: api.get(listing), count)
    return figures


TARGETS = {
    "section page": 5.0,
    "autosave": 3.0,
    "results page": 4.0,
    "results page, 200 more evidence items": 4.0,
    "API snapshot listing, 50": 2.0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", action="store_true", help="the app on a throw-away PostgreSQL server")
    args = parser.parse_args()
    print(machine_load())
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        postgres = None
        database_url = f"sqlite:///{data / 'autodiag.sqlite3'}"
        if args.postgres:
            sys.path.insert(0, str(ROOT))
            from tests.postgres import PostgresServer

            postgres = PostgresServer()
            postgres.execute("CREATE DATABASE bench")
            database_url = postgres.url("bench")
        env = environment(data, database_url if args.postgres else "")
        autodiag = str(Path(sys.executable).with_name("autodiag"))
        subprocess.run(
            [autodiag, "demo"], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True
        )
        ids = demo_ids(database_url)
        try:
            with bare_server(data) as (bare_url, bare_pid), httpx.Client(base_url=bare_url) as bare:
                baseline = per_request(bare_pid, lambda: bare.get("/"), args.requests)
            with server(["app.main:create_app", "--factory"], env) as (url, pid):
                figures = measure(url, pid, ids, database_url, args.requests)
        finally:
            if postgres:
                postgres.stop()
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"server CPU per request, one uvicorn worker, {kind}, {args.requests} requests each")
    print(f"{'bare FastAPI endpoint (1 KB HTML)':42} {baseline:6.2f} ms")
    for name, value in figures.items():
        if name.endswith("(KB)"):
            print(f"{name:42} {value:6.1f} KB   (target ≤ 80 KB)")
            continue
        print(f"{name:42} {value:6.2f} ms = {value / baseline:5.1f}× bare   (target ≤ {TARGETS[name]:g} ms)")
    print(machine_load())


if __name__ == "__main__":
    main()
