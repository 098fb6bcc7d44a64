"""The review pages (« audit blanc »): criterion by criterion, results from either source, decisions.

Only those who may review the structure (`Access.REVIEW`: its cohorts' trainers, administrators)
open them; anybody else gets 404. A write to one criterion answers htmx with that criterion's
partial, and anyone else with a redirect back to it, or the whole page showing the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.permissions import Access, can
from app.assessments import service as assessments
from app.assessments.models import Assessment, AssessmentStatus, EvidenceLink
from app.catalog.service import Catalog
from app.db import SessionDep, pk
from app.deps import CatalogDep, CurrentUser
from app.locale import N_
from app.locale import gettext as _
from app.reviews import results, service
from app.reviews.models import AuditFinding, Decision, EvidenceRating, EvidenceVerdict, ReviewItem
from app.structures.models import Structure
from app.web import render

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
    posted: dict[str, str] = field(default_factory=dict)
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
async def save_review(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Reviewable,
    criterion_id: str,
) -> Response:
    _asked(catalog, assessment, criterion_id)
    form = await request.form()
    posted = {name: str(form.get(name, "")) for name in ("niveau", "commentaire", "constat", "revision")}
    outcome = _write(
        criterion_id,
        posted,
        lambda base: service.save_review(
            session,
            assessment=assessment,
            user=user,
            criterion_id=criterion_id,
            base_revision=base,
            choice=posted["niveau"],
            comment=posted["commentaire"],
            finding=posted["constat"],
        ),
    )
    return _after_write(request, session, catalog, assessment, outcome)


@router.post("/autoevaluations/{assessment_id}/relecture/preuves/{link_id}")
async def rate_evidence(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Reviewable,
    link: ReviewedLink,
) -> Response:
    form = await request.form()
    posted = {name: str(form.get(name, "")) for name in ("appreciation", "commentaire", "revision")}
    outcome = _write(
        link.criterion_id,
        posted,
        lambda base: service.rate_evidence(
            session,
            assessment=assessment,
            link=link,
            user=user,
            base_revision=base,
            rating=posted["appreciation"],
            comment=posted["commentaire"],
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
async def return_for_changes(
    request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: Reviewable
) -> Response:
    return await _decide(
        request, session, catalog, user=user, assessment=assessment, decision=Decision.RETURNED
    )


@router.post("/autoevaluations/{assessment_id}/relecture/validation")
async def validate(
    request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: Reviewable
) -> Response:
    return await _decide(
        request, session, catalog, user=user, assessment=assessment, decision=Decision.VALIDATED
    )


async def _decide(
    request: Request,
    session: Session,
    catalog: Catalog,
    *,
    user: User,
    assessment: Assessment,
    decision: Decision,
) -> Response:
    message = str((await request.form()).get("message", ""))
    try:
        service.decide(session, assessment=assessment, user=user, decision=decision, comment=message)
    except service.ReviewError as error:
        errors = {"decision": str(error), "decided": decision.value}
        context = _context(session, catalog, assessment) | {"decision_errors": errors, "message": message}
        return render(request, PAGE, context, status_code=error.status_code)
    return RedirectResponse(f"/autoevaluations/{assessment.id}/relecture#decision", status_code=303)


def _write(
    criterion_id: str, posted: dict[str, str], write: Callable[[int], object], link_id: int | None = None
) -> Outcome:
    """Run one review write; a refusal keeps what was typed, a conflict shows the newer version."""
    if not re.fullmatch(r"\d{1,9}", posted["revision"]):
        errors = {"relecture": _("Le formulaire est incomplet : rechargez la page, puis recommencez.")}
        return Outcome(criterion_id, 422, posted, errors, link_id=link_id)
    try:
        write(int(posted["revision"]))
    except service.StaleReviewError as error:
        newer = error.current
        revision = newer.revision if newer else 0
        errors = {"relecture": str(error)}
        return Outcome(criterion_id, 409, posted, errors, link_id=link_id, newer=newer, revision=revision)
    except service.ReviewError as error:
        return Outcome(criterion_id, error.status_code, posted, {error.field: str(error)}, link_id=link_id)
    notice = _("Appréciation enregistrée.") if link_id else _("Relecture enregistrée.")
    return Outcome(criterion_id, notice=notice, link_id=link_id)


def _after_write(
    request: Request, session: Session, catalog: Catalog, assessment: Assessment, outcome: Outcome
) -> Response:
    """Back to the criterion in its section (303) unless htmx asks for it, or something went wrong."""
    wants_fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")
    context = _context(session, catalog, assessment, outcome=outcome)
    section = next(
        s for s in context["questionnaire"].sections for q in s.questions if q.criterion == outcome.criterion
    )
    if outcome.status == 200 and not wants_fragment:
        url = f"/autoevaluations/{assessment.id}/relecture/sections/{section.id}#r-{outcome.criterion}"
        return RedirectResponse(url, status_code=303)
    question = next(q for q in section.questions if q.criterion == outcome.criterion)
    context |= {"section": section, "question": question}
    return render(request, SECTION, context, partial=CRITERION, status_code=outcome.status)


def _asked(catalog: Catalog, assessment: Assessment, criterion_id: str) -> None:
    if criterion_id not in assessments.bound(catalog, assessment).questionnaire.criterion_ids:
        raise HTTPException(404, _("Cette question n'existe pas dans ce questionnaire."))


def _context(session: Session, catalog: Catalog, assessment: Assessment, **extra: Any) -> dict[str, Any]:
    """What the review pages show: the director's answers and evidence beside the trainer's review."""
    structure = session.get(Structure, assessment.structure_id)
    assert structure is not None  # a foreign key
    bound = assessments.bound(catalog, assessment)
    loaded = assessments.load(session, assessment)
    result = assessments.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=loaded.inputs()
    )
    revision = results.reviewed_revision(assessment)
    reviews = results.reviews_of(session, assessment, revision) if revision else {}
    earlier = results.reviews_of(session, assessment, revision - 1) if revision and revision > 1 else {}
    return {
        "assessment": assessment,
        "structure": structure,
        "questionnaire": bound.questionnaire,
        "version": bound.criteria,
        "result": result,
        "by_criterion": {r.criterion: r for r in result.criteria},
        "answers": loaded.answers,
        "links": loaded.links,
        "reviews": reviews,
        "earlier": earlier,
        "tally": results.tally(reviews, bound.questionnaire.criterion_ids),
        "state": results.review_states(session, [assessment])[pk(assessment)],
        "decisions": results.decisions_of(session, assessment),
        "editable": assessment.status == AssessmentStatus.SUBMITTED,
        "findings": list(AuditFinding),
        "verdicts": list(EvidenceVerdict),
        "outcome": None,
        "decision_errors": {},
        "message": "",
        **extra,
    }
