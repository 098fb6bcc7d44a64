"""The action plan: one row per gap, saved only once someone writes to it, filtered, sorted, grouped.

A gap nobody has touched yet is a suggestion (the criterion's own action, due by its suggested
deadline) built on every read; the first save of one of its fields creates the item. Reading the
plan therefore never writes, and the page, the report and the workbook show the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.models import ActionItem, ActionStatus, Assessment
from app.catalog.models import CriteriaVersion, Workshop
from app.db import StaleWriteError, audit, guarded_write, pk
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.reports.service import due_date
from app.scoring.codes import Action
from app.scoring.models import Gap, Result

STATUS_LABELS = {
    ActionStatus.TODO: N_("À faire"),
    ActionStatus.IN_PROGRESS: N_("En cours"),
    ActionStatus.DONE: N_("Fait"),
}
"""Marked for extraction only: `status_labels()` gives them in the request's language."""
OWNER_MAX_LENGTH = 120
TITLE_MAX_LENGTH = 300
NO_OWNER = "-"
"""The owner filter's value for « sans responsable »."""
SORTS = {
    "priorite": N_("Priorité"),
    "echeance": N_("Échéance"),
    "responsable": N_("Responsable"),
    "statut": N_("Statut"),
}
STALE_ITEM = N_(
    "Cette action a été modifiée entre-temps (autre onglet ou autre personne). "
    "Voici la version enregistrée : vérifiez-la avant de la modifier à nouveau."
)


def status_labels() -> dict[ActionStatus, str]:
    """The action statuses' labels in the request's language."""
    return {status: _(label) for status, label in STATUS_LABELS.items()}


def action_plan(session: Session, *, assessment: Assessment) -> list[ActionItem]:
    query = select(ActionItem).where(ActionItem.assessment_id == assessment.id).order_by(col(ActionItem.id))
    return list(session.exec(query.execution_options(populate_existing=True)))


@dataclass(frozen=True, slots=True)
class Suggested:
    """A gap's action nobody has saved yet, as the plan shows it: the fields of an `ActionItem`.

    A plain value rather than an unsaved `ActionItem`: building an ORM object cost 0.14 ms, and a
    plan shows one suggestion per gap not yet planned (a tenth of the plan page's CPU for 76 gaps).
    """

    assessment_id: int
    criterion_id: str
    title: str
    due_on: date | None
    owner: str = ""
    status: ActionStatus = ActionStatus.TODO
    revision: int = 0
    id: None = None


@dataclass(frozen=True)
class PlanRow:
    """An action with the gap it answers now (None once closed); an unsaved suggestion has no id."""

    item: ActionItem | Suggested
    gap: Gap | None
    action: str
    """The criterion's own suggested action, as its criteria file words it."""
    workshop: str

    @property
    def first_step(self) -> bool:
        """True when the gap asks to answer or prove first, before the criterion's own action."""
        return self.gap is not None and self.gap.action_code is not Action.CRITERION


def plan_rows(
    items: Sequence[ActionItem],
    result: Result,
    *,
    assessment: Assessment,
    version: CriteriaVersion,
    before_audit: date | None = None,
) -> list[PlanRow]:
    """Saved items and a suggestion for every other gap, by gap priority; closed gaps come last.

    A suggestion is due `before_audit` when the structure has an audit date (`cycle.audit_deadline`).
    """
    gaps = {gap.criterion: gap for gap in result.gaps}
    planned = {item.criterion_id for item in items}
    suggested = [
        Suggested(
            assessment_id=pk(assessment),
            criterion_id=gap.criterion,
            title=gap.criterion_action[:TITLE_MAX_LENGTH],
            due_on=due_date(assessment, gap, before_audit=before_audit),
        )
        for gap in result.gaps
        if gap.criterion not in planned
    ]
    listed: list[ActionItem | Suggested] = [*items, *suggested]
    rows = [_row(item, gaps.get(item.criterion_id), version) for item in listed]
    return sorted(rows, key=lambda r: (r.gap is None, r.gap.priority if r.gap else 0, r.item.id or 0))


def _row(item: ActionItem | Suggested, gap: Gap | None, version: CriteriaVersion) -> PlanRow:
    criterion = version.by_id.get(item.criterion_id)
    if criterion is None:  # a criterion the version no longer has: the saved words stay
        return PlanRow(item, gap, item.title, "")
    return PlanRow(item, gap, criterion.action, criterion.workshop)


@dataclass(frozen=True)
class PlanFilter:
    """What the plan page shows: one workshop, owner or status (empty: all), in which order."""

    workshop: str = ""
    owner: str = ""
    status: str = ""
    sort: str = "priorite"

    @property
    def active(self) -> bool:
        return bool(self.workshop or self.owner or self.status)


