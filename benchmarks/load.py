"""Load drill: 16, 64 and 256 concurrent autosaving clients against one served uvicorn worker.

    uv run python -m benchmarks.load [--clients 16 64 256] [--seconds 20]

Seeds a fresh SQLite database (one director, enough draft assessments that every client answers a
question of its own: no client overwrites another), serves the app with one uvicorn worker on
127.0.0.1, then runs each phase: every client autosaves its question in a loop as htmx does
(`HX-Request`, `X-CSRF-Token`), honouring `Retry-After` when the server sheds load (503).
It prints, per phase, the machine's `uptime`, goodput (saved answers a second), p50 and p95 of the
saves, the 503s, and the errors (any other status, a reset, a time-out); then the goodput at 64
clients against 16. Passes (exit 0) with no errors and that ratio at 90 % or more.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.service import create_user
from app.assessments import service
from app.catalog.loader import load_catalog
from app.config import PROJECT_ROOT, Settings
from app.db import open_database
from app.structures import service as structures
from benchmarks.http import CSRF, REVISION, free_port

EMAIL, PASSWORD = "charge@example.org", "une phrase de passe solide pour la charge"
SECTIONS = ("deontologie", "processus", "structuration", "evaluation")


@dataclass
class Phase:
    clients: int
    seconds: float
    saved: list[float] = field(default_factory=list)
    """Latency (ms) of each acknowledged save."""
    shed: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    uptime: str = ""
    """The machine's `uptime` (its load averages) as the phase began."""

    @property
    def goodput(self) -> float:
        return len(self.saved) / self.elapsed if self.elapsed else 0.0


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """One uvicorn worker serving the app; returns once it answers (start-up is slow on a busy machine)."""
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "1", "--log-level", "warning", "--no-access-log"], env=env
    )
    for _ in range(1200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def seed(data_dir: str, assessments: int) -> None:
    """One director with `assessments` drafts of the full questionnaire, each in its own structure."""
    settings = Settings(data_dir=Path(data_dir), environment="development")
    engine = open_database(settings)
    catalog = load_catalog(PROJECT_ROOT)
    with Session(engine) as session:
        user = create_user(session, email=EMAIL, name="Charge", role=Role.DIRECTOR, password=PASSWORD)
        for number in range(assessments):
            structure = structures.create(session, name=f"Structure {number + 1}", city="Lille")
            structures.add_member(session, structure=structure, user=user)
            service.start(session, catalog=catalog, structure=structure, user=user, questionnaire_ref="full")
    engine.dispose()


async def questions(client: httpx.AsyncClient) -> list[tuple[str, str, int]]:
    """Every (autosave address, question, revision) of every assessment the director has."""
    token = CSRF.search((await client.get("/connexion")).text).group(1)  # type: ignore[union-attr]
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    assert (await client.post("/connexion", data=form)).status_code == 303
    found = []
    listing = (await client.get("/structures")).text
    for structure in sorted(set(re.findall(r"/structures/(\d+)\"", listing))):
        page = (await client.get(f"/structures/{structure}")).text
        assessment = re.search(r"/autoevaluations/(\d+)", page).group(1)  # type: ignore[union-attr]
        for section in SECTIONS:
            html = (await client.get(f"/autoevaluations/{assessment}/sections/{section}")).text
            for match in re.finditer(r'action="([^"]*/reponses/([A-Z]+-\d+))"', html):
                revision = REVISION.search(html, match.end())
                found.append((match.group(1), match.group(2), int(revision.group(1))))  # type: ignore[union-attr]
    return found


async def run_phase(client: httpx.AsyncClient, phase: Phase, work: list[tuple[str, str, int]]) -> None:
    token = CSRF.search((await client.get("/compte")).text).group(1)  # type: ignore[union-attr]
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    phase.uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    deadline = time.perf_counter() + phase.seconds

    async def autosaving(number: int) -> None:
        address, _question, revision = work[number]
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                answer = await client.post(
                    address, headers=headers, data={"niveau": str(revision % 4), "revision": str(revision)}
                )
            except httpx.TransportError as error:
                phase.errors.append(type(error).__name__)
                continue
            if answer.status_code == 503:
                phase.shed += 1
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
            elif answer.status_code == 200:
                phase.saved.append((time.perf_counter() - start) * 1000)
                found = REVISION.search(answer.text)
                revision = int(found.group(1)) if found else revision + 1
            else:
                phase.errors.append(f"HTTP {answer.status_code}")
        work[number] = (address, _question, revision)

    began = time.perf_counter()
    await asyncio.gather(*(autosaving(n) for n in range(phase.clients)))
    phase.elapsed = time.perf_counter() - began


async def drill(url: str, args: argparse.Namespace) -> list[Phase]:
    # Connections idle for 3 s are dropped: uvicorn closes them at 5 s, and a client reusing one just
    # as the server closes it would see a reset that says nothing about the server's load.
    size = max(args.clients) + 4
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=3)
    phases = []
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        work = await questions(client)
        if len(work) < max(args.clients):
            raise RuntimeError(f"{len(work)} questions for {max(args.clients)} clients")
        for clients in args.clients:
            phase = Phase(clients, args.seconds)
            await run_phase(client, phase, work)
            phases.append(phase)
    return phases


def report(phases: list[Phase]) -> bool:
    for phase in phases:
        quantiles = statistics.quantiles(phase.saved, n=100) if len(phase.saved) > 1 else [0.0] * 99
        print(f"{phase.uptime}")
        print(
            f"  {phase.clients:4} clients  {phase.goodput:7.1f} saves/s  p50 {quantiles[49]:7.1f} ms  "
            f"p95 {quantiles[94]:7.1f} ms  503: {phase.shed:5}  errors: {len(phase.errors)}"
            + (f" ({', '.join(sorted(set(phase.errors)))})" if phase.errors else "")
        )
    by_clients = {phase.clients: phase for phase in phases}
    ratio = by_clients[64].goodput / by_clients[16].goodput if {16, 64} <= set(by_clients) else None
    if ratio is not None:
        print(f"goodput at 64 clients = {ratio:.0%} of goodput at 16 (needs ≥ 90 %)")
    return not any(phase.errors for phase in phases) and (ratio is None or ratio >= 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        seed(data_dir, assessments=max(args.clients) // 60 + 1)
        port = free_port()
        env = {
            "AUTODIAG_DATA_DIR": data_dir,
            "AUTODIAG_ENVIRONMENT": "development",
            "AUTODIAG_MAIL_WORKER": "false",
        }
        server = serve({**os.environ, **env}, port)
        try:
            passed = report(asyncio.run(drill(f"http://127.0.0.1:{port}", args)))
        finally:
            server.terminate()
            server.wait(timeout=10)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
