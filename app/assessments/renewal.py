"""What a surveillance or renewal assessment asks to reconfirm: only what has expired since.

It starts from an earlier assessment like any carried one (every answer marked « À reconfirmer »),
then keeps as confirmed each answer that is still current: written on or after the previous
audit, and whose evidence is all within its validity on `today`. The rest stays to reconfirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.assessments.models import Answer, Assessment, AssessmentKind, Evidence, EvidenceLink
from app.catalog.models import CriteriaVersion
from app.scoring.evidence import months_before


@dataclass(frozen=True)
class Renewal:
    """A surveillance or renewal start: what expired is dated by `since` (the previous audit) and `today`."""

    kind: AssessmentKind
    since: date | None
    today: date


def keep_current(
    session: Session,
    *,
    version: CriteriaVersion,
    source: Assessment,
    to: Assessment,
    since: date | None,
    today: date,
) -> int:
    """Clear the « À reconfirmer » mark of `to`'s carried answers that have not expired; return how many."""
    written = {
        a.criterion_id: a.updated_at.date()
        for a in session.exec(select(Answer).where(Answer.assessment_id == source.id))
    }
    stale = _expired_evidence(session, version=version, to=to, today=today)
    kept = 0
    for answer in session.exec(select(Answer).where(Answer.assessment_id == to.id, col(Answer.carried_over))):
        old = since is not None and written.get(answer.criterion_id, date.min) < since
        if old or answer.criterion_id in stale:
            continue
        answer.carried_over = False
        session.add(answer)
        kept += 1
    for link in session.exec(select(EvidenceLink).where(EvidenceLink.assessment_id == to.id)):
        if link.criterion_id not in stale:
            link.carried_over = False
            session.add(link)
    return kept


def _expired_evidence(session: Session, *, version: CriteriaVersion, to: Assessment, today: date) -> set[str]:
    """The criteria with a piece of evidence past its validity (or undated where a validity applies)."""
    query = (
        select(EvidenceLink, Evidence)
        .join(Evidence, col(Evidence.id) == col(EvidenceLink.evidence_id))
        .where(EvidenceLink.assessment_id == to.id)
    )
    found = set()
    for link, piece in session.exec(query):
        criterion = version.by_id.get(link.criterion_id)
        covered = set(filter(None, link.covers.split(",")))
        for item in criterion.expected_evidence if criterion else ():
            dated = piece.document_date
            valid = dated is not None and dated >= months_before(today, item.validity_months or 0)
            if item.validity_months and item.id in covered and not valid:
                found.add(link.criterion_id)
    return found