def plan_filter(*, workshop: str, owner: str, status: str, sort: str, version: CriteriaVersion) -> PlanFilter:
    """The filter from query text, or ServiceError naming each value the page does not offer."""
    problems: dict[str, str] = {}
    if workshop and workshop not in {w.id for w in version.workshops}:
        problems["atelier"] = _(
            "Cet atelier n'existe pas dans ce référentiel : choisissez-en un dans la liste."
        )
    if status and status not in {s.value for s in ActionStatus}:
        problems["statut"] = _("Choisissez un statut : à faire, en cours ou fait.")
    if sort and sort not in SORTS:
        problems["tri"] = _("Choisissez un tri : priorité, échéance, responsable ou statut.")
    if problems:
        raise ServiceError(problems=problems)
    return PlanFilter(workshop, owner.strip(), status, sort or "priorite")


def owners(rows: Sequence[PlanRow]) -> list[str]:
    """The owners named in the plan, once each, alphabetically (the owner filter's choices)."""
    return sorted({row.item.owner for row in rows if row.item.owner}, key=str.casefold)


def grouped(
    rows: Sequence[PlanRow], chosen: PlanFilter, *, version: CriteriaVersion
) -> list[tuple[Workshop | None, list[PlanRow]]]:
    """The rows `chosen` keeps, by workshop in the criteria file's order, each group in `chosen.sort` order."""
    kept = [row for row in rows if _keeps(chosen, row)]
    kept.sort(key=_SORT_KEYS.get(chosen.sort, _SORT_KEYS["priorite"]))  # stable: priority breaks ties
    groups: list[tuple[Workshop | None, list[PlanRow]]] = []
    for workshop in version.workshops:
        found = [row for row in kept if row.workshop == workshop.id]
        if found:
            groups.append((workshop, found))
    known = {w.id for w in version.workshops}
    orphans = [row for row in kept if row.workshop not in known]
    return groups + ([(None, orphans)] if orphans else [])


def _keeps(chosen: PlanFilter, row: PlanRow) -> bool:
    item = row.item
    if chosen.workshop and row.workshop != chosen.workshop:
        return False
    if chosen.status and ActionStatus(item.status).value != chosen.status:
        return False
    if chosen.owner == NO_OWNER:
        return not item.owner
    return not chosen.owner or item.owner.casefold() == chosen.owner.casefold()


_STATUS_ORDER = {ActionStatus.TODO: 0, ActionStatus.IN_PROGRESS: 1, ActionStatus.DONE: 2}
_SORT_KEYS: dict[str, Callable[[PlanRow], tuple[object, ...]]] = {
    "priorite": lambda _row: (),
    "echeance": lambda row: (row.item.due_on is None, row.item.due_on or date.min),
    "responsable": lambda row: (not row.item.owner, row.item.owner.casefold()),
    "statut": lambda row: (_STATUS_ORDER[ActionStatus(row.item.status)],),
}


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


def save_action_item(
    session: Session,
    *,
    assessment: Assessment,
    row: PlanRow,
    owner: str,
    due_on: str,
    status: str,
    base_revision: int,
    user: User,
) -> ActionItem | Suggested:
    """Save a row's owner, due date and status (form text, checked), creating its item on first write.

    Submitted plans stay editable. Posting the values already shown writes nothing, whatever the
    revision: nothing would be lost. A write based on an older revision is refused (409).
    """
    owner_, due, status_ = checked_edit(owner=owner, due_on=due_on, status=status)
    item = row.item
    if (owner_, due, status_) == (item.owner, item.due_on, item.status):
        return item
    before = _state(item) if item.id is not None else None
    values = {"owner": owner_, "due_on": due, "status": status_}
    new = ActionItem(
        assessment_id=pk(assessment),
        criterion_id=item.criterion_id,
        title=item.title,
        owner=owner_,
        due_on=due,
        status=status_,
    )
    query = select(ActionItem).where(
        ActionItem.assessment_id == assessment.id, ActionItem.criterion_id == item.criterion_id
    )
    try:
        saved = guarded_write(
            session,
            item if item.id is not None else None,
            new,
            base_revision=base_revision,
            values=values,
            reread=lambda: session.exec(query.execution_options(populate_existing=True)).first(),
        )
    except StaleWriteError:
        raise ServiceError(_(STALE_ITEM), status=409, field="action") from None
    session.refresh(saved)  # the values the UPDATE wrote, and the new revision
    created = {"criterion": saved.criterion_id, "title": saved.title} if before is None else {}
    audit(
        session,
        actor_id=user.id,
        action="action_item.create" if before is None else "action_item.update",
        obj=saved,
        structure_id=assessment.structure_id,
        before=before,
        after=_state(saved) | created,
    )
    session.commit()
    session.refresh(saved)
    return saved


def _state(item: ActionItem) -> dict[str, object]:
    return {
        "owner": item.owner,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "status": ActionStatus(item.status).value,
    }
