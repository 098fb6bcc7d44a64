"""The exports of a full assessment, as ratios to its results page rendered in the same run.

    uv run python -m benchmarks.reports [--repeat 5]

A fresh SQLite database (migrated like production) in a temporary folder holds one structure and
a submitted assessment of the full questionnaire: every question answered, evidence on a few, the
action plan as suggested (one row per gap, built on every read). One request at a time through
TestClient, signed in as its director: the results page (the baseline), the PDF report, the XLSX
workbook, the CSV of the gaps. Medians of wall-clock and CPU time (`time.process_time`, plus the
printer process's own CPU time for the PDF: `app.reports.printer` renders it there; its share is
printed apart, since the worker's HTML and WeasyPrint's layout call for different remedies). The
PDF's memory is measured in a child process that prints it twice (the first start the printer,
which imports WeasyPrint): for the worker and for its printer, the resident set just before and the
peak during each render (`VmHWM`, reset through `/proc/<pid>/clear_refs` first, so the sign-in's password
hashing does not count), and the peak of the worker's Python allocations (`tracemalloc`).
Budgets (issue 11): PDF ≤ 2 s and ≤ 150 MB, XLSX ≤ 0.5 s; printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.service import create_user
from app.assessments import answering, evidence, snapshot
from app.assessments import service as assessments
from app.config import Settings
from app.main import create_app
from app.structures import service as structures
from benchmarks.served import quiet_requests

EMAIL, PASSWORD = "directrice@bench.example.org", "une phrase de passe solide"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings_for(folder: Path) -> Settings:
    return Settings(data_dir=folder, environment="test")


def seed(folder: Path) -> int:
    """A submitted full assessment (levels 3, 2, 1, 0 in turn); return its id."""
    app = create_app(settings_for(folder))
    catalog = app.state.catalog
    with Session(app.state.engine, expire_on_commit=False) as session:
        user = create_user(session, email=EMAIL, name="Directrice", role=Role.DIRECTOR, password=PASSWORD)
        structure = structures.create(session, name="Médiation du Nord", city="Lille")
        structures.add_member(session, structure=structure, user=user)
        found = assessments.start(
            session, catalog=catalog, structure=structure, user=user, questionnaire_ref="full"
        )
        ids = catalog.questionnaire("full").criterion_ids
        for index, criterion_id in enumerate(ids):
            answering.save_answer(
                session,
                catalog=catalog,
                assessment=found,
                user=user,
                criterion_id=criterion_id,
                base_revision=0,
                level=3 - index % 4,
                not_applicable=False,
                justification="",
                comment="Commentaire de l'équipe sur ce critère." if index % 3 == 0 else "",
            )
        for number, criterion_id in enumerate(ids[:8]):
            piece = evidence.add(session, structure=structure, user=user, title=f"Preuve {number}")
            evidence.attach(
                session, assessment=found, evidence=piece, criterion_id=criterion_id, covers=[], user=user
            )
        snapshot.submit(
            session,
            catalog=catalog,
            assessment=found,
            structure=structure,
            user=user,
            signer=app.state.signer,
        )
        assessment_id = found.id
    app.state.engine.dispose()
    assert assessment_id is not None
    return assessment_id


def client_for(folder: Path) -> TestClient:
    client = TestClient(create_app(settings_for(folder)))
    token = CSRF.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    client.post("/connexion", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    return client


def timed(request: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median wall-clock and CPU seconds of `request` (this process's and its printer's together),
    and the median of the printer's part alone, after one warm-up call."""
    request()
    walls, cpus, printer_cpus = [], [], []
    for _ in range(repeat):
        wall, own, printer = time.perf_counter(), time.process_time(), children_cpu()
        request()
        walls.append(time.perf_counter() - wall)
        printer_cpus.append(children_cpu() - printer)
        cpus.append(time.process_time() - own + printer_cpus[-1])
    return statistics.median(walls), statistics.median(cpus), statistics.median(printer_cpus)


def children_cpu() -> float:
    """The CPU seconds used so far by the live child processes (the printer), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for child in multiprocessing.active_children():
        fields = Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def memory_child(folder: Path, assessment_id: int) -> None:
    """In a child process: print the PDF twice (the first starts the printer); print the memory
    figures of each, the worker's and the printer's, as JSON."""
    client = client_for(folder)
    client.get(f"/autoevaluations/{assessment_id}/resultats")
    figures = []
    for _ in range(2):
        printers = [child.pid for child in multiprocessing.active_children()]
        for pid in ["self", *printers]:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current resident set
        before = {pid: memory_kb(pid, "VmRSS") for pid in ["self", *printers]}
        tracemalloc.start()
        response = client.get(f"/autoevaluations/{assessment_id}/rapport.pdf")
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert response.status_code == 200
        (printer,) = [child.pid for child in multiprocessing.active_children()]
        figures.append(
            {
                "before_kb": before["self"],
                "after_kb": memory_kb("self", "VmHWM"),
                "python_peak": python_peak,
                "printer_before_kb": before.get(printer, 0),
                "printer_after_kb": memory_kb(printer, "VmHWM"),
            }
        )
    print(json.dumps(figures))


def memory_kb(pid: int | str, field: str) -> int:
    """A memory figure of a process from /proc/<pid>/status (VmRSS, VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    quiet_requests()
    print(uptime())
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        assessment_id = seed(folder)
        client = client_for(folder)
        base = f"/autoevaluations/{assessment_id}"
        pdf = client.get(f"{base}/rapport.pdf")
        print(
            f"report: {len(pdf.content) // 1024} KB PDF; {len(client.get(f'{base}/resultats.xlsx').content) // 1024} KB XLSX"
        )
        figures = {
            "results page": timed(lambda: client.get(f"{base}/resultats"), args.repeat * 4),
            "PDF report": timed(lambda: client.get(f"{base}/rapport.pdf"), args.repeat),
            "XLSX workbook": timed(lambda: client.get(f"{base}/resultats.xlsx"), args.repeat * 2),
            "CSV of the gaps": timed(lambda: client.get(f"{base}/ecarts.csv"), args.repeat * 2),
        }
        page_wall, page_cpu, _ = figures["results page"]
        for name, (wall, cpu, printer) in figures.items():
            print(
                f"{name:16} {wall * 1000:8.0f} ms wall ({wall / page_wall:5.1f}× the page)"
                f" {cpu * 1000:8.0f} ms CPU ({cpu / page_cpu:5.1f}×)"
                + (f", of which the printer {printer * 1000:.0f} ms" if printer else "")
            )
        # With -c rather than -m: the printer, started with `spawn`, imports the parent's main module.
        code = (
            "from pathlib import Path; from benchmarks.reports import memory_child;"
            f" memory_child(Path({str(folder)!r}), {assessment_id})"
        )
        command = [sys.executable, "-c", code]
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        renders = json.loads(child.stdout.strip().splitlines()[-1])
        for name, memory in zip(("first (starts the printer)", "second"), renders, strict=True):
            print(
                f"PDF memory, {name} render: printer peak {memory['printer_after_kb'] / 1024:.0f} MB"
                f" ({before_printer(memory['printer_before_kb'])}); worker peak"
                f" {memory['after_kb'] / 1024:.0f} MB (resident just before {memory['before_kb'] / 1024:.0f} MB,"
                f" Python allocations peak {memory['python_peak'] / 2**20:.1f} MB)"
            )
    print(uptime())


def before_printer(kilobytes: int) -> str:
    return f"resident just before {kilobytes / 1024:.0f} MB" if kilobytes else "started by this render"


def uptime() -> str:
    """The machine's `uptime` (its load averages): figures on a busy machine read differently."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    main()
