"""A person's private iCalendar feed: audit dates, cohort workshops and action deadlines they follow.

The address carries a secret; only its SHA-256 is stored, so the address is shown once, when made.
Making a new one revokes the old. Each event's UID names its object (`audit-3@…`), so a calendar
program updates an event when its date moves instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.permissions import Access, cohort_ids, runs_cohorts, structure_ids
from app.assessments.models import ActionItem, ActionStatus, Assessment
from app.cohorts.models import Cohort, CohortStructure, CohortWorkshop
from app.cycle.models import CalendarFeed, CertificationRecord
from app.db import audit, pk, utcnow
from app.locale import gettext as _
from app.structures.models import Structure

UID_DOMAIN = "autodiag-mediation"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(session: Session, *, user: User) -> str:
    """Make the person's feed address (revoking any earlier one); return its secret, shown once."""
    revoke_feeds(session, user=user, commit=False)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=pk(user), token_hash=_hash(token))
    session.add(feed)
    session.flush()
    audit(session, actor_id=user.id, action="calendar.create", obj=feed)
    session.commit()
    return token


def revoke_feeds(session: Session, *, user: User, commit: bool = True) -> int:
    """Revoke the person's feed addresses: they answer 404 from now on."""
    query = select(CalendarFeed).where(
        CalendarFeed.user_id == user.id, col(CalendarFeed.revoked_at).is_(None)
    )
    feeds = list(session.exec(query))
    for feed in feeds:
        feed.revoked_at = utcnow()
        session.add(feed)
        audit(session, actor_id=user.id, action="calendar.revoke", obj=feed)
    if commit:
        session.commit()
    return len(feeds)


def has_feed(session: Session, *, user: User) -> bool:
    query = select(CalendarFeed.id).where(
        CalendarFeed.user_id == user.id, col(CalendarFeed.revoked_at).is_(None)
    )
    return session.exec(query).first() is not None


def owner_of(session: Session, *, token: str) -> User | None:
    """The active person whose running feed this secret opens, else None."""
    query = (
        select(User)
        .join(CalendarFeed, col(CalendarFeed.user_id) == col(User.id))
        .where(
            CalendarFeed.token_hash == _hash(token),
            col(CalendarFeed.revoked_at).is_(None),
            col(User.is_active),
        )
    )
    return session.exec(query).first()


@dataclass(frozen=True)
class Dated:
    uid: str
    summary: str
    on: date
    path: str


def events(session: Session, *, user: User) -> list[Dated]:
    """What the person's calendar shows: their structures' audits and open actions, their cohorts' workshops."""
    allowed = structure_ids(session, user, Access.READ)
    live = select(Structure).where(col(Structure.archived_at).is_(None))
    if allowed is not None:
        live = live.where(col(Structure.id).in_(allowed))
    structures = {pk(s): s for s in session.exec(live)}
    return sorted(
        [
            *_audits(session, structures),
            *_actions(session, structures),
            *_workshops(session, user, structures),
        ],
        key=lambda e: (e.on, e.uid),
    )


def _audits(session: Session, structures: dict[int, Structure]) -> list[Dated]:
    query = select(CertificationRecord).where(
        col(CertificationRecord.structure_id).in_(list(structures)),
        col(CertificationRecord.audit_on).is_not(None),
    )
    return [
        Dated(
            f"audit-{r.structure_id}@{UID_DOMAIN}",
            _("Audit de certification · %(structure)s") % {"structure": structures[r.structure_id].name},
            r.audit_on,
            f"/structures/{r.structure_id}/certification",
        )
        for r in session.exec(query)
        if r.audit_on is not None
    ]


def _actions(session: Session, structures: dict[int, Structure]) -> list[Dated]:
    newest = (
        select(Assessment.structure_id, Assessment.id)
        .where(col(Assessment.structure_id).in_(list(structures)))
        .order_by(col(Assessment.id))
    )
    latest: dict[int, int | None] = dict(session.exec(newest).all())
    owners = {assessment_id: structure_id for structure_id, assessment_id in latest.items() if assessment_id}
    query = select(ActionItem).where(
        col(ActionItem.assessment_id).in_(list(owners)),
        col(ActionItem.due_on).is_not(None),
        ActionItem.status != ActionStatus.DONE,
    )
    return [
        Dated(
            f"action-{item.id}@{UID_DOMAIN}",
            _("Échéance : %(title)s · %(structure)s")
            % {"title": item.title, "structure": structures[owners[item.assessment_id]].name},
            item.due_on,
            f"/autoevaluations/{item.assessment_id}/plan#action-{item.id}",
        )
        for item in session.exec(query)
        if item.due_on is not None
    ]


def _workshops(session: Session, user: User, structures: dict[int, Structure]) -> list[Dated]:
    """A trainer's own cohorts' workshops; a structure member's, those of the cohorts it is enrolled in."""
    runs = cohort_ids(session, user)
    enrolled = select(CohortStructure.cohort_id).where(
        col(CohortStructure.structure_id).in_(list(structures))
    )
    query = select(CohortWorkshop, Cohort).join(Cohort, col(Cohort.id) == col(CohortWorkshop.cohort_id))
    if runs is not None:
        cohorts = runs if runs_cohorts(user) else set(session.exec(enrolled))
        query = query.where(col(CohortWorkshop.cohort_id).in_(cohorts))
    query = query.where(col(CohortWorkshop.held_on).is_not(None))
    return [
        Dated(
            f"workshop-{workshop.id}@{UID_DOMAIN}",
            _("Atelier de la cohorte « %(cohort)s »") % {"cohort": cohort.name},
            workshop.held_on,
            f"/cohortes/{cohort.id}",
        )
        for workshop, cohort in session.exec(query)
        if workshop.held_on is not None
    ]


def ical(dated: list[Dated], *, base_url: str, stamp: datetime) -> bytes:
    """The events as an iCalendar document; `stamp` is when it was made (DTSTAMP)."""
    from icalendar import Calendar, Event  # only feeds need it: kept out of start-up

    calendar = Calendar()
    calendar.add("prodid", "-//Autodiag Mediation//Calendar//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Autodiag Médiation"))
    for item in dated:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("dtstart", item.on)
        event.add("dtend", item.on + timedelta(days=1))
        event.add("url", base_url.rstrip("/") + item.path)
        calendar.add_component(event)
    return bytes(calendar.to_ical())
