"""What reviews show: the review page, review states, a revision's review, results from either source.

The review's results come from the scoring core like the director's: the same inputs, with the
trainer's level in place of the director's where they differ (`reviewed_inputs`). Evidence ratings
are shown, not scored: a trainer who finds the evidence short proposes a lower level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments import service as assessments
from app.assessments.models import Assessment, AssessmentStatus, EvidenceLink, Snapshot
from app.catalog.service import Catalog
from app.db import pk
from app.locale import N_
from app.locale import gettext as _
from app.reviews.models import (
    AuditFinding,
    Decision,
    EvidenceRating,
    EvidenceVerdict,
    ReviewDecision,
    ReviewItem,
)
from app.scoring import models as scoring
from app.structures.models import Structure


class ReviewState(StrEnum):
    DRAFT = "brouillon"
    RETURNED = "retournee"
    TO_REVIEW = "a_relire"
    VALIDATED = "validee"
    TO_RENEW = "a_renouveler"

    @property
    def label(self) -> str:
        return _(STATE_LABELS[self])


STATE_LABELS = {
    ReviewState.DRAFT: N_("Brouillon"),
    ReviewState.RETURNED: N_("Retournée pour modifications"),
    ReviewState.TO_REVIEW: N_("À relire"),
    ReviewState.VALIDATED: N_("Validée"),
    ReviewState.TO_RENEW: N_("Validation à renouveler"),
}


def review_states(session: Session, assessments_: Sequence[Assessment]) -> dict[int, ReviewState]:
    """Each assessment's state; « validée » only while the validated snapshot is its latest one."""
    ids = [pk(a) for a in assessments_]
    decisions: dict[int, list[ReviewDecision]] = {}
    query = select(ReviewDecision).where(col(ReviewDecision.assessment_id).in_(ids))
    for row in session.exec(query.order_by(col(ReviewDecision.decided_at), col(ReviewDecision.id))):
        decisions.setdefault(row.assessment_id, []).append(row)
    latest = select(Snapshot.assessment_id, func.max(Snapshot.id)).where(col(Snapshot.assessment_id).in_(ids))
    latest_snapshot = dict(session.exec(latest.group_by(col(Snapshot.assessment_id))).all())
    return {pk(a): _state(a, decisions.get(pk(a), []), latest_snapshot.get(pk(a))) for a in assessments_}


def _state(
    assessment: Assessment, decisions: list[ReviewDecision], latest_snapshot: int | None
) -> ReviewState:
    if assessment.status == AssessmentStatus.DRAFT:
        returned = bool(decisions) and decisions[-1].decision == Decision.RETURNED
        return ReviewState.RETURNED if returned else ReviewState.DRAFT
    validations = [d for d in decisions if d.decision == Decision.VALIDATED]
    if not validations:
        return ReviewState.TO_REVIEW
    return ReviewState.VALIDATED if validations[-1].snapshot_id == latest_snapshot else ReviewState.TO_RENEW


@dataclass(frozen=True)
class CriterionReview:
    """The trainer's review of one criterion: the reviewed level and notes, and evidence ratings by link."""

    item: ReviewItem | None = None
    ratings: dict[int, EvidenceRating] = field(default_factory=dict)

    @property
    def diverges(self) -> bool:
        return self.item is not None and self.item.agrees is False


def reviews_of(session: Session, assessment: Assessment, revision: int) -> dict[str, CriterionReview]:
    """The review of one revision of `assessment`, by criterion."""
    items = session.exec(
        select(ReviewItem).where(
            ReviewItem.assessment_id == assessment.id, ReviewItem.assessment_revision == revision
        )
    )
    found = {item.criterion_id: CriterionReview(item) for item in items}
    rated = session.exec(
        select(EvidenceRating, EvidenceLink.criterion_id)
        .join(EvidenceLink, col(EvidenceRating.link_id) == col(EvidenceLink.id))
        .where(EvidenceLink.assessment_id == assessment.id, EvidenceRating.assessment_revision == revision)
    )
    for rating, criterion_id in rated:
        found.setdefault(criterion_id, CriterionReview()).ratings[rating.link_id] = rating
    return found


def reviewed_revision(assessment: Assessment) -> int | None:
    """The revision whose review the pages show: the submitted one, or the one returned for changes."""
    if assessment.status == AssessmentStatus.SUBMITTED:
        return assessment.revision
    return assessment.revision - 1 if assessment.revision > 1 else None


@dataclass(frozen=True)
class Tally:
    reviewed: frozenset[str]
    """The applicable criteria the trainer gave a level (their own or the director's)."""
    divergent: tuple[str, ...]
    findings: Counter[AuditFinding]
    ratings: Counter[EvidenceVerdict]
    applicable: tuple[str, ...] = ()
    """The criteria that apply to the structure, in questionnaire order: the ones a review must see."""

    @property
    def unreviewed(self) -> int:
        return len(self.applicable) - len(self.reviewed)


