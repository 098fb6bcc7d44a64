"""Time `score()` on full assessments of the real referential (budget: design §10).

    uv run python -m benchmarks.scoring [--assessments 10000]

Prints the median time to score one full assessment, the CPU time for N different assessments,
and both as a ratio to a baseline measured in the same run: one pass over the criteria that only looks
up each answer, the floor under any scoring implementation.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from app.catalog.loader import load_catalog
from app.catalog.models import CriteriaVersion
from app.config import settings
from app.scoring.models import Answer, Evidence
from app.scoring.service import score

BUDGET_ONE_US = 100.0
BUDGET_MANY_S = 1.5


def make_assessment(
    version: CriteriaVersion, rng: random.Random
) -> tuple[dict[str, object], dict[str, Answer]]:
    """A realistic full assessment: most criteria answered, some N/A, evidence on some."""
    profile: dict[str, object] = {}
    for field in version.profile_fields:
        values = [o.value for o in field.options]
        if field.kind == "boolean":
            profile[field.id] = rng.random() < 0.5
        elif field.kind == "choice":
            profile[field.id] = rng.choice(values)
        else:
            profile[field.id] = rng.sample(values, k=rng.randint(1, len(values)))
    answers: dict[str, Answer] = {}
    for criterion in version.active:
        roll = rng.random()
        if roll < 0.05:
            continue
        if roll < 0.10:
            answers[criterion.id] = Answer(not_applicable=True, justification="Hors de notre champ")
            continue
        evidence = tuple(Evidence(e.label) for e in criterion.expected_evidence if rng.random() < 0.5)
        answers[criterion.id] = Answer(level=rng.randint(0, 3), evidence=evidence)
    return profile, answers


def interleaved_medians(
    works: dict[str, Callable[[], object]], rounds: int, per_round: int
) -> dict[str, float]:
    """Median µs of each work, alternating them round by round so machine noise hits all alike.

    Each figure is the lowest of the per-round medians: noise only ever adds time.
    """
    medians: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(rounds):
        for name, work in works.items():
            samples = []
            for _ in range(per_round):
                start = time.perf_counter_ns()
                work()
                samples.append(time.perf_counter_ns() - start)
            medians[name].append(statistics.median(samples) / 1000)
    return {name: min(values) for name, values in medians.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=500, help="timed calls per round")
    args = parser.parse_args()

    version = load_catalog(settings.catalog_dir).criteria_version("x60-600")
    rng = random.Random(20261122)
    cases = [make_assessment(version, rng) for _ in range(args.assessments)]
    profile, answers = cases[0]
    criteria = version.active

    def baseline() -> object:
        return [answers.get(c.id) for c in criteria]

    for _ in range(200):  # warm caches and the interpreter's specialisation
        score(version, profile=profile, answers=answers)
    timed = interleaved_medians(
        {"baseline": baseline, "score": lambda: score(version, profile=profile, answers=answers)},
        rounds=args.rounds,
        per_round=args.repeat,
    )
    base_us, one_us = timed["baseline"], timed["score"]
    start = time.process_time()  # CPU time: on a shared machine, wall time over seconds counts the others
    for case_profile, case_answers in cases:
        score(version, profile=case_profile, answers=case_answers)
    many_s = time.process_time() - start

    print(f"referential {version.ref}: {len(criteria)} criteria, {len(answers)} answers in the timed case")
    print(f"baseline (look up each answer): median {base_us:.1f} µs")
    print(
        f"score one full assessment: median {one_us:.1f} µs = {one_us / base_us:.1f}× baseline "
        f"(budget {BUDGET_ONE_US:.0f} µs: {'OK' if one_us <= BUDGET_ONE_US else 'OVER'})"
    )
    print(
        f"score {args.assessments} different assessments: {many_s:.2f} s of CPU = "
        f"{many_s * 1e6 / args.assessments / base_us:.1f}× baseline per assessment "
        f"(budget {BUDGET_MANY_S:g} s for 10,000: {'OK' if many_s * 10_000 / args.assessments <= BUDGET_MANY_S else 'OVER'})"
    )


if __name__ == "__main__":
    main()
