"""Erasing a structure (the GDPR's right to erasure), by an administrator who types its name.

Its records go (assessments, answers, evidence and their files, snapshots, reviews, the plan,
members, invitations, grants, enrolments); what is left is the structure's row, archived and
emptied (`erased_at`), so the audit log's entries still point at one structure. Its people who
belong to no other structure and hold no platform role (trainer, auditor, administrator) are
anonymised: no name, no address, no password, no session, no token. The audit log keeps every entry
of the structure and of those people with who (an id), what and when, its values emptied: the one
update its triggers allow. Other structures' snapshots are not touched, so their signatures verify.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import String, cast, delete, null, or_, update
from sqlmodel import Session, col, select

from app.accounts.models import ApiToken, LoginAttempt, PasswordReset, Role, User
from app.accounts.sessions import end_sessions
from app.assessments.files import file_path
from app.assessments.models import Assessment, Evidence, EvidenceKind
from app.db import AuditEntry, audit, pk, utcnow
from app.errors import ServiceError
from app.locale import gettext as _
from app.mail.models import OutboxMessage
from app.privacy.export import structure_records
from app.structures.models import Membership, Structure

ERASED_EMAIL = "erased-{id}@erased.invalid"
"""An anonymised account's address: unique, and `.invalid` can never receive mail (RFC 2606)."""


def erase_structure(
    session: Session, *, structure: Structure, confirmation: str, actor: User, evidence_dir: Path
) -> dict[str, int]:
    """Erase the structure once its exact name is typed; return how many records of each kind went."""
    if structure.erased_at is not None:
        raise ServiceError(_("Cette structure a déjà été effacée."), status=409)
    if confirmation.strip() != structure.name:
        message = _("Saisissez exactement le nom de la structure, « %(name)s », pour confirmer.")
        raise ServiceError(message % {"name": structure.name}, field="confirmation")
    records = structure_records(session, structure_id=pk(structure))
    files = {
        row.sha256
        for row in records["evidence"]
        if isinstance(row, Evidence) and row.kind == EvidenceKind.FILE
    }
    anonymised = _leaving_people(session, structure_id=pk(structure))
    emails = [user.email for user in anonymised]
    session.execute(
        update(Assessment).where(col(Assessment.structure_id) == structure.id).values(previous_id=None)
    )
    for table in ERASE_ORDER:
        for row in records[table]:
            session.delete(row)
        session.flush()  # in this order: no relationships tell SQLAlchemy which rows refer to which
    for user in anonymised:
        _anonymise(session, user=user)
    _erase_audit_values(
        session, structure_id=pk(structure), user_ids=[pk(user) for user in anonymised], emails=emails
    )
    _empty(structure)
    session.add(structure)
    counts = {table: len(rows) for table, rows in records.items() if table != "structure"}
    counts["people_anonymised"] = len(anonymised)
    audit(
        session,
        actor_id=actor.id,
        action="structure.erase",
        obj=structure,
        structure_id=structure.id,
        after=counts,
    )
    session.commit()
    _delete_unused_files(session, evidence_dir=evidence_dir, sha256s=files)
    return counts


ERASE_ORDER = (
    "evidence_rating",
    "review_item",
    "review_decision",
    "evidence_link",
    "answer",
    "action_item",
    "snapshot",
    "assessment",
    "evidence",
    "membership",
    "invitation",
    "auditor_grant",
    "cohort_structure",
)
"""The structure's tables, each before the tables its rows refer to."""


def _leaving_people(session: Session, *, structure_id: int) -> list[User]:
    """Members of this structure only, whose account serves no one else (no platform role)."""
    members = select(Membership.user_id).where(Membership.structure_id == structure_id)
    elsewhere = select(Membership.user_id).where(Membership.structure_id != structure_id)
    query = select(User).where(
        col(User.id).in_(members), col(User.id).not_in(elsewhere), User.role == Role.DIRECTOR
    )
    return list(session.exec(query.order_by(col(User.id))))


def _anonymise(session: Session, *, user: User) -> None:
    email = user.email
    user.email = ERASED_EMAIL.format(id=user.id)
    user.name = _("Personne effacée")
    user.password_hash = "!"  # noqa: S105 - not an Argon2 hash: no password ever matches it
    user.is_active, user.language = False, None
    user.notify_submissions = user.notify_decisions = user.notify_grants = False
    session.add(user)
    end_sessions(session, user=user)
    session.execute(delete(PasswordReset).where(col(PasswordReset.user_id) == user.id))
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.email) == email))
    session.execute(delete(OutboxMessage).where(col(OutboxMessage.recipient) == email))
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def _erase_audit_values(
    session: Session, *, structure_id: int, user_ids: list[int], emails: list[str]
) -> None:
    """Empty the values of the structure's entries, of its erased people's, and of any naming their address."""
    about = [
        col(AuditEntry.structure_id) == structure_id,
        (col(AuditEntry.object_type) == "structure") & (col(AuditEntry.object_id) == str(structure_id)),
        (col(AuditEntry.object_type) == "user") & col(AuditEntry.object_id).in_([str(i) for i in user_ids]),
    ]
    for email in emails:
        for column in (AuditEntry.before, AuditEntry.after):
            about.append(cast(column, String).contains(email, autoescape=True))
    session.execute(
        update(AuditEntry)
        .where(col(AuditEntry.erased_at).is_(None), or_(*about))
        .values(before=null(), after=null(), erased_at=utcnow())
    )


def _empty(structure: Structure) -> None:
    now = utcnow()
    structure.name = _("Structure effacée")
    structure.city = structure.legal_form = structure.siret = ""
    structure.profile = {}
    structure.archived_at = structure.archived_at or now
    structure.erased_at = now


def _delete_unused_files(session: Session, *, evidence_dir: Path, sha256s: set[str]) -> None:
    """Delete the erased evidence files that no other structure's evidence shares (files go by content)."""
    shared = set(session.exec(select(Evidence.sha256).where(col(Evidence.sha256).in_(sha256s))))
    for sha256 in sha256s - shared:
        file_path(evidence_dir, sha256).unlink(missing_ok=True)