def tally(
    reviews: Mapping[str, CriterionReview], order: Sequence[str], applicable: Collection[str] | None = None
) -> Tally:
    """How far a review has gone: applicable criteria given a level, divergences (in `order`), findings,
    ratings. A criterion the profile rules out is not counted (`applicable`; None: all of `order`)."""
    items = [r.item for r in reviews.values() if r.item is not None]
    applies = tuple(c for c in order if applicable is None or c in applicable)
    return Tally(
        applicable=applies,
        reviewed=frozenset(
            i.criterion_id for i in items if i.agrees is not None and i.criterion_id in applies
        ),
        divergent=tuple(c for c in order if c in reviews and reviews[c].diverges),
        findings=Counter(item.finding for item in items if item.finding is not None),
        ratings=Counter(rating.rating for r in reviews.values() for rating in r.ratings.values()),
    )


def reviewed_inputs(
    inputs: Mapping[str, scoring.Answer], reviews: Mapping[str, CriterionReview]
) -> dict[str, scoring.Answer]:
    """The director's scoring inputs with the trainer's level wherever the trainer proposed another."""
    changed = dict(inputs)
    for criterion_id, review in reviews.items():
        item = review.item
        if item is None or item.agrees is not False:
            continue
        own = inputs.get(criterion_id, scoring.Answer())
        justification = item.comment if item.proposed_not_applicable else own.justification
        changed[criterion_id] = scoring.Answer(
            item.proposed_level, item.proposed_not_applicable, justification, own.evidence
        )
    return changed


@dataclass(frozen=True)
class Comparison:
    """The results of a submitted revision as the director answered it and as the trainer reviewed it."""

    own: scoring.Result
    reviewed: scoring.Result
    reviews: dict[str, CriterionReview]


def compare(
    session: Session, *, catalog: Catalog, assessment: Assessment, structure: Structure
) -> Comparison:
    """Score the assessment from both sources through the scoring core."""
    reviews = reviews_of(session, assessment, assessment.revision)
    inputs = assessments.scoring_inputs(session, assessment)
    own = assessments.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=inputs
    )
    reviewed = assessments.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=reviewed_inputs(inputs, reviews)
    )
    return Comparison(own, reviewed, reviews)


@dataclass(frozen=True)
class Summary:
    """What the structure is shown once a trainer has decided: the state, every decision (newest
    first, with who took it), and the review of the revision the latest decision closed."""

    state: ReviewState
    history: list[tuple[ReviewDecision, str]]
    reviews: dict[str, CriterionReview]

    @property
    def latest(self) -> ReviewDecision:
        return self.history[0][0]

    @property
    def decided_by(self) -> str:
        return self.history[0][1]


def decisions_of(session: Session, assessment: Assessment) -> list[tuple[ReviewDecision, str]]:
    """Every decision on `assessment`, newest first, with the name of the trainer who took it."""
    query = (
        select(ReviewDecision, User.name)
        .join(User, col(User.id) == col(ReviewDecision.decided_by))
        .where(ReviewDecision.assessment_id == assessment.id)
        .order_by(col(ReviewDecision.decided_at).desc(), col(ReviewDecision.id).desc())
    )
    return [(decision, name) for decision, name in session.exec(query)]


def summary(session: Session, assessment: Assessment) -> Summary | None:
    """The review as the structure sees it; None before any decision.

    The review of a revision still under review stays with the trainer until they decide.
    """
    history = decisions_of(session, assessment)
    if not history:
        return None
    state = review_states(session, [assessment])[pk(assessment)]
    return Summary(state, history, reviews_of(session, assessment, history[0][0].assessment_revision))


def returned_review(session: Session, assessment: Assessment) -> Summary | None:
    """For a draft returned for changes, the return and the trainer's notes shown beside each question."""
    if assessment.status != AssessmentStatus.DRAFT or assessment.revision == 1:
        return None
    found = summary(session, assessment)
    return found if found and found.latest.decision == Decision.RETURNED else None


def review_page(session: Session, *, catalog: Catalog, assessment: Assessment) -> dict[str, Any]:
    """What the review pages show: the director's answers and evidence beside the trainer's review."""
    structure = session.get(Structure, assessment.structure_id)
    assert structure is not None  # a foreign key
    bound = assessments.bound(catalog, assessment)
    loaded = assessments.load(session, assessment)
    result = assessments.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=loaded.inputs()
    )
    revision = reviewed_revision(assessment)
    reviews = reviews_of(session, assessment, revision) if revision else {}
    earlier = reviews_of(session, assessment, revision - 1) if revision and revision > 1 else {}
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
        "tally": tally(
            reviews, bound.questionnaire.criterion_ids, {r.criterion for r in result.criteria if r.applicable}
        ),
        "state": review_states(session, [assessment])[pk(assessment)],
        "decisions": decisions_of(session, assessment),
        "editable": assessment.status == AssessmentStatus.SUBMITTED,
        "findings": list(AuditFinding),
        "verdicts": list(EvidenceVerdict),
    }
