"""What the API reads: visible structures, submitted assessments and their parts, audited under a grant.

Every read goes through `app.accounts.permissions` with `Access.SUBMITTED`, and the API shows
submitted assessments only, to every caller: it never shows more than the web interface would.
Lists are read a page at a time after a cursor (`_after`); the shapes answered are built in
`app/api/views.py`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select as select_columns
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import ApiToken, Role, User
from app.accounts.permissions import Access, can, owned_assessment, running_grants, structure_ids
from app.api import views
from app.api.models import (
    AnswerOut,
    AssessmentDetailOut,
    AssessmentOut,
    EvidenceOut,
    EvidenceUse,
    ResultOut,
    ScoreOut,
    SnapshotOut,
)
from app.assessments import service as assessments
from app.assessments.models import Assessment, AssessmentStatus, Evidence, EvidenceLink, Snapshot
from app.catalog.service import Catalog
from app.db import audit_each, pk, utcnow
from app.scoring.answers import parse_text, resolve, scored
from app.structures.models import Structure

Row = TypeVar("Row")


def visible_structures(session: Session, *, user: User, after: int, limit: int) -> list[Structure]:
    """The structures `user` may see (as on the web's « Mes structures »), by id."""
    allowed = structure_ids(session, user, Access.SUBMITTED)
    query = select(Structure)
    if allowed is not None:
        query = query.where(col(Structure.id).in_(allowed))
    return _after(session, query, Structure.id, after=after, limit=limit)


def visible_structure(session: Session, *, user: User, structure_id: int) -> Structure | None:
    structure = session.get(Structure, structure_id)
    return structure if structure and can(session, user, Access.SUBMITTED, structure_id) else None


def submitted_assessments(
    session: Session, *, structure: Structure, after: int, limit: int
) -> list[AssessmentOut]:
    query = select(Assessment).where(
        Assessment.structure_id == structure.id, Assessment.status == AssessmentStatus.SUBMITTED
    )
    found = _after(session, query, Assessment.id, after=after, limit=limit)
    return [views.assessment_out(assessment) for assessment in found]


def visible_assessment(session: Session, *, user: User, assessment_id: int) -> Assessment | None:
    """A submitted assessment `user` may see; drafts never are, whoever asks."""
    found = owned_assessment(session, user, assessment_id)  # with the access, in one query
    if found is None or found.status != AssessmentStatus.SUBMITTED:
        return None
    return found if can(session, user, Access.SUBMITTED, found.structure_id) else None


SNAPSHOT_LISTED = tuple(
    col(column)
    for column in (
        Snapshot.id,
        Snapshot.assessment_id,
        Snapshot.revision,
        Snapshot.sha256,
        Snapshot.signature,
        Snapshot.key_id,
        Snapshot.created_at,
    )
)
"""What a listing shows of a snapshot: read as plain rows, not ORM objects, and never the canonical
JSON (tens of KB each), which only `/snapshots/{id}/content` serves."""


def snapshots_of(session: Session, *, assessment_id: int, after: int, limit: int) -> list[SnapshotOut]:
    """A page of the snapshots of the assessment `assessment_id`, by id."""
    query = select_columns(*SNAPSHOT_LISTED).where(
        col(Snapshot.assessment_id) == assessment_id, col(Snapshot.id) > after
    )
    return views.snapshots_out(session.execute(query.order_by(col(Snapshot.id)).limit(limit)).mappings())


def latest_snapshot(session: Session, *, assessment_id: int) -> SnapshotOut | None:
    query = select_columns(*SNAPSHOT_LISTED).where(col(Snapshot.assessment_id) == assessment_id)
    found = session.execute(query.order_by(col(Snapshot.revision).desc()).limit(1)).mappings().first()
    return None if found is None else views.snapshots_out([found])[0]


def visible_snapshot(session: Session, *, user: User, snapshot_id: int) -> tuple[Snapshot, Assessment] | None:
    """A snapshot of a submitted assessment `user` may see, with that assessment."""
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        return None
    assessment = visible_assessment(session, user=user, assessment_id=snapshot.assessment_id)
    return None if assessment is None else (snapshot, assessment)


def evidence_of(session: Session, *, assessment: Assessment, after: int, limit: int) -> list[EvidenceOut]:
    """The evidence supporting an assessment, by id, each with the criteria it supports."""
    ids = select(EvidenceLink.evidence_id).where(EvidenceLink.assessment_id == assessment.id)
    query = select(Evidence).where(col(Evidence.id).in_(ids))
    pieces = _after(session, query, Evidence.id, after=after, limit=limit)
    links = session.exec(
        select(EvidenceLink.evidence_id, EvidenceLink.criterion_id).where(
            EvidenceLink.assessment_id == assessment.id,
            col(EvidenceLink.evidence_id).in_([pk(piece) for piece in pieces]),
        )
    )
    criteria: dict[int, list[str]] = {}
    for evidence_id, criterion_id in links:
        criteria.setdefault(evidence_id, []).append(criterion_id)
    return [
        views.evidence_out(piece, criteria=sorted(criteria.get(pk(piece), [])), assessment_id=pk(assessment))
        for piece in pieces
    ]


def linked_evidence(session: Session, *, assessment: Assessment, evidence_id: int) -> Evidence | None:
    """A piece of evidence, if it supports `assessment`."""
    query = (
        select(Evidence)
        .join(EvidenceLink)
        .where(EvidenceLink.assessment_id == assessment.id, Evidence.id == evidence_id)
    )
    return session.exec(query).first()


def record_reads(
    session: Session, *, user: User, token: ApiToken, path: str, read: list[tuple[SQLModel, int]]
) -> None:
    """Write one audit entry per object an auditor read under a grant (`read`: object, structure id)."""
    if user.role != Role.AUDITOR or not read:
        return
    grants = running_grants(session, auditor_id=pk(user))
    entries = [
        (obj, structure_id, {"grant": grants.get(structure_id), "token": token.id, "path": path})
        for obj, structure_id in read
    ]
    audit_each(session, actor_id=user.id, action="api.read", entries=entries)
    session.commit()


# What needs the database or the scoring core to compute.


def assessment_detail(session: Session, *, catalog: Catalog, assessment: Assessment) -> AssessmentDetailOut:
    """The assessment with its result, computed as the web's results page computes it."""
    structure = _structure_of(session, assessment)
    result = assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    out = views.assessment_out(assessment).model_dump()
    return AssessmentDetailOut(**out, result=ResultOut.model_validate(result.as_dict()))


def answers_of(
    session: Session, *, catalog: Catalog, assessment: Assessment, after: str, limit: int
) -> list[AnswerOut]:
    """The assessment's answers by criterion id, each with its predicted finding and evidence."""
    structure = _structure_of(session, assessment)
    loaded = assessments.load(session, assessment)
    result = assessments.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=loaded.inputs()
    )
    results = {r.criterion: r for r in result.criteria}
    return [
        AnswerOut(
            criterion=criterion_id,
            level=answer.level,
            not_applicable=answer.not_applicable,
            justification=answer.justification,
            comment=answer.comment,
            finding=results[criterion_id].finding.value if criterion_id in results else "",
            effective_level=results[criterion_id].effective_level if criterion_id in results else None,
            evidence=[
                EvidenceUse(id=piece.id, covers=sorted(filter(None, link.covers.split(","))))
                for link, piece in loaded.links.get(criterion_id, [])
            ],
        )
        for criterion_id, answer in sorted(loaded.answers.items())
        if criterion_id > after
    ][:limit]


def score_document(catalog: Catalog, text: str) -> ScoreOut:
    """Score an answers document (JSON) as `autodiag score --json` does; store nothing."""
    request = resolve(catalog, parse_text(text, json_only=True))
    result = scored(request, today=utcnow().date())
    return ScoreOut.model_validate({"questionnaire": request.questionnaire.ref, **result.as_dict()})


def _after(session: Session, query: SelectOfScalar[Row], key: Any, *, after: int, limit: int) -> list[Row]:
    """One page of `query`: the first `limit` rows whose `key` comes after `after`, in `key` order."""
    return list(session.exec(query.where(col(key) > after).order_by(col(key)).limit(limit)))


def _structure_of(session: Session, assessment: Assessment) -> Structure:
    structure = session.get(Structure, assessment.structure_id)
    assert structure is not None  # a foreign key
    return structure
