"""The parts of a question card that no answer changes, rendered once per version, question and language.

A section page shows each question's title, badges, help, warning and guidance whatever was
answered; rendering them again on every request was most of the page's template time (issue 15).
They are rendered once by `templates/assessments/partials/question_head.html` and kept; the page
fills in only what depends on the answer. The choices of levels depend on the answer only through
the one that is checked, so they are kept once per choice (at most six: nothing, 0 to 3, « na »).
The cache holds the catalog objects it is keyed on by identity, so a key can never be reused by
another object, and the catalog is finite: no bound.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app import locale
from app.catalog.models import CriteriaVersion, Question

PARTS = frozenset({"head", "guidance", "levels"})
CHOICES = frozenset({"0", "1", "2", "3", "na"})
_rendered: dict[tuple[str, int, int, str, str], tuple[Any, Any, Markup]] = {}


@pass_context
def question_part(
    context: Context, version: CriteriaVersion, question: Question, part: str, chosen: str = ""
) -> Markup:
    """The `part` ("head", "guidance" or "levels") of `question`'s card, in the current language;
    `chosen`, the level checked among the choices ("0" to "3", "na", or nothing)."""
    if part not in PARTS:
        raise ValueError(f"unknown part of a question card: {part}")
    if part != "levels" or chosen not in CHOICES:
        chosen = ""  # a posted value that is no choice checks none, as nothing does
    key = (locale.current_language(), id(version), id(question), part, chosen)
    cached = _rendered.get(key)
    if cached is None:
        template = context.environment.get_template("assessments/partials/question_head.html")
        criterion = version.by_id[question.criterion]
        html = Markup(  # noqa: S704 - the output of an autoescaping template
            template.render(version=version, question=question, criterion=criterion, part=part, chosen=chosen)
        )
        cached = (version, question, html)
        if not context.environment.auto_reload:  # while templates are being edited, render afresh
            _rendered[key] = cached
    return cached[2]
