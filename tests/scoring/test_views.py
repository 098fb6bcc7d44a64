"""The core's codes said in the page's language, and the core kept free of the web to allow it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.catalog.models import CriteriaVersion
from app.config import PROJECT_ROOT
from app.locale import gettext, language
from app.scoring import views
from app.scoring.codes import ACTION_MSGIDS, REASON_MSGIDS, Action, Reason
from app.scoring.models import Answer
from app.scoring.service import score
from app.scoring.views import gap_action, reason

CORE = ("models.py", "plan.py", "service.py", "migration.py", "evidence.py")
PURE_IMPORTS = (
    "__future__",
    "calendar",
    "collections",
    "dataclasses",
    "datetime",
    "enum",
    "operator",
    "types",
    "typing",
)
ANSWERS = {"STR-01": Answer(level=3), "EVA-01": Answer(not_applicable=True)}


def test_reasons_and_actions_are_said_in_french_as_the_core_says_them(mini: CriteriaVersion) -> None:
    result = score(mini, profile={"nuit": True}, answers=ANSWERS)
    with language("fr"):
        assert [reason(r) for r in result.criteria] == [r.reason for r in result.criteria]
        assert [gap_action(gap) for gap in result.gaps] == [gap.action for gap in result.gaps]


def test_reasons_and_actions_are_said_in_english_on_an_english_page(
    mini: CriteriaVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The catalog's English of these sentences is merged separately: translate them here
    english = {
        "Déclaré au niveau %(level)s sans preuve jointe : plafonné au niveau %(cap)s (déclaré, non prouvé)": (
            "Declared at level %(level)s with no evidence attached: capped at level %(cap)s"
        ),
        "Joindre les preuves attendues : %(evidence)s.": "Attach the expected evidence: %(evidence)s.",
    }
    monkeypatch.setattr(views, "gettext", lambda message: english.get(message, gettext(message)))
    result = score(mini, profile={"nuit": True}, answers=ANSWERS)
    gaps = {gap.criterion: gap for gap in result.gaps}
    with language("en"):
        said = {cid: (reason(gap), gap_action(gap)) for cid, gap in gaps.items()}
    assert said["STR-01"] == (
        "Declared at level 3 with no evidence attached: capped at level 2",
        "Attach the expected evidence: Procédure de nuit.",
    )
    assert said["DEO-01"][0] == "Not answered"  # the catalog's own English


def test_a_gap_that_takes_the_criterions_own_action_shows_the_criteria_files_words(
    mini: CriteriaVersion,
) -> None:
    gap = next(g for g in score(mini, profile={}, answers={"PRO-01": Answer(level=1)}).gaps)
    assert gap.action_code is Action.CRITERION
    with language("en"):
        assert gap_action(gap) == "Formaliser la méthode."


@pytest.mark.parametrize("code", list(Reason))
def test_every_reason_has_its_french_sentence(code: Reason) -> None:
    assert code.msgid == REASON_MSGIDS[code]


def test_every_action_of_the_core_has_its_french_sentence() -> None:
    assert set(ACTION_MSGIDS) == set(Action) - {Action.CRITERION}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


@pytest.mark.parametrize("module", CORE)
def test_the_core_imports_nothing_of_the_web_the_database_or_the_clock(module: str) -> None:
    imported = imported_modules(PROJECT_ROOT / "app" / "scoring" / module)
    allowed = (*PURE_IMPORTS, "app.catalog.models", "app.catalog.checks", "app.scoring.")
    assert sorted(name for name in imported if not name.startswith(allowed)) == []
    assert "app.scoring.views" not in imported
    source = (PROJECT_ROOT / "app" / "scoring" / module).read_text(encoding="utf-8")
    assert not re.search(r"\b(today|now|utcnow|time)\(", source)  # dates come in, never from the clock
