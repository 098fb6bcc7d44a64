"""Translation files: every id checked, every fallback to French listed, nothing scored differently."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.catalog.loader import CatalogError, load_catalog
from app.catalog.service import Catalog
from app.catalog.translations import translate_catalog
from app.scoring.answers import parse_text, resolve, scored

FIXTURE = Path(__file__).parent.parent / "fixtures" / "catalog"
EXAMPLE = Path(__file__).parents[2] / "questionnaires" / "examples" / "answers.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "catalog")
    return tmp_path / "catalog"


def write(root: Path, relative: str, content: dict[str, Any] | str) -> None:
    text = (
        content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
    )
    (root / relative).write_text(text, encoding="utf-8")


def first_criterion(root: Path) -> dict[str, Any]:
    data = yaml.safe_load((root / "criteria/mini/1.0.0.yaml").read_text(encoding="utf-8"))
    return data["criteria"][0]


def translation_problems(root: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        translate_catalog(load_catalog(root), "en")
    return [str(problem) for problem in caught.value.problems]


def test_the_shipped_english_translation_is_complete(catalog: Catalog) -> None:
    english, fallbacks = translate_catalog(catalog, "en")
    assert fallbacks == []
    version = english.criteria_version("x60-600")
    french = catalog.criteria_version("x60-600")
    assert version.by_id["DEO-01"].title == "Reference charter adopted, ethics charter written and signed"
    assert [c.id for c in version.criteria] == [c.id for c in french.criteria]
    assert {w.id: w.title for w in version.workshops}["politique_qualite"] == "Quality policy"
    assert english.questionnaire("full").criterion_ids == catalog.questionnaire("full").criterion_ids
    assert english.criteria_hashes == catalog.criteria_hashes


def test_a_translation_changes_no_score(catalog: Catalog) -> None:
    english, _ = translate_catalog(catalog, "en")
    text = EXAMPLE.read_text(encoding="utf-8")
    french_result, english_result = (
        scored(resolve(c, parse_text(text)), today=date(2026, 12, 1)) for c in (catalog, english)
    )
    assert french_result.verdict == english_result.verdict
    assert [a.score for a in french_result.areas] == [a.score for a in english_result.areas]
    assert [g.criterion for g in french_result.gaps] == [g.criterion for g in english_result.gaps]


def test_a_missing_text_falls_back_to_french_and_is_listed(root: Path) -> None:
    criterion = first_criterion(root)
    write(
        root,
        "criteria/mini/1.0.0.en.yaml",
        {"translates": "mini@1.0.0", "language": "en", "criteria": {criterion["id"]: {"title": "A title"}}},
    )
    english, fallbacks = translate_catalog(load_catalog(root), "en")
    translated = english.criteria_version("mini@1.0.0").by_id[criterion["id"]]
    assert translated.title == "A title"
    assert translated.requirement == criterion["requirement"].strip()
    listed = [str(f) for f in fallbacks]
    assert (
        f"criteria/mini/1.0.0.en.yaml: {criterion['id']}: requirement: not translated: shown in French"
        in listed
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {"translates": "mini@1.0.0", "language": "en", "criteria": {"NOPE-01": {"title": "x"}}},
            "criteria/mini/1.0.0.en.yaml: no criterion 'NOPE-01' in the version it translates",
        ),
        (
            {"translates": "mini@2.0.0", "language": "en"},
            "criteria/mini/1.0.0.en.yaml: says it translates mini@2.0.0 into 'en', expected mini@1.0.0 into 'en'",
        ),
        (
            {"translates": "mini@1.0.0", "language": "en", "areas": {"nulle_part": {"title": "x"}}},
            "criteria/mini/1.0.0.en.yaml: no area 'nulle_part' in the version it translates",
        ),
        (
            {"translates": "mini@1.0.0", "language": "en", "criteria": {"X": {"titel": "x"}}},
            "criteria/mini/1.0.0.en.yaml: criteria.X.titel: Extra inputs are not permitted",
        ),
        ("translates: [unclosed", "criteria/mini/1.0.0.en.yaml: invalid YAML at line "),
    ],
)
def test_a_broken_translation_is_refused_with_its_file_and_place(
    root: Path, content: dict[str, Any] | str, expected: str
) -> None:
    write(root, "criteria/mini/1.0.0.en.yaml", content)
    assert any(problem.startswith(expected) for problem in translation_problems(root)), translation_problems(
        root
    )


def test_an_orphan_question_and_evidence_id_are_refused(root: Path) -> None:
    criterion = first_criterion(root)
    questionnaire = next((root / "questionnaires").iterdir())
    version = next(questionnaire.glob("*.yaml")).stem
    write(
        root,
        f"questionnaires/{questionnaire.name}/{version}.en.yaml",
        {
            "translates": f"{questionnaire.name}@{version}",
            "language": "en",
            "questions": {"ZZZ-99": {"text": "x"}},
        },
    )
    write(
        root,
        "criteria/mini/1.0.0.en.yaml",
        {
            "translates": "mini@1.0.0",
            "language": "en",
            "criteria": {criterion["id"]: {"expected_evidence": {"inconnue": "x"}}},
        },
    )
    found = translation_problems(root)
    assert any("no question 'ZZZ-99'" in problem for problem in found)
    assert any(f"no expected evidence of {criterion['id']}: 'inconnue'" in problem for problem in found)


def test_a_translation_file_is_not_read_as_a_version(root: Path) -> None:
    write(root, "criteria/mini/1.0.0.en.yaml", {"translates": "mini@1.0.0", "language": "en"})
    assert set(load_catalog(root).criteria) == set(load_catalog(FIXTURE).criteria)


def test_a_criterion_shown_partly_in_french_says_so(root: Path) -> None:
    criterion = first_criterion(root)
    write(
        root,
        "criteria/mini/1.0.0.en.yaml",
        {"translates": "mini@1.0.0", "language": "en", "criteria": {criterion["id"]: {"title": "A title"}}},
    )
    english, _ = translate_catalog(load_catalog(root), "en")
    assert f"mini@1.0.0 {criterion['id']}" in english.untranslated
    complete, _ = translate_catalog(load_catalog(FIXTURE), "en")
    assert complete.untranslated == frozenset()


def test_certification_facts_and_changelog_are_translated_and_unknown_ids_refused(
    catalog: Catalog, root: Path
) -> None:
    english, _ = translate_catalog(catalog, "en")
    version = english.criteria_version("x60-600@1.1.0")
    assert {f.id: f.title for f in version.certification}["cycle"] == "A four-year cycle"
    assert version.changelog[0].changes[0].startswith("Scoring v2:")
    write(
        root,
        "criteria/mini/1.0.0.en.yaml",
        {
            "translates": "mini@1.0.0",
            "language": "en",
            "certification": {"cycle": {"title": "Cycle"}},
            "changelog": {"9.9.9": ["x"]},
        },
    )
    found = translation_problems(root)
    assert "criteria/mini/1.0.0.en.yaml: no certification fact 'cycle' in the version it translates" in found
    assert "criteria/mini/1.0.0.en.yaml: no changelog version '9.9.9' in the version it translates" in found
