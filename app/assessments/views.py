"""What the questionnaire pages show: their context, each section's score, and the reply to a
write to one question (a redirect, the section page, or the regions of the question htmx asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.assessments import carry, evidence, navigation, service, snapshot, workbook_changes, workbook_import
from app.assessments.models import SUBMITTED, Answer, Assessment, AssessmentStatus, Loaded
from app.catalog.models import CriteriaVersion, Question, Questionnaire, Section
from app.catalog.service import Catalog
from app.errors import ServiceError
from app.locale import format_size
from app.locale import gettext as _
from app.scoring import models as scoring
from app.scoring.service import area_scores, progress_of
from app.web import is_fragment, render

QUESTION_RESPONSE = "assessments/partials/question_response.html"
Remarks = Callable[[Assessment], object]
"""The trainer's remarks on a draft returned for changes (None otherwise), given to the routes by
`app.deps.ReviewRemarks`: the reviews domain sits above this one."""


@dataclass(frozen=True)
class Outcome:
    """What a write to one question did, shown in that question; `posted` keeps input not saved.

    `errors` and `notices` are keyed by field, or by region: « reponse » or « preuve ».
    """

    criterion: str
    status: int = 200
    posted: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    revision: int | None = None
    newer: Answer | None = None
    stale: bool = False

    @classmethod
    def refused(cls, criterion: str, error: ServiceError, *, region: str, posted: dict[str, Any]) -> Outcome:
        """A refused write: its messages by field (else in `region`); a stale one shows the newer answer."""
        errors = error.problems or {region: error.message}
        if not isinstance(error, service.StaleAnswerError):
            return cls(criterion, error.status, posted, errors)
        newer = error.current
        revision = newer.revision if newer else 0
        return cls(criterion, error.status, posted, errors, revision=revision, newer=newer, stale=True)


@dataclass(frozen=True, slots=True)
class SectionScore:
    """A section's progress and area scores, as a `scoring.Result` has them for the whole assessment."""

    progress: scoring.Progress
    areas: tuple[scoring.AreaScore, ...]


def section_scores(
    version: CriteriaVersion, questionnaire: Questionnaire, result: scoring.Result
) -> dict[str, SectionScore]:
    """Each section's progress and area scores, summed by the scoring core from the assessment's `result`
    (scoring each section again would judge every criterion a second time)."""
    by_criterion = {r.criterion: r for r in result.criteria}
    scores = {}
    for section in questionnaire.sections:
        weighted = [
            (version.by_id[q.criterion].weight, by_criterion[q.criterion])
            for q in section.questions
            if q.criterion in by_criterion
        ]
        areas = area_scores(version, weighted)
        scores[section.id] = SectionScore(progress_of(areas), areas)
    return scores


def section_of(questionnaire: Questionnaire, criterion_id: str) -> Section:
    """The section asking about `criterion_id`; 404 when the questionnaire does not ask it."""
    found = next(
        (s for s in questionnaire.sections for q in s.questions if q.criterion == criterion_id), None
    )
    if found is None:
        raise HTTPException(404, _("Cette question n'existe pas dans ce questionnaire."))
    return found


def _question(section: Section, criterion_id: str) -> Question:
    return next(q for q in section.questions if q.criterion == criterion_id)


