"""Getting through a questionnaire: each section in pages, where a question is, what is left to answer.

A section is cut into pages of at most `PAGE_SIZE` questions, in the questionnaire's order, the
pages as even as the count allows (34 questions: 5 pages of 7, never 4 of 8 and one of 2). The
criteria files carry no sub-theme that would cut every section sensibly, so the order of the norm
is kept and each page stays a short read that works without JavaScript (README, « Le questionnaire »).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.catalog.models import Question, Questionnaire, Section
from app.scoring.codes import Finding
from app.scoring.models import CriterionResult

PAGE_SIZE = 8


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a section: its number (from 1), how many there are, and its questions."""

    number: int
    count: int
    questions: tuple[Question, ...]
    first: int
    """The position in the section (from 1) of the page's first question."""


def pages_of(section: Section) -> tuple[Page, ...]:
    """The pages of `section`, as even as `PAGE_SIZE` allows."""
    questions = section.questions
    count = -(-len(questions) // PAGE_SIZE)
    size = -(-len(questions) // count)
    return tuple(
        Page(number + 1, count, questions[start : start + size], start + 1)
        for number, start in enumerate(range(0, len(questions), size))
    )


def page_holding(section: Section, criterion_id: str) -> Page:
    """The page of `section` that asks about `criterion_id` (the first page when it does not)."""
    pages = pages_of(section)
    found = (p for p in pages if any(q.criterion == criterion_id for q in p.questions))
    return next(found, pages[0])


def unanswered(questionnaire: Questionnaire, results: Mapping[str, CriterionResult]) -> list[str]:
    """The questions that apply to the structure and have no answer yet, in the questionnaire's order."""
    return [
        q.criterion
        for s in questionnaire.sections
        for q in s.questions
        if (r := results.get(q.criterion)) is not None and r.applicable and r.finding == Finding.NON_RENSEIGNE
    ]


def next_unanswered(questionnaire: Questionnaire, open_ids: list[str], *, after: str | None) -> str | None:
    """The first question left to answer after `after` in the questionnaire, going round to the start."""
    if not open_ids:
        return None
    order = [q.criterion for s in questionnaire.sections for q in s.questions]
    position = order.index(after) if after in order else -1
    later = set(order[position + 1 :])
    return next((c for c in open_ids if c in later), open_ids[0])


def question_url(assessment_id: int, questionnaire: Questionnaire, criterion_id: str) -> str:
    """The section page, at the right page, that shows `criterion_id` (its anchor included)."""
    section = next(s for s in questionnaire.sections if any(q.criterion == criterion_id for q in s.questions))
    page = page_holding(section, criterion_id)
    query = f"?page={page.number}" if page.number > 1 else ""
    return f"/autoevaluations/{assessment_id}/sections/{section.id}{query}#q-{criterion_id}"
