"""Evidence: files stored by SHA-256 outside the web root, references, and their links to criteria."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import filetype
from sqlmodel import Session, col, select

from app.accounts.models import User
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
from app.errors import ServiceError
from app.locale import N_, format_size
from app.locale import gettext as _
from app.structures.models import Structure

CHUNK = 1024 * 1024
UPLOAD_OVERHEAD = 64 * 1024
"""Room for the other fields of an upload form before its `Content-Length` alone is refused."""
ACCEPTED = {
    "pdf": N_("Document PDF"),
    "png": N_("Image PNG"),
    "jpg": N_("Image JPEG"),
    "gif": N_("Image GIF"),
    "webp": N_("Image WebP"),
    "doc": N_("Document Word"),
    "docx": N_("Document Word"),
    "xls": N_("Classeur Excel"),
    "xlsx": N_("Classeur Excel"),
    "ppt": N_("Présentation PowerPoint"),
    "pptx": N_("Présentation PowerPoint"),
    "odt": N_("Texte OpenDocument"),
    "ods": N_("Classeur OpenDocument"),
    "odp": N_("Présentation OpenDocument"),
    "rtf": N_("Document RTF"),
}


OFFICE_ZIPS = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp"})
"""Office documents that are zip archives: what they unpack to is checked before they are kept."""
MAX_OFFICE_UNPACKED = 100 * 1024 * 1024
MAX_OFFICE_ENTRIES = 2000
"""Far above any real document (a 300-page report with pictures unpacks to a few tens of MB in a few
hundred entries), far below what would stall the auditors' tools that open it."""


class EvidenceError(ServiceError):
    """A refused file, reference or link (422 unless its status says otherwise)."""


class TooLargeError(EvidenceError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=413)


class UnsupportedTypeError(EvidenceError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=415)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str
    extension: str


def store_file(evidence_dir: Path, stream: BinaryIO, *, max_bytes: int) -> StoredFile:
    """Copy an upload into the store, named by its SHA-256; nothing half-written is ever visible.

    The bytes go to a temporary file in the store's folder, are checked (size while reading,
    type from the content, never from the name), then renamed into place in one step.
    """
    evidence_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    descriptor, temporary = tempfile.mkstemp(dir=evidence_dir, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLargeError(too_large(max_bytes))
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if size == 0:
            raise EvidenceError(_("Le fichier est vide."))
        kind = filetype.guess(temporary)
        if kind is None or kind.extension not in ACCEPTED:
            raise UnsupportedTypeError(
                _(
                    "Type de fichier refusé : sont acceptés les PDF, images (PNG, JPEG, GIF, WebP), "
                    "documents Word, Excel, PowerPoint, OpenDocument et RTF."
                )
            )
        if kind.extension in OFFICE_ZIPS:
            check_office_document(temporary)
        final = file_path(evidence_dir, digest.hexdigest())
        final.parent.mkdir(exist_ok=True)
        os.replace(temporary, final)  # the same content may already be there: same bytes, same name
        return StoredFile(digest.hexdigest(), size, kind.mime, kind.extension)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def check_office_document(path: str) -> None:
    """Refuse an office document with too many entries, or that unpacks beyond `MAX_OFFICE_UNPACKED`.

    The sizes a zip declares are checked first, then counted while unpacking (a zip may lie about
    them; a lie also fails its checksum), stopping as soon as the limit is passed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_OFFICE_ENTRIES or sum(e.file_size for e in entries) > MAX_OFFICE_UNPACKED:
                raise EvidenceError(_unpacks_too_much())
            budget = MAX_OFFICE_UNPACKED
            for entry in entries:
                with archive.open(entry) as member:
                    while chunk := member.read(CHUNK):
                        budget -= len(chunk)
                        if budget < 0:
                            raise EvidenceError(_unpacks_too_much())
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError, EOFError):
        raise EvidenceError(
            _("Ce document bureautique est endommagé ou chiffré : il ne peut pas être ouvert.")
        ) from None


def _unpacks_too_much() -> str:
    return _(
        "Ce document se décompresse en plus de %(size)s ou compte plus de %(entries)s éléments : "
        "il est refusé. Enregistrez-le à nouveau, ou en PDF."
    ) % {"size": format_size(MAX_OFFICE_UNPACKED), "entries": MAX_OFFICE_ENTRIES}


def too_large(max_bytes: int) -> str:
    return _("Le fichier dépasse la taille maximale de %(size)s : réduisez-le ou découpez-le.") % {
        "size": format_size(max_bytes)
    }


def file_path(evidence_dir: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256")
    return evidence_dir / sha256[:2] / sha256


def download_name(filename: str, extension: str) -> str:
    """A safe attachment name: no path, no control characters, the detected extension."""
    stem = Path(filename.replace("\\", "/")).name.rsplit(".", 1)[0]
    stem = "".join(
        ch for ch in unicodedata.normalize("NFC", stem) if ch.isprintable() and ch not in '"<>:/|?*'
    )
    return f"{stem.strip(' .')[:120] or 'preuve'}.{extension}"


def content_disposition(filename: str) -> str:
    """`attachment`, with an ASCII fallback name and the real one in RFC 5987 `filename*`."""
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = download_name(ascii_name.replace("\\", "").replace(";", ""), extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


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


def relied_on(session: Session, evidence_ids: Collection[int]) -> set[int]:
    """The pieces among `evidence_ids` that a submitted assessment relies on (they cannot be deleted)."""
    query = (
        select(EvidenceLink.evidence_id)
        .join(Assessment)
        .where(
            Assessment.status == AssessmentStatus.SUBMITTED, col(EvidenceLink.evidence_id).in_(evidence_ids)
        )
    )
    return set(session.exec(query))
