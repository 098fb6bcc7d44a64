"""The mock-audit report (« rapport d'audit blanc »): a trainer's review of one submitted revision.

Its findings on AFNOR Certification's scale, by type and by area; the evidence ratings; where the
trainer's level differs from the director's (the director's as the signed snapshot of that revision
holds it, since the answers may have changed after a return); the results from both; the decision.

Who reads it: those who review the structure, at any time; those who read its drafts (its
director), once a trainer has decided, as the results page shows the review (`results.summary`).
Auditors reading under a grant never see it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.permissions import Access, can
from app.assessments import service as assessments
from app.assessments.models import Assessment, Evidence, EvidenceLink, Snapshot
from app.catalog.models import Area, CriteriaVersion, Criterion
from app.catalog.service import Catalog
from app.reviews import results
from app.reviews.models import AuditFinding, EvidenceRating, ReviewDecision, ReviewItem

NOT_READ: Any = object()
"""`may_read`'s `summary` when the caller has not read the review."""


def may_read(session: Session, user: User, assessment: Assessment, *, summary: Any = NOT_READ) -> bool:
    """Whether `user` may read the assessment's mock-audit report (see the module's docstring).

    `summary`: the review's summary (`results.summary`) when the caller has read it already."""
    if can(session, user, Access.REVIEW, assessment.structure_id):
        return True
    if not can(session, user, Access.READ, assessment.structure_id):
        return False
    return (results.summary(session, assessment) if summary is NOT_READ else summary) is not None


@dataclass(frozen=True)
class Noted:
    """A criterion the trainer gave a finding, with the director's declared level."""

    criterion: Criterion
    item: ReviewItem
    declared: dict[str, Any]


@dataclass(frozen=True)
class Rated:
    criterion_id: str
    title: str
    rating: EvidenceRating


@dataclass(frozen=True)
class AuditReport:
    revision: int | None
    by_type: list[tuple[AuditFinding, list[Noted]]]
    by_area: list[tuple[Area, Counter[AuditFinding], list[Noted]]]
    ratings: list[Rated]
    divergences: list[Noted]
    decisions: list[tuple[ReviewDecision, str]]
    comparison: results.Comparison | None


def report_revision(session: Session, user: User, assessment: Assessment) -> int | None:
    """The revision the report shows: the one under review, or for a reader the one last decided."""
    if can(session, user, Access.REVIEW, assessment.structure_id):
        return results.reviewed_revision(assessment)
    summary = results.summary(session, assessment)
    return summary.latest.assessment_revision if summary else None


def audit_report(session: Session, *, catalog: Catalog, assessment: Assessment, user: User) -> dict[str, Any]:
    """The report's context: the results page's frame, and the review of the revision shown."""
    bound = assessments.bound(catalog, assessment)
    version = bound.criteria
    revision = report_revision(session, user, assessment)
    reviews = results.reviews_of(session, assessment, revision) if revision else {}
    declared = _declared(session, assessment, revision)
    noted = [
        Noted(version.by_id[cid], review.item, declared.get(cid, {}))
        for cid in bound.questionnaire.criterion_ids
        if (review := reviews.get(cid)) is not None and review.item is not None
    ]
    structure = assessments.structure_of(session, assessment)
    comparison = None
    if revision == assessment.revision and assessment.submitted_at is not None:
        comparison = results.compare(session, catalog=catalog, assessment=assessment, structure=structure)
    report = AuditReport(
        revision,
        [(kind, [n for n in noted if n.item.finding is kind]) for kind in AuditFinding],
        _by_area(version, noted),
        _ratings(session, reviews),
        [n for n in noted if n.item.agrees is False],
        [d for d in results.decisions_of(session, assessment) if d[0].assessment_revision == revision],
        comparison,
    )
    return {
        "assessment": assessment,
        "structure": structure,
        "questionnaire": bound.questionnaire,
        "version": version,
        "report": report,
    }


def _by_area(
    version: CriteriaVersion, noted: list[Noted]
) -> list[tuple[Area, Counter[AuditFinding], list[Noted]]]:
    grouped = []
    for area in version.areas:
        found = [n for n in noted if n.criterion.area == area.id and n.item.finding is not None]
        grouped.append((area, Counter(n.item.finding for n in found if n.item.finding), found))
    return grouped


def _declared(session: Session, assessment: Assessment, revision: int | None) -> dict[str, dict[str, Any]]:
    """The director's answers of `revision`, as its signed snapshot holds them."""
    if revision is None:
        return {}
    snapshot = session.exec(
        select(Snapshot.canonical_json).where(
            Snapshot.assessment_id == assessment.id, Snapshot.revision == revision
        )
    ).first()
    if snapshot is None:
        return {}
    answers: dict[str, dict[str, Any]] = json.loads(snapshot)["answers"]
    return answers


def _ratings(session: Session, reviews: dict[str, results.CriterionReview]) -> list[Rated]:
    """Every evidence rating of the review, by criterion then evidence title."""
    by_link = {link_id: rating for review in reviews.values() for link_id, rating in review.ratings.items()}
    if not by_link:
        return []
    rows = session.exec(
        select(EvidenceLink.id, EvidenceLink.criterion_id, Evidence.title)
        .join(Evidence, col(Evidence.id) == col(EvidenceLink.evidence_id))
        .where(col(EvidenceLink.id).in_(list(by_link)))
    )
    found = [Rated(criterion_id, title, by_link[pk_]) for pk_, criterion_id, title in rows if pk_ is not None]
    return sorted(found, key=lambda r: (r.criterion_id, r.title, r.rating.id or 0))
