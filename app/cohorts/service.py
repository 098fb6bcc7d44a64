"""Preparation cohorts: create and edit them (name, the four workshops, trainers, structures), list them.

A cohort's four workshops are those of the latest released criteria version; enrolling a structure
lets the cohort's trainers read and review it (see `enrollable_structure_ids` for who may enrol).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.accounts.permissions import cohort_ids, enrollable_structure_ids
from app.catalog.models import CriteriaVersion, Status
from app.catalog.service import Catalog, version_key
from app.cohorts.models import Cohort, CohortForm, CohortStructure, CohortTrainer, CohortWorkshop
from app.db import audit, pk
from app.errors import ServiceError
from app.locale import gettext as _
from app.structures.models import Structure

NAME_MAX, PLACE_MAX = 200, 200


def criteria_version(catalog: Catalog) -> CriteriaVersion:
    """The latest released criteria version: a cohort's four workshops are the ones it names."""
    released = [v for v in catalog.criteria.values() if v.status == Status.RELEASED]
    return max(released, key=lambda v: (v.published or date.min, version_key(v.version)))


def visible_cohorts(session: Session, *, user: User) -> list[Cohort]:
    """The cohorts `user` runs (every one for administrators), by name."""
    allowed = cohort_ids(session, user)
    query = select(Cohort).order_by(col(Cohort.name), col(Cohort.id))
    if allowed is not None:
        query = query.where(col(Cohort.id).in_(allowed))
    return list(session.exec(query))


def trainers(session: Session) -> list[User]:
    """The active trainer accounts, by name: the people a cohort may have as trainers."""
    query = select(User).where(User.role == Role.TRAINER, col(User.is_active).is_(True))
    return list(session.exec(query.order_by(col(User.name), col(User.id))))


def enrollable(session: Session, *, user: User) -> list[Structure]:
    """The structures `user` may enrol, by name."""
    allowed = enrollable_structure_ids(session, user)
    query = select(Structure).order_by(col(Structure.name), col(Structure.id))
    if allowed is not None:
        query = query.where(col(Structure.id).in_(allowed))
    return list(session.exec(query))


@dataclass(frozen=True)
class CohortInput:
    """A cohort form as typed: workshop id → (date, place), and the ids ticked."""

    name: str
    workshops: dict[str, tuple[str, str]]
    trainer_ids: list[str]
    structure_ids: list[str]


def posted_cohort(catalog: Catalog, form: CohortForm) -> CohortInput:
    """The cohort form's input: each workshop of the cohorts' criteria version with its date and place."""
    workshops: dict[str, tuple[str, str]] = {
        w.id: (form.typed(f"date-{w.id}"), form.typed(f"lieu-{w.id}"))
        for w in criteria_version(catalog).workshops
    }
    return CohortInput(form.nom, workshops, form.formateurs, form.structures)


@dataclass(frozen=True)
class CohortState:
    name: str
    workshops: dict[str, tuple[date | None, str]]
    trainer_ids: set[int]
    structure_ids: set[int]

    def as_input(self) -> CohortInput:
        """The cohort as its edit form shows it."""
        return CohortInput(
            self.name,
            {w: (d.isoformat() if d else "", place) for w, (d, place) in self.workshops.items()},
            [str(i) for i in self.trainer_ids],
            [str(i) for i in self.structure_ids],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "workshops": {w: {"held_on": d, "place": p} for w, (d, p) in sorted(self.workshops.items())},
            "trainers": sorted(self.trainer_ids),
            "structures": sorted(self.structure_ids),
        }


def cohort_state(session: Session, cohort: Cohort) -> CohortState:
    """The cohort as stored: what its edit form starts from."""
    rows = session.exec(select(CohortWorkshop).where(CohortWorkshop.cohort_id == cohort.id))
    trainer_rows = session.exec(select(CohortTrainer.user_id).where(CohortTrainer.cohort_id == cohort.id))
    enrolled = session.exec(
        select(CohortStructure.structure_id).where(CohortStructure.cohort_id == cohort.id)
    )
    return CohortState(
        cohort.name, {r.workshop: (r.held_on, r.place) for r in rows}, set(trainer_rows), set(enrolled)
    )


def checked_cohort(session: Session, *, catalog: Catalog, user: User, posted: CohortInput) -> CohortState:
    """The cohort input checked, or ServiceError naming each bad field."""
    problems: dict[str, str] = {}
    name = posted.name.strip()
    if not name:
        problems["nom"] = _("Donnez un nom à la cohorte.")
    elif len(name) > NAME_MAX:
        problems["nom"] = _("Le nom est trop long : %(count)s caractères au plus.") % {"count": NAME_MAX}
    workshops: dict[str, tuple[date | None, str]] = {}
    for workshop in criteria_version(catalog).workshops:
        typed_date, place = posted.workshops.get(workshop.id, ("", ""))
        held_on = _date(typed_date, problems, f"date-{workshop.id}")
        if len(place.strip()) > PLACE_MAX:
            problems[f"lieu-{workshop.id}"] = _("Le lieu est trop long : %(count)s caractères au plus.") % {
                "count": PLACE_MAX
            }
        workshops[workshop.id] = (held_on, place.strip())
    chosen_trainers = _checked_trainers(session, user=user, ids=posted.trainer_ids, problems=problems)
    chosen_structures = _checked_structures(session, user=user, ids=posted.structure_ids, problems=problems)
    if problems:
        raise ServiceError(problems=problems)
    return CohortState(name, workshops, chosen_trainers, chosen_structures)


