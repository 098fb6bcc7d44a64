"""Refusing early: oversized and nested bodies, ids no database holds, the concurrency guard, no-store.

The body limit and the CSRF gate are about what the server reads, which TestClient hides (it sends
whole bodies): those tests talk to a served uvicorn through a raw socket and check the answer comes
while most of the body is still unsent.
"""

from __future__ import annotations

import asyncio
import html
import io
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from sqlmodel import select as query
from starlette.types import Receive, Scope, Send

from app import cli
from app.accounts.models import Role, User
from app.accounts.models import Scope as TokenScope
from app.accounts.service import create_user
from app.accounts.tokens import create_token
from app.assessments import files as file_store
from app.assessments import service
from app.config import PROJECT_ROOT, Settings
from app.limits import ConcurrencyGuard
from app.main import create_app
from app.structures import service as structures
from tests.smtp import free_port
from tests.test_isolation import routes

pytestmark = pytest.mark.sqlite_only
PASSWORD = "une phrase de passe solide"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
HUGE = "99999999999999999999"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn on a free port (SQLite in a fresh folder); its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "AUTODIAG_DATA_DIR": str(tmp_path_factory.mktemp("served")),
        "AUTODIAG_ENVIRONMENT": "test",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], cwd=PROJECT_ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # until it listens: start-up takes a few seconds on a busy machine
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def send_until_answered(url: str, head: str, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send `head` then `chunks` until the server answers; (the answer's first bytes, body bytes sent)."""
    port = int(url.rsplit(":", 1)[1])
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        raw.sendall(head.encode())
        pending = b""
        while True:  # send only when the socket takes more, and stop as soon as an answer is there
            readable, writable, _ = select.select([raw], [raw], [], 30)
            if readable or not writable:
                break
            pending = pending or next(chunks, b"")
            if not pending:
                break
            try:
                done = raw.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent, pending = sent + done, pending[done:]
        answer = b""
        while not complete(answer) and select.select([raw], [], [], 30)[0]:
            try:
                received = raw.recv(65536)
            except ConnectionResetError:
                break
            if not received:
                break
            answer += received
        return answer, sent


def complete(answer: bytes) -> bool:
    """Whether `answer` holds a whole response: its headers and as many bytes as they announce."""
    headers, found, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"content-length: (\d+)", headers, re.IGNORECASE)
    return bool(found and length and len(body) >= int(length.group(1)))


def chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A chunked body of `total` bytes (never its final empty chunk: the body stays unfinished)."""
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + b"a" * size + b"\r\n"


def head(path: str, *, cookie: str = "", length: int | None = None) -> str:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    cookies = f"Cookie: {cookie}\r\n" if cookie else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookies}"
        f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
    )


def test_a_declared_huge_body_is_refused_413_before_any_of_it_is_sent(served: str) -> None:
    answer, sent = send_until_answered(served, head("/connexion", length=300 * MiB), iter(()))
    assert answer.startswith(b"HTTP/1.1 413")
    page = answer.partition(b"\r\n\r\n")[2].decode()
    assert '<html lang="fr">' in page
    assert "<h1>Envoi trop volumineux</h1>" in page
    assert "dépasse la taille permise (1 Mo)" in page
    assert '<link rel="stylesheet" href="/static/app.css">' in page
    assert sent == 0


def test_the_refusal_page_speaks_the_visitors_language(served: str) -> None:
    request = head("/connexion", length=300 * MiB).replace("\r\n\r\n", "\r\nAccept-Language: en\r\n\r\n")
    answer, _ = send_until_answered(served, request, iter(()))
    page = answer.partition(b"\r\n\r\n")[2].decode()
    assert '<html lang="en">' in page
    assert "<h1>Request too large</h1>" in page
    assert '<a href="/">Home</a>' in page


def test_an_anonymous_post_without_a_session_is_refused_403_unread(served: str) -> None:
    answer, sent = send_until_answered(served, head("/connexion"), chunked(200 * MiB))
    assert answer.startswith(b"HTTP/1.1 403")
    assert sent < 20 * MiB  # out of 200: refused on its headers, before its body


def test_a_streamed_form_is_cut_off_413_once_past_its_limit(served: str) -> None:
    with httpx.Client(base_url=served) as client:
        client.get("/connexion")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    answer, sent = send_until_answered(served, head("/connexion", cookie=cookie), chunked(200 * MiB))
    assert answer.startswith(b"HTTP/1.1 413")
    assert sent < 20 * MiB


@pytest.fixture
def director(app: FastAPI) -> TestClient:
    with Session(app.state.engine) as session:
        create_user(session, email="d@example.org", name="D", role=Role.DIRECTOR, password=PASSWORD)
    client = TestClient(app, follow_redirects=False)
    token = CSRF_FIELD.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    form = {"email": "d@example.org", "password": PASSWORD, "csrf_token": token}
    assert client.post("/connexion", data=form).status_code == 303
    return client


def csrf(client: TestClient) -> str:
    return CSRF_FIELD.search(client.get("/compte").text).group(1)  # type: ignore[union-attr]


def test_forms_take_1_mb_but_uploads_take_the_upload_limit(app: FastAPI, director: TestClient) -> None:
    headers = {"X-CSRF-Token": csrf(director)}
    form = director.post("/langue", data={"langue": "fr", "suivant": "x" * (2 * MiB)}, headers=headers)
    assert form.status_code == 413
    assert "1 Mo" in form.text
    upload_routes = {route.path for route in app.state.upload_routes}  # type: ignore[attr-defined]
    assert upload_routes == {
        "/autoevaluations/{assessment_id}/preuves",
        "/autoevaluations/{assessment_id}/classeur",
    }
    big = director.post(
        "/autoevaluations/1/preuves",
        files={"fichier": ("a.pdf", b"%PDF" + b" " * (2 * MiB))},
        headers=headers,
    )
    assert big.status_code == 404  # past the body limit: the assessment does not exist


def test_deeply_nested_json_is_422_with_a_message(app: FastAPI) -> None:
    with Session(app.state.engine) as session:
        user = create_user(session, email="t@example.org", name="T", role=Role.AUDITOR, password=PASSWORD)
        _token, secret = create_token(session, user=user, name="t", scopes=[TokenScope.CATALOG.value], days=1)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    answer = TestClient(app).post("/api/v1/score", content=b"[" * 200_000, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [
        {"field": "body", "message": "nested deeper than 32 levels at line 1"}
    ]


def test_every_integer_id_beyond_the_database_range_is_404(app: FastAPI, director: TestClient) -> None:
    token = csrf(director)
    checked = 0
    for route in routes(app):
        names = re.findall(r"{(\w+)}", route.path)
        if not any(name.endswith("_id") for name in names):
            continue
        path = route.path
        for name in names:
            path = path.replace(f"{{{name}}}", HUGE if name.endswith("_id") else "x")
        for method in route.methods - {"HEAD"}:
            answer = director.request(method, path, headers={"X-CSRF-Token": token})
            assert answer.status_code == 404, (method, route.path)
            checked += 1
    assert checked > 40
    assert director.get("/autoevaluations/99999999999999999999").status_code == 404
    assert director.get(f"/structures/{HUGE}/profil").status_code == 404
    assert director.get(f"/preuves/{HUGE}/fichier").status_code == 404


def test_pages_are_never_stored_by_the_browser_but_static_files_may_be(director: TestClient) -> None:
    assert director.get("/compte").headers["Cache-Control"] == "no-store"
    assert director.get("/structures").headers["Cache-Control"] == "no-store"
    assert "no-store" not in director.get("/static/app.css").headers.get("Cache-Control", "")


def test_past_capacity_the_guard_answers_503_with_retry_after_at_once() -> None:
    release = asyncio.Event()
    started: list[str] = []

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        started.append(scope["path"])
        await release.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = ConcurrencyGuard(slow, running=1, waiting=1, wait_seconds=30, retry_after=2)

    async def drill() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=guard)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.ensure_future(client.get("/a"))
            second = asyncio.ensure_future(client.get("/b"))
            while not started:
                await asyncio.sleep(0)
            refused = await client.get("/c")  # one running, one waiting: no room
            assert not second.done()
            release.set()
            return [await first, await second, refused]

    # A thread of its own: a test run before this one (Playwright's sync API) may leave an event loop
    # set on the main thread, and asyncio.run refuses to start inside one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        first, second, refused = pool.submit(asyncio.run, drill()).result()
    assert (first.status_code, second.status_code) == (204, 204)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "2"
    assert refused.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Service très sollicité</h1>" in refused.text
    assert "Réessayez dans quelques secondes : rien n&#39;a été enregistré." in refused.text
    assert started == ["/a", "/b"]


def office_document(entries: dict[str, bytes]) -> bytes:
    """A .docx: the parts a Word document starts with, and `entries`."""
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override '
        'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.document.main+xml"/></Types>'
    )
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("word/document.xml", "<w:document/>")
        for name, data in entries.items():
            archive.writestr(name, data)
    return packed.getvalue()


def test_an_office_document_unpacking_past_the_limits_is_refused_and_nothing_is_kept(
    app: FastAPI, director: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_store, "MAX_OFFICE_UNPACKED", MiB)
    monkeypatch.setattr(file_store, "MAX_OFFICE_ENTRIES", 10)
    with Session(app.state.engine) as session:
        user = session.exec(query(User).where(User.email == "d@example.org")).one()
        structure = structures.create(session, name="S", city="Lille")
        structures.add_member(session, structure=structure, user=user)
        draft = service.start(
            session, catalog=app.state.catalog, structure=structure, user=user, questionnaire_ref="full"
        )
    headers = {"X-CSRF-Token": csrf(director)}
    address = f"/autoevaluations/{draft.id}/preuves"
    bomb = office_document({"word/media/zeros.bin": b"\0" * (2 * MiB)})  # 2 MB of zeros in 2 KB
    many = office_document({f"word/media/{n}.xml": b"<a/>" for n in range(10)})
    for document in (bomb, many):
        form = {"critere": "DEO-01", "titre": "Charte"}
        files = {"fichier": ("charte.docx", document)}
        refused = director.post(address, data=form, files=files, headers=headers)
        assert refused.status_code == 422
        assert "se décompresse en plus de 1 Mo ou compte plus de 10 éléments" in html.unescape(refused.text)
    assert [p for p in app.state.settings.evidence_dir.rglob("*") if p.is_file()] == []
    fine = office_document({"word/media/small.xml": b"<a/>"})
    files = {"fichier": ("charte.docx", fine)}
    accepted = director.post(
        address, data={"critere": "DEO-01", "titre": "Charte"}, files=files, headers=headers
    )
    assert accepted.status_code == 303


@pytest.fixture
def broken_catalog(tmp_path: Path) -> Path:
    """The test catalog with a 5,000-character title, 20,000 nested brackets and a 3 MB file."""
    root = tmp_path / "broken"
    shutil.copytree(Path(__file__).parent / "fixtures" / "catalog", root)
    criteria = root / "criteria/mini/1.1.0.yaml"
    text = criteria.read_text(encoding="utf-8")
    title = re.search(r"^(\s+title: )(.+)$", text, re.MULTILINE)
    assert title is not None
    criteria.write_text(text.replace(title.group(0), title.group(1) + "x" * 5000, 1), encoding="utf-8")
    (root / "questionnaires/mini-full/1.0.0.yaml").write_text("id: " + "[" * 20_000, encoding="utf-8")
    (root / "questionnaires/mini-full/1.1.0.yaml").write_bytes(b"id: x\n" + b"#" * (3 * MiB))
    return root


def test_criteria_validate_refuses_nested_huge_and_overlong_files_one_line_each(
    broken_catalog: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["autodiag", "criteria", "validate", "--path", str(broken_catalog)])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out, err = capsys.readouterr()
    assert exited.value.code == 2
    lines = err.strip().splitlines()
    assert "questionnaires/mini-full/1.0.0.yaml: nested deeper than 32 levels at line 1" in lines
    assert "questionnaires/mini-full/1.1.0.yaml: larger than 2 MB: refused unread" in lines
    assert any("String should have at most 4000 characters" in line for line in lines), lines
    assert "Traceback" not in err + out
    assert len(lines) < 10


def test_the_pool_has_a_connection_for_each_running_request_and_no_overflow(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, environment="test", max_running_requests=3)
    app = create_app(settings)
    assert (app.state.engine.pool.size(), app.state.engine.pool._max_overflow) == (7, 0)
    assert settings.worker_threads == 11
