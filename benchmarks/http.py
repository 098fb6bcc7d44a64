"""Throughput and latency of the autosave request, a questionnaire section page, and two API calls.

    uv run python -m benchmarks.http [--clients 32] [--seconds 8]   (as a module: a script named
    http.py would shadow the standard library's http package)

Starts two servers, each one uvicorn worker on 127.0.0.1: the app on a fresh SQLite database with
the demo data, and a bare FastAPI endpoint (the baseline, measured in the same run). Each phase
runs `--clients` concurrent clients for `--seconds`, then prints requests per second, p50 and p95,
and the ratios to the baseline. The API phases use the demo auditor's token: the snapshot listing
(each read under her grant writes an audit entry) and `POST /api/v1/score` of the example answers.
Budgets: shared/design.md §10.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2 as httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REVISION = re.compile(r'name="revision" value="(\d+)"')
SCOPES = ["--scope", "read:assessments", "--scope", "read:catalog", "--days", "1"]
BARE_APP = (
    "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\ndef bare():\n    return {'ok': True}\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(target: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        *target,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server on port {port} did not start")


async def load(
    clients: int, seconds: float, request: Callable[[int], Awaitable[int]]
) -> tuple[float, float, float]:
    """Run `clients` loops calling request(client_number) for `seconds`; (req/s, p50 ms, p95 ms)."""
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + seconds

    async def client(number: int) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status = await request(number)
            latencies.append((time.perf_counter() - start) * 1000)
            if status >= 400:
                errors.append(status)

    began = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. HTTP {errors[0]}")
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, quantiles[49], quantiles[94]


async def measure(args: argparse.Namespace, app_url: str, bare_url: str) -> None:
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as bare:
        baseline = await load(args.clients, args.seconds, lambda _: _status(bare.get(bare_url)))
    async with httpx.AsyncClient(base_url=app_url, limits=limits, timeout=120) as app:
        token = CSRF.search((await app.get("/connexion")).text).group(1)  # type: ignore[union-attr]
        await app.post(
            "/connexion",
            data={
                "email": "directrice@demo.autodiag.fr",
                "password": "Horizon-directrice-2026",
                "csrf_token": token,
            },
        )
        token = CSRF.search((await app.get("/structures")).text).group(1)  # type: ignore[union-attr]
        structure = re.search(r"/structures/(\d+)", (await app.get("/structures")).text).group(1)  # type: ignore[union-attr]
        assessment = re.search(
            r"/autoevaluations/(\d+)", (await app.get(f"/structures/{structure}")).text
        ).group(1)  # type: ignore[union-attr]
        section = f"/autoevaluations/{assessment}/sections/structuration"
        page = await load(args.clients, args.seconds, lambda _: _status(app.get(section)))
        revisions: dict[str, int] = {}  # every answerable question of every section, with its revision
        for name in ("deontologie", "processus", "structuration", "evaluation"):
            html = (await app.get(f"/autoevaluations/{assessment}/sections/{name}")).text
            for found in re.finditer(r'action="[^"]*/reponses/([A-Z]+-\d+)"', html):
                revision = REVISION.search(html, found.end())
                revisions[found.group(1)] = int(revision.group(1))  # type: ignore[union-attr]
        criteria = sorted(revisions)
        headers = {"HX-Request": "true", "X-CSRF-Token": token}

        async def autosave(number: int) -> int:
            criterion = criteria[number]  # one question per client: no client overwrites another
            level = str(revisions[criterion] % 4)
            response = await app.post(
                f"/autoevaluations/{assessment}/reponses/{criterion}",
                headers=headers,
                data={"niveau": level, "revision": str(revisions[criterion])},
            )
            found = REVISION.search(response.text)
            revisions[criterion] = int(found.group(1)) if found else revisions[criterion]
            return response.status_code

        if len(criteria) < args.clients:
            raise RuntimeError("fewer questions than clients: clients would overwrite each other's answers")
        save = await load(args.clients, args.seconds, autosave)
    api = await measure_api(args, app_url, limits)
    report(args, baseline, page, save, *api)


async def measure_api(
    args: argparse.Namespace, app_url: str, limits: httpx.Limits
) -> list[tuple[float, ...]]:
    """The auditor's token: list the snapshots of the submitted assessment (an audited read), score."""
    headers = {"Authorization": f"Bearer {args.token}"}
    document = yaml.safe_load(
        (ROOT / "questionnaires" / "examples" / "answers.yaml").read_text(encoding="utf-8")
    )
    async with httpx.AsyncClient(base_url=app_url, headers=headers, limits=limits, timeout=120) as api:
        structure = (await api.get("/api/v1/structures")).json()["items"][0]["id"]
        assessment = (await api.get(f"/api/v1/structures/{structure}/assessments")).json()["items"][0]["id"]
        listing = f"/api/v1/assessments/{assessment}/snapshots"
        snapshots = await load(args.clients, args.seconds, lambda _: _status(api.get(listing)))
        scoring = await load(
            args.clients, args.seconds, lambda _: _status(api.post("/api/v1/score", json=document))
        )
    return [snapshots, scoring]


async def _status(pending: Awaitable[httpx.Response]) -> int:
    return (await pending).status_code


def report(  # noqa: PLR0917 (one tuple per phase, in the order printed)
    args: argparse.Namespace,
    baseline: tuple[float, ...],
    page: tuple[float, ...],
    save: tuple[float, ...],
    snapshots: tuple[float, ...],
    scoring: tuple[float, ...],
) -> None:
    print(f"{args.clients} concurrent clients, {args.seconds:g} s per phase, one uvicorn worker each, SQLite")
    rows = (
        ("bare FastAPI endpoint (baseline)", baseline),
        ("section page (GET)", page),
        ("autosave (htmx POST)", save),
        ("API snapshot listing (GET)", snapshots),
        ("API score (POST /api/v1/score)", scoring),
    )
    for name, (rate, p50, p95) in rows:
        print(
            f"{name:34} {rate:8.0f} req/s  = {rate / baseline[0]:5.1%} of baseline   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
        )
    print("budgets: autosave ≥ 40 % of baseline and p95 ≤ 25 ms; section page p95 ≤ 50 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        # The rate limit is lifted: the benchmark measures the server, not the limiter.
        env = {
            "AUTODIAG_DATA_DIR": data_dir,
            "AUTODIAG_ENVIRONMENT": "development",
            "AUTODIAG_API_RATE_LIMIT_PER_MINUTE": "100000000",
        }
        autodiag = str(Path(sys.executable).with_name("autodiag"))
        subprocess.run(
            [autodiag, "demo"], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True
        )
        created = subprocess.run(
            [
                autodiag,
                "tokens",
                "create",
                "--email",
                "auditrice@demo.autodiag.fr",
                "--name",
                "benchmark",
                *SCOPES,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            text=True,
        )
        args.token = created.stdout.strip()
        Path(data_dir, "bare_app.py").write_text(BARE_APP)
        app_port, bare_port = free_port(), free_port()
        app = serve(["app.main:create_app", "--factory"], env, app_port)
        bare = serve(["--app-dir", data_dir, "bare_app:app"], {}, bare_port)
        try:
            asyncio.run(measure(args, f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}/"))
        finally:
            for process in (app, bare):
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