def _date(text: str, problems: dict[str, str], field: str) -> date | None:
    """A date typed as the date field sends it (2027-01-14) or the French way (14/01/2027)."""
    text = text.strip()
    if not text:
        return None
    french = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        found = date(int(french[3]), int(french[2]), int(french[1])) if french else date.fromisoformat(text)
    except ValueError:
        found = None
    if found is None or not 2000 <= found.year <= 2100:
        problems[field] = _("Saisissez une date valide, par exemple 14/01/2027.")
        return None
    return found


def _ids(values: list[str]) -> set[int] | None:
    if not all(re.fullmatch(r"\d{1,9}", v) for v in values):
        return None
    return {int(v) for v in values}


def _checked_trainers(session: Session, *, user: User, ids: list[str], problems: dict[str, str]) -> set[int]:
    """Active trainer accounts; a trainer who edits a cohort always stays one of its trainers."""
    wanted = _ids(ids)
    known = {pk(t) for t in trainers(session)}
    if wanted is None or not wanted <= known:
        problems["formateurs"] = _(
            "Choisissez des formateur·rices parmi les comptes formateur actifs proposés."
        )
        return set()
    chosen = wanted | ({pk(user)} if user.role == Role.TRAINER else set())
    if not chosen:
        problems["formateurs"] = _("Choisissez au moins un·e formateur·rice pour animer la cohorte.")
    return chosen


def _checked_structures(
    session: Session, *, user: User, ids: list[str], problems: dict[str, str]
) -> set[int]:
    wanted = _ids(ids)
    allowed = {pk(s) for s in enrollable(session, user=user)}
    if wanted is None or not wanted <= allowed:
        problems["structures"] = _("Choisissez des structures parmi celles proposées.")
        return set()
    return wanted


def save_cohort(
    session: Session, *, catalog: Catalog, user: User, cohort: Cohort | None, posted: CohortInput
) -> Cohort:
    """Create a cohort (`cohort` None) or replace its details, trainers and structures; all audited."""
    wanted = checked_cohort(session, catalog=catalog, user=user, posted=posted)
    creating = cohort is None
    before = CohortState("", {}, set(), set()) if cohort is None else cohort_state(session, cohort)
    cohort = cohort or Cohort(name=wanted.name, created_by=pk(user))
    cohort.name = wanted.name
    session.add(cohort)
    session.flush()
    stored = session.exec(select(CohortWorkshop).where(CohortWorkshop.cohort_id == cohort.id))
    rows = {row.workshop: row for row in stored}
    for workshop, (held_on, place) in wanted.workshops.items():
        row = rows.get(workshop) or CohortWorkshop(cohort_id=pk(cohort), workshop=workshop)
        row.held_on, row.place = held_on, place
        session.add(row)
    _replace_members(session, cohort=cohort, before=before, after=wanted)
    for structure_id in sorted(before.structure_ids ^ wanted.structure_ids):
        action = "cohort.enrol" if structure_id in wanted.structure_ids else "cohort.unenrol"
        audit(session, actor_id=user.id, action=action, obj=cohort, structure_id=structure_id)
    audit(
        session,
        actor_id=user.id,
        action="cohort.create" if creating else "cohort.update",
        obj=cohort,
        before=None if creating else before.as_dict(),
        after=wanted.as_dict(),
    )
    session.commit()
    session.refresh(cohort)
    return cohort


def _replace_members(session: Session, *, cohort: Cohort, before: CohortState, after: CohortState) -> None:
    """Remove the trainers and structures no longer chosen, add the newly chosen ones."""
    for trainer in session.exec(select(CohortTrainer).where(CohortTrainer.cohort_id == cohort.id)):
        if trainer.user_id not in after.trainer_ids:
            session.delete(trainer)
    for enrolled in session.exec(select(CohortStructure).where(CohortStructure.cohort_id == cohort.id)):
        if enrolled.structure_id not in after.structure_ids:
            session.delete(enrolled)
    session.flush()
    new_trainers = after.trainer_ids - before.trainer_ids
    new_structures = after.structure_ids - before.structure_ids
    session.add_all(CohortTrainer(cohort_id=pk(cohort), user_id=user_id) for user_id in sorted(new_trainers))
    session.add_all(CohortStructure(cohort_id=pk(cohort), structure_id=s) for s in sorted(new_structures))
