"""What the results pages add to a score: each structure's assessments, score history, action plan.

Scores always come from `app.assessments.service.evaluate`; this module only arranges them and
keeps the action plan, the follow-up a director edits after (and before) submitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.permissions import Access, structure_ids
from app.assessments import service as assessments
from app.assessments.models import ActionItem, ActionStatus, Assessment, AssessmentStatus
from app.catalog.service import Catalog
from app.db import StaleWriteError, audit, guarded_write, pk, utcnow
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.scoring.models import Gap, Result
from app.structures.models import Structure

STATUS_LABELS = {
    ActionStatus.TODO: N_("À faire"),
    ActionStatus.IN_PROGRESS: N_("En cours"),
    ActionStatus.DONE: N_("Fait"),
}
"""Marked for extraction only: `status_labels()` gives them in the request's language."""
OWNER_MAX_LENGTH = 120
TITLE_MAX_LENGTH = 300


def status_labels() -> dict[ActionStatus, str]:
    """The action statuses' labels in the request's language."""
    return {status: _(label) for status, label in STATUS_LABELS.items()}


@dataclass(frozen=True)
class Evaluated:
    """An assessment with its result as it stands (a live preview for a draft)."""

    assessment: Assessment
    result: Result


def evaluated(
    session: Session, *, catalog: Catalog, assessment: Assessment, structure: Structure
) -> Evaluated:
    result = assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    return Evaluated(assessment, result)


def readable_structures(
    session: Session, *, catalog: Catalog, user: User
) -> list[tuple[Structure, Evaluated | None]]:
    """The structures `user` may see, by name, each with the latest assessment `user` may read.

    Archived structures are left out: they stay readable at their address, not listed.
    """
    allowed = structure_ids(session, user, Access.SUBMITTED)
    with_drafts = structure_ids(session, user, Access.READ)
    query = (
        select(Structure)
        .where(col(Structure.archived_at).is_(None))
        .order_by(col(Structure.name), col(Structure.id))
    )
    if allowed is not None:
        query = query.where(col(Structure.id).in_(allowed))
    structures = list(session.exec(query))
    latest_ids = select(func.max(Assessment.id)).group_by(col(Assessment.structure_id))
    if allowed is not None:
        latest_ids = latest_ids.where(col(Assessment.structure_id).in_(allowed))
    if with_drafts is not None:
        latest_ids = latest_ids.where(
            col(Assessment.structure_id).in_(with_drafts) | (Assessment.status == AssessmentStatus.SUBMITTED)
        )
    latest = {
        a.structure_id: a for a in session.exec(select(Assessment).where(col(Assessment.id).in_(latest_ids)))
    }
    return [
        (
            s,
            evaluated(session, catalog=catalog, assessment=latest[pk(s)], structure=s)
            if pk(s) in latest
            else None,
        )
        for s in structures
    ]


def structure_assessments(
    session: Session, *, catalog: Catalog, structure: Structure, drafts: bool = True
) -> list[Evaluated]:
    """The structure's assessments with their results, newest first; `drafts=False` leaves drafts out."""
    query = (
        select(Assessment)
        .where(Assessment.structure_id == structure.id)
        .order_by(col(Assessment.created_at).desc(), col(Assessment.id).desc())
    )
    if not drafts:
        query = query.where(Assessment.status == AssessmentStatus.SUBMITTED)
    return [
        evaluated(session, catalog=catalog, assessment=a, structure=structure) for a in session.exec(query)
    ]


@dataclass(frozen=True)
class History:
    """Area scores of the submitted assessments, oldest first; `areas` pairs each area id with its title."""

    areas: tuple[tuple[str, str], ...]
    points: tuple[Evaluated, ...]

    def scores(self, area_id: str) -> list[float | None]:
        return [next(a.score for a in p.result.areas if a.area == area_id) for p in self.points]


def score_history(catalog: Catalog, *, rows: Sequence[Evaluated]) -> History:
    """The submitted assessments in submission order; area titles come from their own criteria versions."""
    points = sorted(
        (e for e in rows if e.assessment.status == AssessmentStatus.SUBMITTED),
        key=lambda e: (e.assessment.submitted_at, e.assessment.id),
    )
    titles: dict[str, str] = {}
    for point in points:  # the newest version names an area when versions disagree
        version = catalog.criteria[point.assessment.criteria_ref]
        titles |= {area.area: version.area(area.area).title for area in point.result.areas}
    return History(tuple(titles.items()), tuple(points))


def reference_date(assessment: Assessment) -> date:
    """The day suggested deadlines count from: the submission day, or today for a draft."""
    moment = assessment.submitted_at or utcnow()
    return moment.date()


def due_date(assessment: Assessment, gap: Gap, *, before_audit: date | None = None) -> date:
    """The suggested deadline: the day `before_audit` when an audit is set, else days from the reference."""
    return before_audit or reference_date(assessment) + timedelta(days=gap.deadline_days)