def context(
    request: Request,
    session: Session,
    catalog: Catalog,
    assessment: Assessment,
    *,
    may_write: bool,
    remarks: Remarks | None,
    evidence_list: bool = True,
    loaded: Loaded | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What the assessment pages show: questions, answers, evidence, live results per section.

    `may_write`: the reader may change the assessment (then a draft shows its forms);
    `remarks` None and `evidence_list` False leave out what a reply to a write does not show;
    `loaded`: the answers and evidence, when the write read them already.
    """
    structure = service.structure_of(session, assessment)
    bound = service.bound(catalog, assessment)
    loaded = loaded or service.load(session, assessment)
    result = service.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=loaded.inputs()
    )
    attached = {piece.id for pairs in loaded.links.values() for _link, piece in pairs}
    return {
        "assessment": assessment,
        "structure": structure,
        "questionnaire": bound.questionnaire,
        "version": bound.criteria,
        "result": result,
        "sections": section_scores(bound.criteria, bound.questionnaire, result),
        "by_criterion": {r.criterion: r for r in result.criteria},
        "answers": loaded.answers,
        "links": loaded.links,
        "relied_on": evidence.relied_on(session, attached) if evidence_list and attached else set(),
        # A trainer or an administrator reading a draft sees it as its director does, without forms.
        "editable": assessment.status == AssessmentStatus.DRAFT and may_write,
        "max_upload": format_size(request.app.state.settings.max_upload_bytes),
        "outcome": None,
        "part": None,
        "returned_review": remarks(assessment) if remarks else None,
        **extra,
    }


def paging(
    page: dict[str, Any], section: Section, shown: navigation.Page, *, after: str | None = None
) -> dict[str, Any]:
    """What a section page adds to `context`: its page of questions and the next one left to answer.

    The next one is looked for after `after` (the question just saved), else from this page on.
    """
    questionnaire: Questionnaire = page["questionnaire"]
    if after is None:
        order = [q.criterion for s in questionnaire.sections for q in s.questions]
        position = order.index(shown.questions[0].criterion)
        after = order[position - 1] if position else None
    left = navigation.unanswered(questionnaire, page["by_criterion"])
    return {
        "section": section,
        "shown": shown,
        "next_open": navigation.next_unanswered(questionnaire, left, after=after),
    }


def review_context(
    request: Request, session: Session, catalog: Catalog, assessment: Assessment, **given: Any
) -> dict[str, Any]:
    """The page before submitting: `context`, what to look at, and where each question is."""
    page = context(request, session, catalog, assessment, **given)
    where = {q.criterion: (s, q) for s in page["questionnaire"].sections for q in s.questions}
    pending = carry.to_reconfirm(page["questionnaire"], page["answers"].values())
    return page | {"review": snapshot.review_of(page["result"], to_reconfirm=pending), "where": where}


def evidence_form_context(
    request: Request, session: Session, catalog: Catalog, assessment: Assessment, *, criterion_id: str
) -> dict[str, Any]:
    """The form adding evidence to one question of a draft, with the structure's library."""
    found = section_of(service.bound(catalog, assessment).questionnaire, criterion_id)
    if assessment.status != AssessmentStatus.DRAFT:
        raise HTTPException(409, _(SUBMITTED))
    page = context(
        request,
        session,
        catalog,
        assessment,
        may_write=True,
        remarks=None,
        evidence_list=False,
    )
    return page | {
        "section": found,
        "question": _question(found, criterion_id),
        "part": "evidence_form",
        "library": evidence.library(session, structure_id=assessment.structure_id),
    }


def after_write(
    request: Request,
    session: Session,
    catalog: Catalog,
    assessment: Assessment,
    outcome: Outcome,
    *,
    part: str,
    remarks: Remarks,
    loaded: Loaded | None = None,
) -> Response:
    """Back to the question after a write (303) unless htmx asks for it, or something went wrong.

    htmx gets only the regions of the question that `part` ("answer" or "evidence") changes, with
    the progress bars and the section score out of band; anyone else gets the whole section page.
    """
    fragment = is_fragment(request)
    questionnaire = service.bound(catalog, assessment).questionnaire
    found = section_of(questionnaire, outcome.criterion)
    if outcome.status == 200 and not fragment:
        url = navigation.question_url(assessment.id or 0, questionnaire, outcome.criterion)
        return RedirectResponse(url, status_code=303)
    page = context(
        request,
        session,
        catalog,
        assessment,
        may_write=True,  # the route's dependency let only those who may write through
        remarks=None if fragment else remarks,
        evidence_list=part == "evidence" or not fragment,
        outcome=outcome,
        part=part if fragment else None,  # the whole page shows whole questions
        question=_question(found, outcome.criterion),
        loaded=loaded,
    )
    shown = navigation.page_holding(found, outcome.criterion)
    page |= paging(page, found, shown, after=outcome.criterion if fragment else None)
    if "preuve" in outcome.errors:  # the evidence form stays open, with the structure's library
        page["library"] = evidence.library(session, structure_id=assessment.structure_id)
    return render(
        request, "assessments/section.html", page, partial=QUESTION_RESPONSE, status_code=outcome.status
    )


def workbook_context(
    session: Session, catalog: Catalog, assessment: Assessment, **extra: Any
) -> dict[str, Any]:
    """The page of the offline workbook: download it, upload it filled in, or see what was wrong."""
    service.check_draft(assessment)
    bound = service.bound(catalog, assessment)
    return {
        "assessment": assessment,
        "structure": service.structure_of(session, assessment),
        "questionnaire": bound.questionnaire,
        "version": bound.criteria,
        "max_size": format_size(workbook_import.MAX_BYTES),
        "errors": [],
        "written": None,
        **extra,
    }


def preview_context(
    session: Session, catalog: Catalog, assessment: Assessment, **extra: Any
) -> dict[str, Any]:
    """The preview of an uploaded workbook: `workbook_context` and where each question is."""
    page = workbook_context(session, catalog, assessment, **extra)
    where = {q.criterion: (s, q) for s in page["questionnaire"].sections for q in s.questions}
    return page | {"where": where, "Kind": workbook_changes.Kind, "kept": set(extra.get("kept", ()))}
