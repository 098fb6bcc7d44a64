"""Capacity as real use: how many directors answering at their own pace one server holds.

    uv run python -m benchmarks.capacity [--directors 100,250,500,1000] [--seconds 30]
    uv run python -m benchmarks.capacity --postgres --workers 2     (and --workers 4: scale-out)

Open loop: each director, on their own assessment, autosaves one answer every 5 s and views a
section page every 30 s, at fixed times whatever the server's speed (a slow server does not slow
the arrivals, as it would with clients waiting for each answer). Latency is counted from the
moment a request was due. For each number of directors the run prints the requests sent, the
throughput, p50 and p95 and the errors; the knee is the largest number held with p95 ≤ 100 ms
and no error. Target (shared/design.md §10): ≥ 1,000 directors on one worker with SQLite.
The load generator runs on the same machine: the server's CPU per request is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

from app.db import make_engine, upgrade
from benchmarks.served import (
    REVISION,
    ROOT,
    cpu_seconds,
    director_client,
    environment,
    machine_load,
    make_directors,
    server,
)

AUTOSAVE_EVERY, PAGE_EVERY, P95_LIMIT_MS = 5.0, 30.0, 100.0
CRITERIA = ("STR-01", "STR-02", "STR-03", "STR-04")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def director(
    client: httpx.AsyncClient, assessment: int, seconds: float, tally: Tally, began: float
) -> None:
    """One director's requests for `seconds`, each sent when due (never waiting for the one before)."""
    phase = random.uniform(0, AUTOSAVE_EVERY)
    revisions = dict.fromkeys(CRITERIA, 0)
    due = [(began + phase + k * AUTOSAVE_EVERY, "save", k) for k in range(int(seconds / AUTOSAVE_EVERY))]
    due += [
        (began + random.uniform(0, PAGE_EVERY) + k * PAGE_EVERY, "page", k)
        for k in range(max(1, int(seconds / PAGE_EVERY)))
    ]
    pending = []
    for at, kind, number in sorted(due):
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        if kind == "page":
            pending.append(asyncio.create_task(_page(client, assessment, at, tally)))
        else:
            criterion = CRITERIA[number % len(CRITERIA)]  # the next one is due 5 s later: no self-conflict
            pending.append(
                asyncio.create_task(
                    _save(client, assessment, criterion, revisions=revisions, due=at, tally=tally)
                )
            )
    await asyncio.gather(*pending)


async def _page(client: httpx.AsyncClient, assessment: int, due: float, tally: Tally) -> None:
    try:
        response = await client.get(
            f"/autoevaluations/{assessment}/sections/structuration", headers={"HX-Request": ""}
        )
        _count(response, due, tally)
    except httpx.HTTPError as error:
        tally.errors.append(type(error).__name__)


async def _save(
    client: httpx.AsyncClient,
    assessment: int,
    criterion: str,
    *,
    revisions: dict[str, int],
    due: float,
    tally: Tally,
) -> None:
    data = {"niveau": str(revisions[criterion] % 4), "revision": str(revisions[criterion])}
    try:
        response = await client.post(f"/autoevaluations/{assessment}/reponses/{criterion}", data=data)
        found = REVISION.search(response.text)
        revisions[criterion] = int(found.group(1)) if found else revisions[criterion]
        _count(response, due, tally)
    except httpx.HTTPError as error:
        tally.errors.append(type(error).__name__)


def _count(response: httpx.Response, due: float, tally: Tally) -> None:
    tally.latencies.append((time.perf_counter() - due) * 1000)
    if response.status_code >= 400:
        tally.errors.append(f"HTTP {response.status_code}")


async def step(url: str, pid: int, people: list[tuple[int, int, int]], seconds: float) -> dict[str, float]:
    tally, limits = Tally(), httpx.Limits(max_connections=None, max_keepalive_connections=None)
    clients = [director_client(url, user, secret, limits=limits) for user, secret, _ in people]
    cpu, began = cpu_seconds(pid), time.perf_counter() + 1.0
    try:
        await asyncio.gather(
            *(director(c, a, seconds, tally, began) for c, (_, _, a) in zip(clients, people, strict=True))
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    spent, elapsed = cpu_seconds(pid) - cpu, time.perf_counter() - began
    quantiles = statistics.quantiles(tally.latencies, n=100) if len(tally.latencies) > 1 else [0.0] * 99
    return {
        "requests": len(tally.latencies),
        "rate": len(tally.latencies) / elapsed,
        "p50": quantiles[49],
        "p95": quantiles[94],
        "errors": len(tally.errors),
        "cpu_ms": spent / max(1, len(tally.latencies)) * 1000,
        "first_error": tally.errors[0] if tally.errors else "",  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directors", default="100,250,500,1000,1500")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    levels = [int(n) for n in args.directors.split(",")]
    print(machine_load())
    with tempfile.TemporaryDirectory() as folder:
        data, postgres = Path(folder), None
        database_url = f"sqlite:///{data / 'autodiag.sqlite3'}"
        if args.postgres:
            sys.path.insert(0, str(ROOT))
            from tests.postgres import PostgresServer

            postgres = PostgresServer()
            postgres.execute("CREATE DATABASE bench")
            database_url = postgres.url("bench")
        try:
            engine = make_engine(database_url)
            upgrade(engine)
            engine.dispose()
            people = make_directors(database_url, sum(levels))  # new directors at each step
            env = environment(data, database_url if args.postgres else "")
            with server(["app.main:create_app", "--factory"], env, workers=args.workers) as (url, pid):
                rows, first = [], 0
                for n in levels:
                    rows.append((n, asyncio.run(step(url, pid, people[first : first + n], args.seconds))))
                    first += n
                    print(f"{n} directors: {rows[-1][1]}", flush=True)
        finally:
            if postgres:
                postgres.stop()
    report(args, rows)


def report(args: argparse.Namespace, rows: list[tuple[int, dict[str, float]]]) -> None:
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"open loop: autosave every {AUTOSAVE_EVERY:g} s and a page every {PAGE_EVERY:g} s per director; "
        f"{args.workers} uvicorn worker(s), {kind}, {args.seconds:g} s per step"
    )
    print(
        f"{'directors':>9} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6} {'CPU/req':>8}"
    )
    held = 0
    for directors, r in rows:
        print(
            f"{directors:>9} {r['requests']:>8.0f} {r['rate']:>7.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} "
            f"{r['errors']:>6.0f} {r['cpu_ms']:>6.2f}ms {r['first_error']}"
        )
        if r["p95"] <= P95_LIMIT_MS and not r["errors"]:
            held = directors
    print(
        f"knee: {held} directors held with p95 ≤ {P95_LIMIT_MS:g} ms and no error (target ≥ 1,000 on one worker, SQLite)"
    )
    print(machine_load())


if __name__ == "__main__":
    main()