def action_plan(session: Session, *, assessment: Assessment) -> list[ActionItem]:
    query = select(ActionItem).where(ActionItem.assessment_id == assessment.id).order_by(col(ActionItem.id))
    return list(session.exec(query.execution_options(populate_existing=True)))


def ensure_action_plan(
    session: Session, *, assessment: Assessment, result: Result, user: User, before_audit: date | None = None
) -> list[ActionItem]:
    """Add an item for every gap that has none yet: the suggested action, due by its suggested deadline.

    Items are never removed or rewritten here: once created, an item is the director's to edit, even
    when its criterion stops being a gap.
    """
    planned = {item.criterion_id for item in action_plan(session, assessment=assessment)}
    created = [
        ActionItem(
            assessment_id=pk(assessment),
            criterion_id=gap.criterion,
            title=gap.action[:TITLE_MAX_LENGTH],
            due_on=due_date(assessment, gap, before_audit=before_audit),
        )
        for gap in result.gaps
        if gap.criterion not in planned
    ]
    if created:
        try:
            session.add_all(created)
            session.flush()
            for item in created:
                audit(
                    session,
                    actor_id=user.id,
                    action="action_item.create",
                    obj=item,
                    structure_id=assessment.structure_id,
                    after=_state(item) | {"criterion": item.criterion_id, "title": item.title},
                )
            session.commit()
        except IntegrityError:  # another request created them meanwhile: keep its items
            session.rollback()
    return action_plan(session, assessment=assessment)


@dataclass(frozen=True)
class PlanRow:
    """An action item with the gap it answers in the current result (None once the gap is closed)."""

    item: ActionItem
    gap: Gap | None


def plan_rows(items: Sequence[ActionItem], result: Result) -> list[PlanRow]:
    """Items in the order of their gaps' priority; items whose gap is closed come last."""
    gaps = {gap.criterion: gap for gap in result.gaps}
    rows = [PlanRow(item, gaps.get(item.criterion_id)) for item in items]
    return sorted(rows, key=lambda r: (r.gap is None, r.gap.priority if r.gap else 0, r.item.id or 0))


STALE_ITEM = N_(
    "Cette action a été modifiée entre-temps (autre onglet ou autre personne). "
    "Voici la version enregistrée : vérifiez-la avant de la modifier à nouveau."
)


def checked_edit(*, owner: str, due_on: str, status: str) -> tuple[str, date | None, ActionStatus]:
    """Owner, due date and status from form text, or ServiceError naming each bad field."""
    problems: dict[str, str] = {}
    owner = owner.strip()
    if len(owner) > OWNER_MAX_LENGTH:
        problems["responsable"] = _(
            "Le nom du responsable ne doit pas dépasser %(max)s caractères (il en compte %(count)s)."
        ) % {"max": OWNER_MAX_LENGTH, "count": len(owner)}
    due: date | None = None
    if due_on.strip():
        try:
            due = date.fromisoformat(due_on.strip())
        except ValueError:
            problems["echeance"] = _("Saisissez une date valide, par exemple 2025-09-30 (année-mois-jour).")
    if status not in {s.value for s in ActionStatus}:
        problems["statut"] = _("Choisissez un statut : à faire, en cours ou fait.")
    if problems:
        raise ServiceError(problems=problems)
    return owner, due, ActionStatus(status)


def update_action_item(
    session: Session,
    *,
    assessment: Assessment,
    item: ActionItem,
    owner: str,
    due_on: str,
    status: str,
    base_revision: int,
    user: User,
) -> ActionItem:
    """Change an item's owner, due date and status (form text, checked), unless stale (409).

    Submitted plans stay editable. Posting the values already saved writes nothing, whatever the
    revision: nothing would be lost.
    """
    owner_, due, status_ = checked_edit(owner=owner, due_on=due_on, status=status)
    if (owner_, due, status_) == (item.owner, item.due_on, item.status):
        return item
    before, item_id = _state(item), pk(item)
    try:
        guarded_write(
            session,
            item,
            item,  # the item exists: nothing new to add
            base_revision=base_revision,
            values={"owner": owner_, "due_on": due, "status": status_},
            reread=lambda: session.get(ActionItem, item_id, populate_existing=True),
        )
    except StaleWriteError:
        raise ServiceError(_(STALE_ITEM), status=409, field="action") from None
    session.refresh(item)  # the values the UPDATE wrote, and the new revision
    audit(
        session,
        actor_id=user.id,
        action="action_item.update",
        obj=item,
        structure_id=assessment.structure_id,
        before=before,
        after=_state(item),
    )
    session.commit()
    session.refresh(item)
    return item


def _state(item: ActionItem) -> dict[str, object]:
    return {
        "owner": item.owner,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "status": ActionStatus(item.status).value,
    }
