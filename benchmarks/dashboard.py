"""Time the trainer's cohort dashboard on a large database (budget: design §10).

    uv run python -m benchmarks.dashboard [--structures 2000] [--rounds 15]

Seeds a fresh SQLite file in a temporary folder, migrated like production, with SQLAlchemy Core
bulk inserts: `--structures` structures with 5 full assessments each (4 submitted, 1 draft; about
74 answers each, a few unanswered or N/A, evidence on about half of the answers at level 2 or 3),
and a cohort of 15 of them. It measures the dashboard service call and the HTTP page (median of
`--rounds` runs, each in a fresh session, as a request would), then adds nine times as many
structures outside the cohort (ten times the data) and measures again. The first measurement is
the baseline of the second: budgets ≤ 150 ms, and ≤ 1.5× with ten times the data.

Snapshots are stored with a placeholder canonical JSON: the dashboard reads only their ids,
revisions and dates, and the real documents would only make the file bigger.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.service import create_user
from app.assessments.models import Answer, Assessment, Evidence, EvidenceLink, Snapshot
from app.catalog.service import Catalog
from app.cohorts import service as cohorts
from app.cohorts.dashboard import dashboard
from app.cohorts.models import Cohort
from app.config import Settings
from app.db import pk
from app.main import create_app
from app.structures.models import Structure
from benchmarks.served import quiet_requests

BUDGET_MS = 150.0
BUDGET_RATIO = 1.5
ASSESSMENTS_PER_STRUCTURE = 5
COHORT_SIZE = 15
PASSWORD = "benchmark-password-2026"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PROFILE = {"type_structure": "association", "registres": ["presence_proximite", "mise_en_relation"]}
DOCUMENTS = ("Manuel qualité", "Tableau de bord d'activité", "Plan de formation", "Rapport d'utilité sociale")


class Seeder:
    """Bulk rows for structures [first, first + count), with ids chosen here so no insert reads back."""

    def __init__(self, catalog: Catalog, creator: int, rng: random.Random) -> None:
        self.questionnaire = catalog.questionnaire("full")
        self.version = catalog.criteria[self.questionnaire.criteria]
        self.refs = {
            "questionnaire_ref": self.questionnaire.ref,
            "questionnaire_sha256": catalog.questionnaire_hashes[self.questionnaire.ref],
            "criteria_ref": self.version.ref,
            "criteria_sha256": catalog.criteria_hashes[self.version.ref],
        }
        self.creator, self.rng = creator, rng

    def seed(self, engine: Engine, first: int, count: int, batch: int = 250) -> int:
        """Insert `count` structures and everything they hold; return the number of answers."""
        answers = 0
        for start in range(first, first + count, batch):
            rows = self.rows(range(start, min(start + batch, first + count)))
            with engine.begin() as connection:
                for model, values in rows.items():
                    if values:
                        connection.execute(insert(model.__table__), values)  # type: ignore[attr-defined]
            answers += len(rows[Answer])
        return answers

    def rows(self, structure_ids: range) -> dict[type, list[dict[str, Any]]]:
        rows: dict[type, list[dict[str, Any]]] = {
            m: [] for m in (Structure, Evidence, Assessment, Snapshot, Answer, EvidenceLink)
        }
        for structure_id in structure_ids:
            rows[Structure].append(
                {
                    "id": structure_id,
                    "name": f"Structure {structure_id:06d}",
                    "city": "Lille",
                    "profile": PROFILE,
                    "created_at": START,
                }
            )
            documents = [structure_id * 10 + i for i in range(len(DOCUMENTS))]
            rows[Evidence] += [
                {
                    "id": d,
                    "structure_id": structure_id,
                    "kind": "reference",
                    "title": t,
                    "created_by": self.creator,
                    "created_at": START,
                }
                for d, t in zip(documents, DOCUMENTS, strict=True)
            ]
            for n in range(ASSESSMENTS_PER_STRUCTURE):
                self.assessment(rows, structure_id * 10 + n, structure_id, n, documents)
        return rows

    def assessment(
        self,
        rows: dict[type, list[dict[str, Any]]],
        assessment_id: int,
        structure_id: int,
        n: int,
        documents: list[int],
    ) -> None:
        created = START + timedelta(days=90 * n)
        submitted = n < ASSESSMENTS_PER_STRUCTURE - 1
        rows[Assessment].append(
            {
                "id": assessment_id,
                "structure_id": structure_id,
                **self.refs,
                "status": "submitted" if submitted else "draft",
                "revision": 1,
                "created_by": self.creator,
                "created_at": created,
                "submitted_at": created + timedelta(days=20) if submitted else None,
            }
        )
        if submitted:
            digest = hashlib.sha256(str(assessment_id).encode()).hexdigest()
            rows[Snapshot].append(
                {
                    "assessment_id": assessment_id,
                    "revision": 1,
                    "canonical_json": "{}",
                    "sha256": digest,
                    "signature": "-",
                    "key_id": "benchmark",
                    "created_at": created + timedelta(days=20),
                }
            )
        self.answers(rows, assessment_id, created, documents)

    def answers(
        self,
        rows: dict[type, list[dict[str, Any]]],
        assessment_id: int,
        created: datetime,
        documents: list[int],
    ) -> None:
        """Every question answered but 5 %, 3 % N/A; the workshop's document on half of levels 2–3."""
        workshop_document = dict(zip([w.id for w in self.version.workshops], documents, strict=True))
        for criterion in (self.version.by_id[c] for c in self.questionnaire.criterion_ids):
            roll = self.rng.random()
            if roll < 0.05:
                continue  # unanswered
            level = None if roll < 0.08 else self.rng.choice((0, 1, 2, 2, 3, 3, 3))
            rows[Answer].append(
                {
                    "assessment_id": assessment_id,
                    "criterion_id": criterion.id,
                    "level": level,
                    "not_applicable": level is None,
                    "justification": "Hors de notre champ" if level is None else "",
                    "comment": "",
                    "carried_over": False,
                    "revision": 1,
                    "updated_by": self.creator,
                    "updated_at": created,
                }
            )
            if level is not None and level >= 2 and self.rng.random() < 0.5:
                rows[EvidenceLink].append(
                    {
                        "assessment_id": assessment_id,
                        "criterion_id": criterion.id,
                        "evidence_id": workshop_document[criterion.workshop],
                        "covers": ",".join(e.id for e in criterion.expected_evidence),
                        "carried_over": False,
                    }
                )


