"""The review pages (« audit blanc »): criterion by criterion, results from either source, decisions.

Only those who may review the structure (`Access.REVIEW`: its cohorts' trainers, administrators)
open them; anybody else gets 404. A write to one criterion answers htmx with that criterion's
partial, and anyone else with a redirect back to it, or the whole page showing the error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.permissions import Access, can
from app.assessments import service as assessments
from app.assessments.models import Assessment, AssessmentStatus, EvidenceLink
from app.catalog.service import Catalog
from app.db import SessionDep
from app.deps import CatalogDep, CurrentUser
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.reviews import decisions, results, service
from app.reviews.models import (
    Decision,
    DecisionForm,
    EvidenceRating,
    RatingForm,
    ReviewForm,
    ReviewItem,
    RevisedForm,
)
from app.web import is_fragment, render

router = APIRouter()
PAGE, SECTION, CRITERION = "reviews/review.html", "reviews/section.html", "reviews/partials/criterion.html"
NOT_FOUND = N_("Cette autoévaluation n'existe pas ou ne vous est pas accessible.")
SOURCES = {"autoevaluation": N_("l'autoévaluation"), "relecture": N_("la relecture")}
"""The results' two sources, as the compare page names them after « selon » (translated where shown)."""


def reviewable(session: SessionDep, user: CurrentUser, assessment_id: int) -> Assessment:
    """An assessment of a structure `user` may review, else 404."""
    found = session.get(Assessment, assessment_id)
    if found is None or not can(session, user, Access.REVIEW, found.structure_id):
        raise HTTPException(404, _(NOT_FOUND))
    return found


Reviewable = Annotated[Assessment, Depends(reviewable)]


def reviewed_link(session: SessionDep, assessment: Reviewable, link_id: int) -> EvidenceLink:
    link = session.get(EvidenceLink, link_id)
    if link is None or link.assessment_id != assessment.id:
        raise HTTPException(404, _("Cette preuve n'est pas jointe à cette autoévaluation."))
    return link


ReviewedLink = Annotated[EvidenceLink, Depends(reviewed_link)]


@dataclass(frozen=True)
class Outcome:
    """What a write to one criterion did; `posted` keeps the input not saved, `newer` a conflicting row."""

    criterion: str
    status: int = 200
    posted: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notice: str = ""
    link_id: int | None = None
    newer: ReviewItem | EvidenceRating | None = None
    revision: int | None = None


@router.get("/autoevaluations/{assessment_id}/relecture")
def review_page(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Reviewable
) -> Response:
    return render(request, PAGE, _context(session, catalog, assessment))


@router.get("/autoevaluations/{assessment_id}/relecture/sections/{section_id}")
def review_section(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Reviewable, section_id: str
) -> Response:
    context = _context(session, catalog, assessment)
    found = next((s for s in context["questionnaire"].sections if s.id == section_id), None)
    if found is None:
        raise HTTPException(404, _("Cette section n'existe pas dans ce questionnaire."))
    return render(request, SECTION, context | {"section": found})


@router.post("/autoevaluations/{assessment_id}/relecture/criteres/{criterion_id}")
def save_review(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Reviewable,
    criterion_id: str,
    form: Annotated[ReviewForm, Form()],
) -> Response:
    _asked(catalog, assessment, criterion_id)
    outcome = _write(
        criterion_id,
        form,
        lambda base: service.save_review(
            session,
            assessment=assessment,
            user=user,
            criterion_id=criterion_id,
            base_revision=base,
            choice=form.niveau,
            comment=form.commentaire,
            finding=form.constat,
        ),
    )
    return _after_write(request, session, catalog, assessment, outcome)


@router.post("/autoevaluations/{assessment_id}/relecture/preuves/{link_id}")
def rate_evidence(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Reviewable,
    link: ReviewedLink,
    form: Annotated[RatingForm, Form()],
) -> Response:
    outcome = _write(
        link.criterion_id,
        form,
        lambda base: service.rate_evidence(
            session,
            assessment=assessment,
            link=link,
            user=user,
            base_revision=base,
            rating=form.appreciation,
            comment=form.commentaire,
        ),
        link_id=link.id,
    )
    return _after_write(request, session, catalog, assessment, outcome)


