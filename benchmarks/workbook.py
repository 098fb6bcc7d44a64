"""The offline workbook: export, and import (upload, preview, confirm), as ratios to the results page.

    uv run python -m benchmarks.workbook [--repeat 15]

A director's full assessment with every applicable question answered (one row each in the
workbook), on the embedded SQLite in a temporary folder, through Starlette's TestClient (one
request at a time, in process). Each figure is the median CPU time of the process
(`time.process_time`), with the wall-clock median beside it; the baseline is the assessment's
results page, timed the same way in the same run. An import is the three requests a director
makes: upload the filled workbook (size and zip checks, every row read and checked), open the
preview (read again, compared with the answers), and confirm (read again, every row written in
one transaction). Each import changes every row, from a workbook downloaded just before (not timed).
Budgets (the issue): XLSX export ≤ 0.5 s, import of a 75-row workbook ≤ 1 s. None is asserted here.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import tempfile
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.service import create_user
from app.assessments import answering, service, workbook
from app.config import Settings
from app.main import create_app
from app.structures import service as structures
from benchmarks.served import quiet_requests

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DIGEST = re.compile(r'name="empreinte" value="([^"]+)"')
PASSWORD = "une phrase de passe solide"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def timed(
    action: Callable[[], object], repeat: int, prepare: Callable[[], object] | None = None
) -> tuple[float, float]:
    """Median CPU and wall-clock milliseconds of `action`, each run after an untimed `prepare`."""
    cpu, wall = [], []
    for _ in range(repeat + 1):  # the first run warms caches and compiled templates
        if prepare:
            prepare()
        began_cpu, began_wall = time.process_time(), time.perf_counter()
        action()
        cpu.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began_wall)
    return statistics.median(cpu[1:]) * 1000, statistics.median(wall[1:]) * 1000


def seeded() -> tuple[TestClient, int, int]:
    """A signed-in director's client, their fully answered assessment, and its number of rows."""
    app = create_app(Settings(data_dir=tempfile.mkdtemp(), environment="test"))
    catalog = app.state.catalog
    with Session(app.state.engine) as session:
        user = create_user(session, email="d@example.org", name="D", role=Role.DIRECTOR, password=PASSWORD)
        structure = structures.create(session, name="Médiation Banc d'essai", city="Lille")
        structures.add_member(session, structure=structure, user=user)
        assessment = service.start(
            session, catalog=catalog, structure=structure, user=user, questionnaire_ref="full"
        )
        for number, criterion_id in enumerate(catalog.questionnaire("full").criterion_ids):
            answering.save_answer(
                session,
                catalog=catalog,
                assessment=assessment,
                user=user,
                criterion_id=criterion_id,
                base_revision=0,
                level=number % 4,
                not_applicable=False,
                justification="",
                comment=f"Commentaire de départ {number}",
            )
        assessment_id = assessment.id or 0
    client = TestClient(app, follow_redirects=False)
    token = CSRF.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    client.post("/connexion", data={"email": "d@example.org", "password": PASSWORD, "csrf_token": token})
    book = load_workbook(io.BytesIO(client.get(f"/autoevaluations/{assessment_id}/classeur.xlsx").content))
    return client, assessment_id, book[workbook.QUESTIONS_SHEET].max_row - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    quiet_requests()
    client, assessment, rows = seeded()
    base = f"/autoevaluations/{assessment}"
    csrf = CSRF.search(client.get(base).text).group(1)  # type: ignore[union-attr]
    results = timed(lambda: client.get(f"{base}/resultats"), args.repeat)
    export = timed(lambda: client.get(f"{base}/classeur.xlsx"), args.repeat)
    filled: list[bytes] = []
    rounds = iter(range(1, 10_000))

    def fill() -> None:
        """Download the workbook and change every row's level and comment (a director's work, not timed)."""
        number = next(rounds)
        book = load_workbook(io.BytesIO(client.get(f"{base}/classeur.xlsx").content))
        sheet = book[workbook.QUESTIONS_SHEET]
        for row in sheet.iter_rows(min_row=2):
            row[workbook.LEVEL].value = (number + row[0].row) % 4
            row[workbook.COMMENT].value = f"Relu en équipe, tour {number}"
        buffer = io.BytesIO()
        book.save(buffer)
        filled[:] = [buffer.getvalue()]

    def import_workbook() -> None:
        files = {"fichier": ("classeur.xlsx", filled[0], XLSX)}
        uploaded = client.post(f"{base}/classeur", data={"csrf_token": csrf}, files=files)
        assert uploaded.status_code == 303, uploaded.text
        preview = client.get(uploaded.headers["location"])
        digest = DIGEST.search(preview.text).group(1)  # type: ignore[union-attr]
        done = client.post(uploaded.headers["location"], data={"csrf_token": csrf, "empreinte": digest})
        assert done.status_code == 303, done.text
        assert done.headers["location"].endswith(f"enregistrees={rows}"), done.headers["location"]

    imported = timed(import_workbook, args.repeat, prepare=fill)
    print(f"workbook of {rows} rows, medians of {args.repeat} runs (CPU ms, wall ms)")
    report("results page (baseline)", results, results)
    report("XLSX export (budget 500 ms)", export, results)
    report("import: upload+preview+apply (budget 1000 ms)", imported, results)


def report(name: str, spent: tuple[float, float], baseline: tuple[float, float]) -> None:
    cpu, wall = spent
    print(f"{name:<46} {cpu:7.1f} ms CPU {wall:7.1f} ms wall = {cpu / baseline[0]:5.1f}× results page")


if __name__ == "__main__":
    main()
