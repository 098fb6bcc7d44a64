"""What the API answers, built from catalog objects and database rows: pure functions, no session.

The queries that find those rows, and what needs the database to compute (a result, the answers with
their findings), are in `app/api/service.py`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from pydantic import TypeAdapter
from sqlalchemy import RowMapping

from app.api.models import (
    PREFIX,
    AssessmentOut,
    EvidenceOut,
    KeyOut,
    KeysOut,
    QuestionnaireDetailOut,
    QuestionnaireOut,
    ReferentialOut,
    SnapshotOut,
    StructureOut,
    VersionDetailOut,
    VersionOut,
)
from app.assessments.models import Assessment, Evidence, EvidenceKind
from app.assessments.snapshot import Signer
from app.catalog.models import CriteriaVersion, Questionnaire
from app.catalog.service import Catalog
from app.db import pk
from app.structures.models import Structure


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


def questionnaires(catalog: Catalog, *, after: str) -> list[QuestionnaireOut]:
    """The questionnaires whose reference comes after `after`, by reference, without their sections."""
    return [
        QuestionnaireOut.model_validate(questionnaire_out(catalog, q).model_dump(exclude={"sections"}))
        for ref, q in sorted(catalog.questionnaires.items())
        if ref > after
    ]


def structure_out(structure: Structure) -> StructureOut:
    return StructureOut.model_validate(structure, from_attributes=True)


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


SNAPSHOTS = TypeAdapter(list[SnapshotOut])


def snapshots_out(rows: Iterable[RowMapping]) -> list[SnapshotOut]:
    """Snapshots as listed, from the columns `service.SNAPSHOT_LISTED` reads: validated in one call."""
    return SNAPSHOTS.validate_python(
        [{**row, "content_url": f"{PREFIX}/snapshots/{row['id']}/content"} for row in rows]
    )


def public_keys(signer: Signer) -> KeysOut:
    raw = base64.b64encode(signer.public_bytes).decode("ascii")
    return KeysOut(keys=[KeyOut(key_id=signer.key_id, public_key=raw)])