@router.get("/autoevaluations/{assessment_id}/relecture/resultats")
def compare(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    assessment: Reviewable,
    selon: str = "relecture",
) -> Response:
    source = selon if selon in SOURCES else "relecture"
    sources = {key: _(label) for key, label in SOURCES.items()}
    context = _context(session, catalog, assessment) | {"source": source, "sources": sources}
    if assessment.status == AssessmentStatus.SUBMITTED:
        context["comparison"] = results.compare(
            session, catalog=catalog, assessment=assessment, structure=context["structure"]
        )
    return render(request, "reviews/compare.html", context)


@router.post("/autoevaluations/{assessment_id}/relecture/retour")
def return_for_changes(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Reviewable,
    form: Annotated[DecisionForm, Form()],
) -> Response:
    return _decide(
        request, session, catalog, user=user, assessment=assessment, form=form, decision=Decision.RETURNED
    )


@router.post("/autoevaluations/{assessment_id}/relecture/validation")
def validate(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Reviewable,
    form: Annotated[DecisionForm, Form()],
) -> Response:
    return _decide(
        request, session, catalog, user=user, assessment=assessment, form=form, decision=Decision.VALIDATED
    )


def _decide(
    request: Request,
    session: Session,
    catalog: Catalog,
    *,
    user: User,
    assessment: Assessment,
    form: DecisionForm,
    decision: Decision,
) -> Response:
    unreviewed = _context(session, catalog, assessment)["tally"].unreviewed
    try:
        decisions.decide(
            session,
            assessment=assessment,
            user=user,
            decision=decision,
            comment=form.message,
            unreviewed=unreviewed,
            confirmed=form.confirmation,
        )
    except ServiceError as error:
        errors = {"decision": error.message, "decided": decision.value}
        context = _context(session, catalog, assessment) | {
            "decision_errors": errors,
            "message": form.message,
        }
        return render(request, PAGE, context, status_code=error.status)
    return RedirectResponse(f"/autoevaluations/{assessment.id}/relecture#decision", status_code=303)


def _write(
    criterion_id: str, form: RevisedForm, write: Callable[[int], object], link_id: int | None = None
) -> Outcome:
    """Run one review write; a refusal keeps what was typed, a conflict shows the newer version."""
    posted = form.model_dump()
    try:
        write(form.base_revision("relecture"))
    except service.StaleReviewError as error:
        newer = error.current
        revision = newer.revision if newer else 0
        problems = error.problems
        return Outcome(
            criterion_id, error.status, posted, problems, link_id=link_id, newer=newer, revision=revision
        )
    except ServiceError as error:
        return Outcome(criterion_id, error.status, posted, error.problems, link_id=link_id)
    notice = _("Appréciation enregistrée.") if link_id else _("Relecture enregistrée.")
    return Outcome(criterion_id, notice=notice, link_id=link_id)


def _after_write(
    request: Request, session: Session, catalog: Catalog, assessment: Assessment, outcome: Outcome
) -> Response:
    """Back to the criterion in its section (303) unless htmx asks for it, or something went wrong."""
    context = _context(session, catalog, assessment, outcome=outcome)
    section = next(
        s for s in context["questionnaire"].sections for q in s.questions if q.criterion == outcome.criterion
    )
    if outcome.status == 200 and not is_fragment(request):
        url = f"/autoevaluations/{assessment.id}/relecture/sections/{section.id}#r-{outcome.criterion}"
        return RedirectResponse(url, status_code=303)
    question = next(q for q in section.questions if q.criterion == outcome.criterion)
    context |= {"section": section, "question": question}
    return render(request, SECTION, context, partial=CRITERION, status_code=outcome.status)


def _asked(catalog: Catalog, assessment: Assessment, criterion_id: str) -> None:
    if criterion_id not in assessments.bound(catalog, assessment).questionnaire.criterion_ids:
        raise HTTPException(404, _("Cette question n'existe pas dans ce questionnaire."))


def _context(session: Session, catalog: Catalog, assessment: Assessment, **extra: Any) -> dict[str, Any]:
    """The review page's view, with no write's outcome unless `extra` gives one."""
    page = results.review_page(session, catalog=catalog, assessment=assessment)
    return page | {"outcome": None, "decision_errors": {}, "message": ""} | extra
