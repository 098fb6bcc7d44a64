"""Personal API tokens, and what the API reads: visible structures, submitted assessments, their parts.

Every read goes through `app.accounts.permissions` with `Access.SUBMITTED`, and the API shows
submitted assessments only, to every caller: it never shows more than the web interface would.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from app.accounts.models import ApiToken, Role, User
from app.accounts.permissions import Access, can, running_grants, structure_ids
from app.api.models import (
    AnswerOut,
    AssessmentDetailOut,
    AssessmentOut,
    EvidenceOut,
    EvidenceUse,
    KeyOut,
    KeysOut,
    QuestionnaireDetailOut,
    ReferentialOut,
    ResultOut,
    ScoreOut,
    SnapshotOut,
    VersionDetailOut,
    VersionOut,
)
from app.assessments import service as assessments
from app.assessments.models import (
    Assessment,
    AssessmentStatus,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Snapshot,
)
from app.assessments.snapshot import Signer
from app.catalog.models import CriteriaVersion, Questionnaire
from app.catalog.service import Catalog
from app.db import audit, pk
from app.scoring.answers import parse_text, resolve, scored
from app.structures.models import Structure

PREFIX = "/api/v1"


def visible_structures(session: Session, *, user: User, after: int, limit: int) -> list[Structure]:
    """The structures `user` may see (as on the web's « Mes structures »), by id."""
    allowed = structure_ids(session, user, Access.SUBMITTED)
    query = select(Structure).where(col(Structure.id) > after)
    if allowed is not None:
        query = query.where(col(Structure.id).in_(allowed))
    return list(session.exec(query.order_by(col(Structure.id)).limit(limit)))


def visible_structure(session: Session, *, user: User, structure_id: int) -> Structure | None:
    structure = session.get(Structure, structure_id)
    return structure if structure and can(session, user, Access.SUBMITTED, structure_id) else None


def submitted_assessments(
    session: Session, *, structure: Structure, after: int, limit: int
) -> list[Assessment]:
    query = select(Assessment).where(
        Assessment.structure_id == structure.id,
        Assessment.status == AssessmentStatus.SUBMITTED,
        col(Assessment.id) > after,
    )
    return list(session.exec(query.order_by(col(Assessment.id)).limit(limit)))


def visible_assessment(session: Session, *, user: User, assessment_id: int) -> Assessment | None:
    """A submitted assessment `user` may see; drafts never are, whoever asks."""
    found = session.get(Assessment, assessment_id)
    if found is None or found.status != AssessmentStatus.SUBMITTED:
        return None
    return found if can(session, user, Access.SUBMITTED, found.structure_id) else None


def snapshots_of(session: Session, *, assessment: Assessment, after: int, limit: int) -> list[Snapshot]:
    query = select(Snapshot).where(Snapshot.assessment_id == assessment.id, col(Snapshot.id) > after)
    return list(session.exec(query.order_by(col(Snapshot.id)).limit(limit)))


def latest_snapshot(session: Session, *, assessment: Assessment) -> Snapshot | None:
    query = select(Snapshot).where(Snapshot.assessment_id == assessment.id)
    return session.exec(query.order_by(col(Snapshot.revision).desc())).first()


def visible_snapshot(session: Session, *, user: User, snapshot_id: int) -> tuple[Snapshot, Assessment] | None:
    """A snapshot of a submitted assessment `user` may see, with that assessment."""
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        return None
    assessment = visible_assessment(session, user=user, assessment_id=snapshot.assessment_id)
    return None if assessment is None else (snapshot, assessment)


def evidence_of(
    session: Session, *, assessment: Assessment, after: int, limit: int
) -> list[tuple[Evidence, list[str]]]:
    """The evidence supporting an assessment, by id, each with the criteria it supports."""
    ids = select(EvidenceLink.evidence_id).where(EvidenceLink.assessment_id == assessment.id)
    pieces = session.exec(
        select(Evidence)
        .where(col(Evidence.id).in_(ids), col(Evidence.id) > after)
        .order_by(col(Evidence.id))
        .limit(limit)
    ).all()
    links = session.exec(
        select(EvidenceLink.evidence_id, EvidenceLink.criterion_id).where(
            EvidenceLink.assessment_id == assessment.id,
            col(EvidenceLink.evidence_id).in_([pk(piece) for piece in pieces]),
        )
    )
    criteria: dict[int, list[str]] = {}
    for evidence_id, criterion_id in links:
        criteria.setdefault(evidence_id, []).append(criterion_id)
    return [(piece, sorted(criteria.get(pk(piece), []))) for piece in pieces]


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
    for obj, structure_id in read:
        after: dict[str, Any] = {"grant": grants.get(structure_id), "token": token.id, "path": path}
        audit(session, actor_id=user.id, action="api.read", obj=obj, structure_id=structure_id, after=after)
    session.commit()


# What the API answers, built from the catalog and the database.


def version_out(catalog: Catalog, version: CriteriaVersion) -> VersionOut:
    return VersionOut(
        ref=version.ref,
        referential=version.referential,
        version=version.version,
        title=version.title,
        status=version.status.value,
        published=version.published,
        sha256=catalog.criteria_hashes[version.ref],
        scoring_version=version.scoring.version,
        criteria_count=len(version.active),
        questionnaires=[q.ref for q in catalog.questionnaires_for(version.ref)],
    )


def version_detail(catalog: Catalog, version: CriteriaVersion) -> VersionDetailOut:
    return VersionDetailOut(
        **version_out(catalog, version).model_dump(),
        provenance=version.provenance,
        areas=list(version.areas),
        workshops=list(version.workshops),
        scale=list(version.scale),
        scoring=version.scoring,
        profile_fields=list(version.profile_fields),
    )


def referentials(catalog: Catalog) -> list[ReferentialOut]:
    """Every referential by id, its versions newest first."""
    return [
        ReferentialOut(id=ref, title=versions[0].title, versions=[version_out(catalog, v) for v in versions])
        for ref, versions in catalog.referentials().items()
    ]


def questionnaire_out(catalog: Catalog, questionnaire: Questionnaire) -> QuestionnaireDetailOut:
    return QuestionnaireDetailOut(
        ref=questionnaire.ref,
        id=questionnaire.id,
        version=questionnaire.version,
        title=questionnaire.title,
        description=questionnaire.description,
        status=questionnaire.status.value,
        partial=questionnaire.partial,
        criteria=questionnaire.criteria,
        sha256=catalog.questionnaire_hashes[questionnaire.ref],
        question_count=len(questionnaire.criterion_ids),
        sections=list(questionnaire.sections),
    )


def assessment_out(assessment: Assessment) -> AssessmentOut:
    return AssessmentOut(
        id=pk(assessment),
        structure_id=assessment.structure_id,
        status="submitted",
        revision=assessment.revision,
        questionnaire=assessment.questionnaire_ref,
        questionnaire_sha256=assessment.questionnaire_sha256,
        criteria=assessment.criteria_ref,
        criteria_sha256=assessment.criteria_sha256,
        created_at=assessment.created_at,
        submitted_at=assessment.submitted_at,
    )


def assessment_detail(session: Session, *, catalog: Catalog, assessment: Assessment) -> AssessmentDetailOut:
    """The assessment with its result, computed as the web's results page computes it."""
    structure = session.get(Structure, assessment.structure_id)
    assert structure is not None  # a foreign key
    result = assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    out = assessment_out(assessment).model_dump()
    return AssessmentDetailOut(**out, result=ResultOut.model_validate(result.as_dict()))


def answers_of(
    session: Session, *, catalog: Catalog, assessment: Assessment, after: str, limit: int
) -> list[AnswerOut]:
    """The assessment's answers by criterion id, each with its predicted finding and evidence."""
    structure = session.get(Structure, assessment.structure_id)
    assert structure is not None
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


def evidence_out(piece: Evidence, *, criteria: list[str], assessment_id: int) -> EvidenceOut:
    is_file = piece.kind == EvidenceKind.FILE
    return EvidenceOut(
        id=pk(piece),
        kind=piece.kind.value,
        title=piece.title,
        document_date=piece.document_date,
        owner=piece.owner,
        link=piece.link,
        filename=piece.filename,
        content_type=piece.content_type,
        size=piece.size,
        sha256=piece.sha256,
        criteria=criteria,
        file_url=f"{PREFIX}/assessments/{assessment_id}/evidence/{piece.id}/file" if is_file else None,
    )


def snapshot_out(snapshot: Snapshot) -> SnapshotOut:
    return SnapshotOut(
        id=pk(snapshot),
        assessment_id=snapshot.assessment_id,
        revision=snapshot.revision,
        sha256=snapshot.sha256,
        signature=snapshot.signature,
        key_id=snapshot.key_id,
        created_at=snapshot.created_at,
        content_url=f"{PREFIX}/snapshots/{snapshot.id}/content",
    )


def score_document(catalog: Catalog, text: str) -> ScoreOut:
    """Score an answers document (JSON) as `autodiag score --json` does; store nothing."""
    request = resolve(catalog, parse_text(text, json_only=True))
    return ScoreOut.model_validate({"questionnaire": request.questionnaire.ref, **scored(request).as_dict()})


def public_keys(signer: Signer) -> KeysOut:
    raw = base64.b64encode(signer.public_bytes).decode("ascii")
    return KeysOut(keys=[KeyOut(key_id=signer.key_id, public_key=raw)])
