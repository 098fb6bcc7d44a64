"""Everything the service holds about a structure, in one zip (the GDPR's right of access and portability).

`donnees.json` has every record of the structure, table by table, as stored (passwords' hashes and
secrets' hashes left out: they are not data about anyone, and would help guessing); `preuves/` the
evidence files; `instantanes/` each signed snapshot's canonical JSON byte for byte, with its
signature, so the structure can check them offline with the public key (`/api/v1/keys`).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlmodel import Session, SQLModel, col, select

from app.accounts.models import User
from app.assessments.files import download_name, file_path
from app.assessments.models import (
    ActionItem,
    Answer,
    Assessment,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Snapshot,
)
from app.cohorts.models import Cohort, CohortStructure
from app.db import AuditEntry, audit, pk
from app.members.models import Invitation
from app.reviews.models import EvidenceRating, ReviewDecision, ReviewItem
from app.structures.models import AuditorGrant, Membership, Structure

FORMAT = "autodiag-structure-export/1"
PERSON_FIELDS = ("id", "email", "name", "role", "is_active", "language", "created_at")
HIDDEN = {"token_hash", "password_hash"}


def structure_records(session: Session, *, structure_id: int) -> dict[str, list[SQLModel]]:
    """Every row that belongs to the structure, by table (the people are read apart)."""
    assessment_ids = list(session.exec(select(Assessment.id).where(Assessment.structure_id == structure_id)))
    links = _rows(session, EvidenceLink, col(EvidenceLink.assessment_id).in_(assessment_ids))
    link_ids = [getattr(link, "id", None) for link in links]
    in_assessments = {
        model: _rows(session, model, col(model.assessment_id).in_(assessment_ids))
        for model in (Answer, ActionItem, Snapshot, ReviewItem, ReviewDecision)
    }
    enrolments = _rows(session, CohortStructure, col(CohortStructure.structure_id) == structure_id)
    cohort_ids = [row.cohort_id for row in enrolments]  # type: ignore[attr-defined]
    return {
        "structure": _rows(session, Structure, col(Structure.id) == structure_id),
        "membership": _rows(session, Membership, col(Membership.structure_id) == structure_id),
        "invitation": _rows(session, Invitation, col(Invitation.structure_id) == structure_id),
        "auditor_grant": _rows(session, AuditorGrant, col(AuditorGrant.structure_id) == structure_id),
        "assessment": _rows(session, Assessment, col(Assessment.structure_id) == structure_id),
        "evidence": _rows(session, Evidence, col(Evidence.structure_id) == structure_id),
        "evidence_link": links,
        "evidence_rating": _rows(session, EvidenceRating, col(EvidenceRating.link_id).in_(link_ids)),
        **{str(model.__tablename__): rows for model, rows in in_assessments.items()},
        "cohort_structure": enrolments,
        "cohort": _rows(session, Cohort, col(Cohort.id).in_(cohort_ids)),
        "audit_entry": _rows(session, AuditEntry, col(AuditEntry.structure_id) == structure_id),
    }


def _rows(session: Session, model: type[SQLModel], condition: Any) -> list[SQLModel]:
    return list(session.exec(select(model).where(condition).order_by(col(model.id))))  # type: ignore[attr-defined]


def people(session: Session, *, records: dict[str, list[SQLModel]]) -> list[User]:
    """The accounts the records name: members, inviters, authors, reviewers, auditors."""
    ids = {
        value
        for rows in records.values()
        for row in rows
        for name, value in row.model_dump().items()
        if isinstance(value, int)
        and name
        in {
            "user_id",
            "created_by",
            "updated_by",
            "invited_by",
            "accepted_by",
            "auditor_id",
            "granted_by",
            "revoked_by",
            "reviewer_id",
            "decided_by",
            "actor_id",
        }
    }
    return list(session.exec(select(User).where(col(User.id).in_(ids)).order_by(col(User.id))))


def export_structure(session: Session, *, structure: Structure, evidence_dir: Path, actor: User) -> IO[bytes]:
    """Write the structure's zip to a temporary file (rewound) and record the export in the audit log."""
    records = structure_records(session, structure_id=pk(structure))
    document = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "people": [
            {name: getattr(user, name) for name in PERSON_FIELDS} for user in people(session, records=records)
        ],
        "tables": {table: [_plain(row) for row in rows] for table, rows in records.items()},
    }
    output = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - returned to the caller
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("donnees.json", json.dumps(document, ensure_ascii=False, indent=2, default=str))
        files = _add_evidence(archive, records["evidence"], evidence_dir)
        _add_snapshots(archive, records["snapshot"])
    counts = {table: len(rows) for table, rows in records.items()} | {"files": files}
    audit(
        session,
        actor_id=actor.id,
        action="structure.export",
        obj=structure,
        structure_id=structure.id,
        after=counts,
    )
    session.commit()
    output.seek(0)
    return output


def _plain(row: SQLModel) -> dict[str, Any]:
    return {name: value for name, value in row.model_dump(mode="json").items() if name not in HIDDEN}


def _add_evidence(archive: zipfile.ZipFile, pieces: Iterable[SQLModel], evidence_dir: Path) -> int:
    count = 0
    for piece in pieces:
        assert isinstance(piece, Evidence)
        path = file_path(evidence_dir, piece.sha256) if piece.kind == EvidenceKind.FILE else None
        if path is not None and path.is_file():
            extension = piece.filename.rsplit(".", 1)[-1] if "." in piece.filename else "bin"
            archive.write(path, f"preuves/{piece.id}-{download_name(piece.filename, extension)}")
            count += 1
    return count


def _add_snapshots(archive: zipfile.ZipFile, snapshots: Iterable[SQLModel]) -> None:
    for snapshot in snapshots:
        assert isinstance(snapshot, Snapshot)
        stem = f"instantanes/autoevaluation-{snapshot.assessment_id}-revision-{snapshot.revision}"
        archive.writestr(f"{stem}.json", snapshot.canonical_json.encode("utf-8"))
        signature = {"sha256": snapshot.sha256, "signature": snapshot.signature, "key_id": snapshot.key_id}
        archive.writestr(f"{stem}.signature.json", json.dumps(signature, indent=2))
