"""What the served benchmarks share: uvicorn servers, their CPU time read from /proc, a bare
endpoint to compare with, and directors in bulk with session cookies made without signing in.

CPU time is the server's own (user + system, the process and its worker processes), so a busy
machine, or the load generator sharing it, changes the figures much less than wall-clock time.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from itsdangerous import TimestampSigner
from sqlmodel import Session

from app.accounts import sessions
from app.accounts.models import Role, User
from app.assessments import service as assessments
from app.catalog.loader import load_catalog
from app.db import make_engine
from app.deps import SESSION_KEY
from app.structures.models import Membership, Structure
from app.web import CSRF_KEY, SESSION_COOKIE

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-key-that-is-long-enough-0123456789"
BARE_APP = """from fastapi import FastAPI
from fastapi.responses import HTMLResponse
app = FastAPI()
BODY = "<p>" + "x" * 1017 + "</p>"
@app.get("/")
def bare() -> HTMLResponse:
    return HTMLResponse(BODY)
"""
TICKS = os.sysconf("SC_CLK_TCK")
REVISION = re.compile(r'name="revision" value="(\d+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(data_dir: Path, database_url: str = "", **extra: str) -> dict[str, str]:
    """The app's environment for a benchmark: its own data, the rate limit and the mail thread off."""
    return {
        "AUTODIAG_DATA_DIR": str(data_dir),
        "AUTODIAG_ENVIRONMENT": "development",
        "AUTODIAG_SECRET_KEY": SECRET,
        "AUTODIAG_API_RATE_LIMIT_PER_MINUTE": "100000000",
        "AUTODIAG_MAIL_WORKER": "false",
        **({"DATABASE_URL": database_url} if database_url else {}),
        **extra,
    }


@contextmanager
def server(target: list[str], env: dict[str, str], *, workers: int = 1) -> Iterator[tuple[str, int]]:
    """A uvicorn server (its base URL and process id) until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", *target, "--port", str(port), "--workers", str(workers)]
    # Directors pause 5 s between answers: uvicorn's default keep-alive (5 s) would close their
    # connections just as they send; a proxy in front keeps them longer.
    command += ["--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "75"]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if (
                    httpx.get(f"{url}/healthz" if target[0] != "--app-dir" else url, timeout=1).status_code
                    < 500
                ):
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"server on port {port} did not start")
        if workers > 1:
            time.sleep(3)  # every worker up, not only the first to answer
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # still draining connections: enough
            process.kill()
            process.wait()


@contextmanager
def bare_server(folder: Path) -> Iterator[tuple[str, int]]:
    (folder / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
    with server(["--app-dir", str(folder), "bare_app:app"], {}) as served:
        yield served


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` and its live descendants (uvicorn's workers)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return total
    return total + sum(cpu_seconds(int(child)) for child in children)


def session_cookie(secret: str, csrf: str) -> str:
    """The signed session cookie a sign-in would set (Starlette's format), without Argon2 each time.

    `secret` is a session opened on the server (`sessions.open_session`), as signing in does.
    """
    data = base64.b64encode(json.dumps({SESSION_KEY: secret, CSRF_KEY: csrf}).encode())
    return TimestampSigner(SECRET).sign(data).decode()


def make_directors(database_url: str, count: int, questionnaire: str = "full") -> list[tuple[int, str, int]]:
    """`count` directors, each with a structure, a draft and an open session: (user id, secret, assessment id).

    Accounts get an unusable password hash: they never sign in (`session_cookie` stands for it).
    """
    catalog = load_catalog(ROOT)
    engine = make_engine(database_url)
    made = []
    with Session(engine) as session:
        for number in range(count):
            user = User(
                email=f"bench{number}@example.org",
                name=f"Directeur {number}",
                role=Role.DIRECTOR,
                password_hash="!",
            )
            structure = Structure(name=f"Structure {number}", city="Lille")
            session.add_all([user, structure])
            session.flush()
            session.add(Membership(user_id=user.id, structure_id=structure.id))  # type: ignore[arg-type]
            session.flush()
            assessment = assessments.start(
                session, catalog=catalog, structure=structure, user=user, questionnaire_ref=questionnaire
            )
            secret = sessions.open_session(session, user=user, user_agent="benchmark")
            made.append((user.id, secret, assessment.id))
    engine.dispose()
    return made  # type: ignore[return-value]


def director_client(url: str, user_id: int, secret: str, **options: object) -> httpx.AsyncClient:
    csrf = f"csrf-{user_id}"
    cookies = {SESSION_COOKIE: session_cookie(secret, csrf)}
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf, "Accept-Encoding": "gzip"}
    return httpx.AsyncClient(base_url=url, cookies=cookies, headers=headers, timeout=60, **options)  # type: ignore[arg-type]


def machine_load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def quiet_requests() -> None:
    """Leave out the app's line per request: a benchmark of an app in its own process makes thousands."""
    logging.getLogger("autodiag.request").setLevel(logging.WARNING)
