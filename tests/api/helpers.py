"""A structure with a submitted assessment (with a file as evidence), a draft, and people to read them."""

from __future__ import annotations

import io
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sqlmodel import Session

from app.accounts.models import Role, Scope, User
from app.accounts.service import create_user
from app.accounts.tokens import create_token
from app.assessments import evidence, files
from app.assessments import service as assessments
from app.assessments.snapshot import submit
from app.db import pk
from app.structures import service as structures
from app.structures.models import Structure
from tests.reports.helpers import PASSWORD, answer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "files"
ALL_SCOPES = [scope.value for scope in Scope]


@dataclass
class World:
    structure_id: int
    submitted_id: int
    draft_id: int
    evidence_id: int
    director: User
    auditor: User


def seed(app: FastAPI, *, grant: bool = True) -> World:
    """Structure « Nord » of d@example.org: an express assessment submitted with a PDF, a draft."""
    catalog, settings = app.state.catalog, app.state.settings
    with Session(app.state.engine, expire_on_commit=False) as session:
        director = create_user(
            session, email="d@example.org", name="D", role=Role.DIRECTOR, password=PASSWORD
        )
        auditor = create_user(session, email="a@example.org", name="A", role=Role.AUDITOR, password=PASSWORD)
        structure = structures.create(session, name="Nord", city="Lille")
        structures.add_member(session, structure=structure, user=director)
        submitted = assessments.start(
            session, catalog=catalog, structure=structure, user=director, questionnaire_ref="express"
        )
        for criterion_id in catalog.questionnaire("express").criterion_ids:
            answer(session, catalog, assessment=submitted, user=director, criterion_id=criterion_id, level=2)
        pdf = (FIXTURES / "charte.pdf").read_bytes()
        stored = files.store_file(settings.evidence_dir, io.BytesIO(pdf), max_bytes=len(pdf))
        piece = evidence.add(
            session, structure=structure, user=director, title="Charte", stored=stored, filename="charte.pdf"
        )
        criterion = catalog.questionnaire("express").criterion_ids[0]
        evidence.attach(
            session, assessment=submitted, evidence=piece, criterion_id=criterion, covers=[], user=director
        )
        submit(
            session,
            catalog=catalog,
            assessment=submitted,
            structure=structure,
            user=director,
            signer=app.state.signer,
        )
        draft = assessments.start(
            session, catalog=catalog, structure=structure, user=director, questionnaire_ref="full"
        )
        if grant:
            grant_for(session, structure, auditor, director)
        return World(pk(structure), pk(submitted), pk(draft), pk(piece), director, auditor)


def grant_for(session: Session, structure: Structure, auditor: User, director: User) -> None:
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    structures.grant_auditor(
        session, structure=structure, email=auditor.email, expires_on=until, actor=director
    )


def token_for(app: FastAPI, user: User, scopes: list[str] | None = None, days: int = 30) -> str:
    with Session(app.state.engine) as session:
        _, secret = create_token(session, user=user, name="test", scopes=scopes or ALL_SCOPES, days=days)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@contextmanager
def live(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1, in a thread; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
