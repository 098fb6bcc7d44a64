"""Scoring inputs on the 1.0.0 versions whose results were stored before scoring v2 existed.

`tests/fixtures/scoring/v1_results.json` holds what the scoring core returned for each case before
the v2 rules were written; `test_v1_unchanged.py` checks that it still returns exactly that.
Run `python -m tests.scoring.v1_cases` only to add cases, never to refresh existing ones.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from app.catalog.loader import load_catalog
from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.scoring.answers import parse_text, resolve
from app.scoring.models import Answer, Evidence, Result
from app.scoring.service import score

ROOT = Path(__file__).resolve().parents[2]
STORED = ROOT / "tests" / "fixtures" / "scoring" / "v1_results.json"
DEMO_WEIGHTS = {  # the demo's other structures (app/demo.py): questionnaire, weights of levels 0–3
    "Médiation Quartiers Sud": ("full@1.0.0", (0, 1, 2, 24)),
    "Trait d'Union Médiation": ("full@1.0.0", (2, 3, 5, 4)),
    "Médiacité Nord": ("express@1.0.0", (4, 5, 2, 1)),
}


def _example(catalog: Catalog, questionnaire: str) -> tuple[str, Result]:
    text = (ROOT / "questionnaires" / "examples" / "answers.yaml").read_text(encoding="utf-8")
    data = parse_text(text)
    data["questionnaire"] = questionnaire
    if questionnaire.startswith("express"):
        asked = set(catalog.questionnaire(questionnaire).criterion_ids)
        data["answers"] = {k: v for k, v in data["answers"].items() if k in asked}
    request = resolve(catalog, data)
    scope = request.questionnaire.criterion_ids if request.questionnaire.partial else None
    result = score(request.version, profile=request.profile, answers=request.answers, scope=scope)
    return f"example {questionnaire}", result


def _demo(catalog: Catalog, name: str) -> tuple[str, Result]:
    """The answers the demo draws for one of its other structures, with its evidence rule."""
    ref, weights = DEMO_WEIGHTS[name]
    questionnaire = catalog.questionnaire(ref)
    version = catalog.criteria_version(questionnaire.criteria)
    draw = random.Random(name)
    answers: dict[str, Answer] = {}
    for criterion_id in questionnaire.criterion_ids:
        level = draw.choices(range(4), weights=weights)[0]
        expected = [e.id for e in version.by_id[criterion_id].expected_evidence]
        covers = expected if level == 3 else expected[:1]
        pieces = (Evidence("Document", frozenset(covers)),) if level >= 2 else ()
        answers[criterion_id] = Answer(level=level, evidence=pieces)
    scope = questionnaire.criterion_ids if questionnaire.partial else None
    profile = {"type_structure": "association", "registres": ["presence_proximite"]}
    return f"demo {name}", score(version, profile=profile, answers=answers, scope=scope)


def _random(
    version: CriteriaVersion, seed: int, scope: tuple[str, ...] | None, good: bool = False
) -> tuple[str, Result]:
    """Random profile and answers; `good` draws mostly level 3 with every expected piece covered."""
    draw = random.Random(seed)
    profile: dict[str, Any] = {}
    for field in version.profile_fields:
        if draw.random() < 0.2:
            continue
        values = [o.value for o in field.options]
        if field.kind == "boolean":
            profile[field.id] = draw.random() < 0.5
        elif field.kind == "choice":
            profile[field.id] = draw.choice(values)
        else:
            profile[field.id] = draw.sample(values, draw.randint(0, len(values)))
    answers: dict[str, Answer] = {}
    for criterion in version.active:
        roll = draw.random()
        if good:
            level = draw.choices(range(4), weights=(1, 1, 4, 60))[0]
            covers = frozenset(e.id for e in criterion.expected_evidence)
            answers[criterion.id] = Answer(level=level, evidence=(Evidence("Dossier", covers),))
            continue
        if roll < 0.1:
            continue
        if roll < 0.18:
            answers[criterion.id] = Answer(not_applicable=True, justification=draw.choice(["", "Sans objet"]))
            continue
        expected = [e.id for e in criterion.expected_evidence]
        pieces = tuple(
            Evidence(
                draw.choice(["Pièce", expected[0]]),
                frozenset(draw.sample(expected, draw.randint(0, min(2, len(expected))))),
            )
            for _ in range(draw.randint(0, 2))
        )
        answers[criterion.id] = Answer(level=draw.randint(0, 3), evidence=pieces)
    kind = f"{'partial' if scope else 'full'}{' good' if good else ''}"
    return f"random {version.ref} {seed} {kind}", score(
        version, profile=profile, answers=answers, scope=scope
    )


def cases() -> dict[str, dict[str, Any]]:
    """Every stored case, computed by the scoring core as it is now."""
    catalog = load_catalog(ROOT)
    mini_catalog = load_catalog(ROOT / "tests" / "fixtures" / "catalog")
    found = [_example(catalog, "full@1.0.0"), _example(catalog, "express@1.0.0")]
    found += [_demo(catalog, name) for name in DEMO_WEIGHTS]
    version = catalog.criteria_version("x60-600@1.0.0")
    express = catalog.questionnaire("express@1.0.0").criterion_ids
    found += [_random(version, seed, None) for seed in range(8)]
    found += [_random(version, seed, express) for seed in range(20, 25)]
    found += [_random(version, seed, None, good=True) for seed in range(40, 48)]
    found += [_random(version, seed, express, good=True) for seed in range(50, 54)]
    mini = mini_catalog.criteria_version("mini@1.0.0")
    found += [_random(mini, seed, None) for seed in range(30, 36)]
    found += [_random(mini, seed, None, good=True) for seed in range(60, 64)]
    return {name: result.as_dict() for name, result in found}


if __name__ == "__main__":
    STORED.write_text(
        json.dumps(cases(), ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
