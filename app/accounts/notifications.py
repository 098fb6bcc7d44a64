"""Who is told what by e-mail: the recipients of each event, and the notices each person turned off.

Reset links and invitations always go; the notices of `Notice` are optional, each person choosing
on their account page. Recipients are chosen here, once, so that a change of who hears about
what (say, only a structure's `direction` members) is one change in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.cohorts.models import CohortStructure, CohortTrainer
from app.db import audit
from app.locale import N_
from app.locale import gettext as _
from app.mail.service import enqueue
from app.structures.models import MemberRole, Membership


class Notice(StrEnum):
    SUBMISSIONS = "submissions"
    DECISIONS = "decisions"
    GRANTS = "grants"
    REMINDERS = "reminders"

    @property
    def label(self) -> str:
        return _(NOTICE_LABELS[self])

    @property
    def column(self) -> str:
        return f"notify_{self.value}"


NOTICE_LABELS = {
    Notice.SUBMISSIONS: N_("Quand une structure de mes cohortes soumet une autoévaluation"),
    Notice.DECISIONS: N_("Quand un·e formateur·rice renvoie ou valide l'autoévaluation de ma structure"),
    Notice.GRANTS: N_("Quand une structure m'ouvre l'accès à ses résultats en tant qu'auditeur·rice"),
    Notice.REMINDERS: N_(
        "Les rappels du cycle de certification : audit qui approche, actions à échéance, "
        "preuves qui expirent, brouillon en attente, relecture en attente"
    ),
}
NOTICES_BY_ROLE = {
    Role.ADMIN: (Notice.SUBMISSIONS, Notice.DECISIONS, Notice.GRANTS, Notice.REMINDERS),
    Role.TRAINER: (Notice.SUBMISSIONS, Notice.REMINDERS),
    Role.DIRECTOR: (Notice.DECISIONS, Notice.REMINDERS),
    Role.AUDITOR: (Notice.GRANTS,),
}


def notices_for(user: User) -> tuple[Notice, ...]:
    """The optional notices a person may receive, given their role."""
    return NOTICES_BY_ROLE[user.role]


def wants(user: User, notice: Notice) -> bool:
    return bool(getattr(user, notice.column))


def save_notices(session: Session, *, user: User, chosen: Iterable[str]) -> None:
    """Keep the notices `user` ticked among theirs; the others are turned off. Unknown values are ignored."""
    ticked = set(chosen)
    before = {notice.value: wants(user, notice) for notice in notices_for(user)}
    after = {notice.value: notice.value in ticked for notice in notices_for(user)}
    for notice in notices_for(user):
        setattr(user, notice.column, after[notice.value])
    session.add(user)
    audit(session, actor_id=user.id, action="user.notices", obj=user, before=before, after=after)
    session.commit()


def structure_recipients(session: Session, structure_id: int) -> list[User]:
    """Who hears about a structure's assessments being returned or validated: its active `direction` members."""
    query = (
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(
            Membership.structure_id == structure_id,
            Membership.role == MemberRole.DIRECTION,
            col(User.is_active),
        )
    )
    return list(session.exec(query.order_by(col(User.id))))


def reviewers(session: Session, structure_id: int) -> list[User]:
    """The active trainers of the cohorts a structure is enrolled in: told when it submits."""
    query = (
        select(User)
        .join(CohortTrainer, col(CohortTrainer.user_id) == col(User.id))
        .join(CohortStructure, col(CohortStructure.cohort_id) == col(CohortTrainer.cohort_id))
        .where(CohortStructure.structure_id == structure_id, col(User.is_active))
    )
    return list(session.exec(query.distinct().order_by(col(User.id))))


def notify(
    session: Session,
    *,
    users: Iterable[User],
    notice: Notice | None,
    event_key: str,
    template: str,
    context: dict[str, Any],
) -> int:
    """Queue `template` for each of `users` who did not turn `notice` off, in their language.

    Added to the caller's transaction: the message exists if and only if the event does.
    Returns how many were queued; one event never queues twice for one person.
    """
    queued = 0
    for user in users:
        if notice is not None and not wants(user, notice):
            continue
        message = enqueue(
            session,
            event_key=f"{event_key}:{user.id}",
            to=user.email,
            template=template,
            context={**context, "name": user.name},
            language=user.language,
        )
        queued += message is not None
    return queued
