"""Evidence: pieces (stored files, see `files.py`, and references) and their links to criteria."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from pathlib import Path

from sqlalchemy import bindparam
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.files import EvidenceError, StoredFile, download_name, store_file
from app.assessments.forms import EvidenceForm
from app.assessments.models import (
    SUBMITTED,
    Assessment,
    AssessmentStatus,
    Evidence,
    EvidenceKind,
    EvidenceLink,
)
from app.db import audit, pk
from app.locale import gettext as _
from app.structures.models import Structure


def check_details(*, title: str, owner: str = "", link: str = "") -> None:
    """Refuse (EvidenceError) a missing title, a field too long to keep, or a link that is not a web address."""
    if not title.strip():
        raise EvidenceError(_("Donnez un titre à la preuve."))
    if len(title.strip()) > 300:
        raise EvidenceError(_("Le titre est trop long : 300 caractères au plus."))
    if len(owner.strip()) > 120:
        raise EvidenceError(_("Le nom du responsable est trop long : 120 caractères au plus."))
    if len(link) > 2000:
        raise EvidenceError(_("Le lien est trop long : 2 000 caractères au plus."))
    if link and not re.match(r"^https?://[^\s]+$", link):
        raise EvidenceError(_("Le lien doit commencer par http:// ou https://."))


def add(
    session: Session,
    *,
    structure: Structure,
    user: User,
    title: str,
    stored: StoredFile | None = None,
    filename: str = "",
    document_date: date | None = None,
    owner: str = "",
    link: str = "",
) -> Evidence:
    """Record a stored file, or a reference when `stored` is None."""
    check_details(title=title, owner=owner, link=link)
    evidence = Evidence(
        structure_id=pk(structure),
        kind=EvidenceKind.FILE if stored else EvidenceKind.REFERENCE,
        title=title.strip(),
        document_date=document_date,
        owner=owner.strip(),
        link=link,
        filename=download_name(filename, stored.extension) if stored else "",
        content_type=stored.content_type if stored else "",
        size=stored.size if stored else None,
        sha256=stored.sha256 if stored else "",
        created_by=pk(user),
    )
    session.add(evidence)
    session.flush()
    audit(
        session,
        actor_id=user.id,
        action="evidence.add",
        obj=evidence,
        structure_id=structure.id,
        after=evidence.model_dump(exclude={"created_at"}),
    )
    session.commit()
    session.refresh(evidence)
    return evidence


def add_posted(
    session: Session,
    *,
    structure: Structure,
    user: User,
    form: EvidenceForm,
    evidence_dir: Path,
    max_bytes: int,
) -> Evidence:
    """Check the form's details, then store its upload (if any), then record it: a refusal leaves
    nothing. Without a title, a file is named after its file name."""
    upload = form.upload()
    filename = upload.filename or "" if upload else ""
    document_date = form.document_date()
    title = form.titre or Path(filename.replace("\\", "/")).stem[:300]
    check_details(title=title, owner=form.responsable, link=form.lien)
    stored = store_file(evidence_dir, upload.file, max_bytes=max_bytes) if upload else None
    return add(
        session,
        structure=structure,
        user=user,
        title=title,
        stored=stored,
        filename=filename,
        document_date=document_date,
        owner=form.responsable,
        link=form.lien,
    )


def attach(
    session: Session,
    *,
    assessment: Assessment,
    evidence: Evidence,
    criterion_id: str,
    covers: list[str],
    user: User,
) -> EvidenceLink:
    """Let a piece of the structure's evidence support one criterion of a draft assessment."""
    if evidence.structure_id != assessment.structure_id:
        raise EvidenceError(_("Cette preuve appartient à une autre structure."))
    if assessment.status != AssessmentStatus.DRAFT:
        raise EvidenceError(_(SUBMITTED), status=409)
    existing = session.exec(
        select(EvidenceLink).where(
            EvidenceLink.assessment_id == assessment.id,
            EvidenceLink.criterion_id == criterion_id,
            EvidenceLink.evidence_id == evidence.id,
        )
    ).first()
    link = existing or EvidenceLink(
        assessment_id=pk(assessment), criterion_id=criterion_id, evidence_id=pk(evidence)
    )
    link.covers, link.carried_over = ",".join(sorted(set(covers))), False
    session.add(link)
    session.flush()
    audit(
        session,
        actor_id=user.id,
        action="evidence.attach",
        obj=link,
        structure_id=assessment.structure_id,
        after={"criterion": criterion_id, "evidence": evidence.id, "covers": link.covers},
    )
    session.commit()
    session.refresh(link)
    return link


def detach(session: Session, *, assessment: Assessment, link: EvidenceLink, user: User) -> None:
    if assessment.status != AssessmentStatus.DRAFT:
        raise EvidenceError(_(SUBMITTED), status=409)
    audit(
        session,
        actor_id=user.id,
        action="evidence.detach",
        obj=link,
        structure_id=assessment.structure_id,
        before={"criterion": link.criterion_id, "evidence": link.evidence_id},
    )
    session.delete(link)
    session.commit()


def delete(session: Session, *, evidence: Evidence, user: User) -> None:
    """Delete a piece of evidence unless a submitted assessment relies on it."""
    used = session.exec(
        select(Assessment.status).join(EvidenceLink).where(EvidenceLink.evidence_id == evidence.id)
    )
    if AssessmentStatus.SUBMITTED in set(used):
        raise EvidenceError(
            _("Cette preuve appuie une autoévaluation soumise : elle ne peut plus être supprimée."),
            status=409,
        )
    for link in session.exec(select(EvidenceLink).where(EvidenceLink.evidence_id == evidence.id)):
        session.delete(link)
    session.flush()  # the links first: without a relationship, nothing else orders the two deletes
    audit(
        session,
        actor_id=user.id,
        action="evidence.delete",
        obj=evidence,
        structure_id=evidence.structure_id,
        before=evidence.model_dump(exclude={"created_at"}),
    )
    session.delete(evidence)
    session.commit()


def library(session: Session, *, structure_id: int) -> list[Evidence]:
    """Every piece of evidence of a structure, by title."""
    query = select(Evidence).where(Evidence.structure_id == structure_id)
    return list(session.exec(query.order_by(col(Evidence.title), col(Evidence.id))))


RELIED_ON = (
    select_rows(col(EvidenceLink.evidence_id))
    .join(Assessment)
    .where(
        col(Assessment.status) == AssessmentStatus.SUBMITTED,
        col(EvidenceLink.evidence_id).in_(bindparam("evidence_ids", expanding=True)),
    )
)
"""Built once: the section page asks it on every view, and building it cost more than running it."""


def relied_on(session: Session, evidence_ids: Collection[int]) -> set[int]:
    """The pieces among `evidence_ids` that a submitted assessment relies on (they cannot be deleted)."""
    return set(session.execute(RELIED_ON, {"evidence_ids": list(evidence_ids)}).scalars())