def median_ms(work: Callable[[], object], rounds: int) -> float:
    for _ in range(5):  # warm the caches, as a running server's are
        work()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(
    engine: Engine, catalog: Catalog, client: TestClient, cohort_id: int, rounds: int
) -> tuple[float, float]:
    def service_call() -> object:
        with Session(engine) as session:
            cohort = session.get(Cohort, cohort_id)
            assert cohort is not None
            return dashboard(session, catalog=catalog, cohort=cohort)

    def page() -> object:
        response = client.get(f"/cohortes/{cohort_id}")
        assert response.status_code == 200, response.status_code
        return response

    return median_ms(service_call, rounds), median_ms(page, rounds)


def verdict(value: float, budget: float) -> str:
    return "OK" if value <= budget else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    quiet_requests()
    with tempfile.TemporaryDirectory(prefix="autodiag-bench-") as folder:
        run(Path(folder), args.structures, args.rounds)


def run(folder: Path, structures: int, rounds: int) -> None:
    app = create_app(Settings(data_dir=folder, environment="test"))  # migrates the fresh SQLite file
    engine, catalog = app.state.engine, app.state.catalog
    with Session(engine, expire_on_commit=False) as session:
        admin, trainer, director = (
            create_user(
                session, email=f"{role.value}@example.org", name=role.value, role=role, password=PASSWORD
            )
            for role in (Role.ADMIN, Role.TRAINER, Role.DIRECTOR)
        )
        seeder = Seeder(catalog, pk(director), random.Random(20261123))
        started = time.perf_counter()
        answers = seeder.seed(engine, 1, structures)
        print(f"seeded {describe(structures, answers)} in {time.perf_counter() - started:.0f} s")
        enrolled = [str(1 + i * (structures // COHORT_SIZE)) for i in range(COHORT_SIZE)]
        posted = cohorts.CohortInput("Cycle", {}, [str(trainer.id)], enrolled)
        cohort_id = pk(cohorts.save_cohort(session, catalog=catalog, user=admin, cohort=None, posted=posted))
    with TestClient(app) as client:
        signed_in(client, trainer.email)
        baseline = measure(engine, catalog, client, cohort_id, rounds)
        print(f"cohort of {COHORT_SIZE} structures, database of {structures} structures (the baseline):")
        for label, value in zip(LABELS, baseline, strict=True):
            print(
                f"  dashboard {label}: median {value:.1f} ms (budget {BUDGET_MS:.0f} ms: {verdict(value, BUDGET_MS)})"
            )
        started = time.perf_counter()
        answers += seeder.seed(engine, structures + 1, 9 * structures)
        print(
            f"added {9 * structures} structures outside the cohort in {time.perf_counter() - started:.0f} s: "
            f"{describe(10 * structures, answers)}"
        )
        for label, value, base in zip(
            LABELS, measure(engine, catalog, client, cohort_id, rounds), baseline, strict=True
        ):
            ratio = value / base
            print(
                f"  dashboard {label}: median {value:.1f} ms = {ratio:.2f}× the baseline "
                f"(budget {BUDGET_RATIO}×: {verdict(ratio, BUDGET_RATIO)}; {BUDGET_MS:.0f} ms: {verdict(value, BUDGET_MS)})"
            )


LABELS = ("service call", "page over HTTP")


def describe(structures: int, answers: int) -> str:
    return f"{structures} structures, {structures * ASSESSMENTS_PER_STRUCTURE} assessments, {answers} answers"


def signed_in(client: TestClient, email: str) -> None:
    page = client.get("/connexion").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"email": email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/connexion", data=form, follow_redirects=False).status_code == 303


if __name__ == "__main__":
    main()
