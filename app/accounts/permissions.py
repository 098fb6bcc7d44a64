"""Who may do what to which structure: the one place every access decision is made.

Every object (assessment, answer, evidence, action item, snapshot) belongs to one structure, so an
access question is always "may this user do this to this structure?". Routes never hide links
instead of asking: they load objects through `structure_ids` or check with `can`, and answer 404
when the answer is no, so a structure a user may not see does not exist for them.
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.structures.models import Membership


class Access(StrEnum):
    READ = "read"
    """See the structure, its assessments (drafts included), evidence and results."""
    WRITE = "write"
    """Edit the profile, answer, attach evidence, submit, edit the action plan."""


def structure_ids(session: Session, user: User, access: Access = Access.READ) -> set[int] | None:
    """The structures `user` may access this way; None means every structure (administrators)."""
    if not user.is_active:
        return set()
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.DIRECTOR:
        query = select(Membership.structure_id).where(Membership.user_id == user.id)
        return set(session.exec(query).all())
    if access is not Access.READ:
        return set()  # trainers and auditors never edit a structure's own answers
    # Trainers will read their cohorts' structures and auditors their grants: until cohorts and
    # grants exist, neither sees any structure.
    return set()


def can(session: Session, user: User, access: Access, structure_id: int) -> bool:
    """Whether `user` may access structure `structure_id` this way."""
    allowed = structure_ids(session, user, access)
    return allowed is None or structure_id in allowed
