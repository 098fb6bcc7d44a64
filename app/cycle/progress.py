"""Progress between two assessments of a structure: per criterion before → after, gaps closed and
opened, and each area's score change."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.permissions import can, reading
from app.assessments import service as assessments
from app.assessments.models import Assessment
from app.catalog.service import Catalog
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.scoring.models import CriterionResult, Result
from app.structures.models import Structure

CHOOSE_TWO = N_("Choisissez deux autoévaluations différentes de cette structure.")


@dataclass(frozen=True)
class Line:
    criterion: str
    title: str
    before: CriterionResult | None
    after: CriterionResult | None

    @property
    def changed(self) -> bool:
        def key(r: CriterionResult | None) -> tuple[object, ...]:
            return (r.effective_level, r.finding) if r else ()

        return key(self.before) != key(self.after)


@dataclass(frozen=True)
class AreaDelta:
    area: str
    title: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else round(self.after - self.before, 1)


@dataclass(frozen=True)
class Comparison:
    before: Assessment
    after: Assessment
    before_result: Result
    after_result: Result
    lines: tuple[Line, ...]
    closed: tuple[Line, ...]
    opened: tuple[Line, ...]
    areas: tuple[AreaDelta, ...]


def readable_assessments(session: Session, *, user: User, structure: Structure) -> list[Assessment]:
    """The structure's assessments `user` may read, newest first: what the comparison offers."""
    query = select(Assessment).where(Assessment.structure_id == structure.id)
    found = session.exec(query.order_by(col(Assessment.created_at).desc(), col(Assessment.id).desc()))
    return [a for a in found if can(session, user, reading(a), a.structure_id)]


def chosen(
    session: Session, *, user: User, structure: Structure, ids: tuple[str, str]
) -> tuple[Assessment, Assessment]:
    """The two assessments the query names, both of `structure` and readable by `user`, older first."""
    found = []
    for raw in ids:
        assessment = session.get(Assessment, int(raw)) if re.fullmatch(r"\d{1,9}", raw) else None
        if assessment is None or assessment.structure_id != structure.id:
            raise ServiceError(_(CHOOSE_TWO), status=404)
        if not can(session, user, reading(assessment), assessment.structure_id):
            raise ServiceError(_(CHOOSE_TWO), status=404)
        found.append(assessment)
    if found[0].id == found[1].id:
        raise ServiceError(_(CHOOSE_TWO))
    first, second = sorted(found, key=lambda a: (a.submitted_at or a.created_at, a.id or 0))
    return first, second


def compare(
    session: Session, *, catalog: Catalog, structure: Structure, before: Assessment, after: Assessment
) -> Comparison:
    """What changed from `before` to `after`, criterion by criterion and area by area."""
    results = [
        assessments.evaluate(session, catalog=catalog, assessment=a, structure=structure)
        for a in (before, after)
    ]
    old, new = ({c.criterion: c for c in r.criteria} for r in results)
    versions = [catalog.criteria[a.criteria_ref] for a in (before, after)]
    titles = {c.id: c.title for v in versions for c in v.criteria}
    order = [c.id for c in versions[1].criteria] + [c for c in old if c not in new]
    lines = tuple(
        Line(cid, titles.get(cid, cid), old.get(cid), new.get(cid))
        for cid in order
        if cid in old or cid in new
    )
    gaps = [{g.criterion for g in r.gaps} for r in results]
    closed = tuple(line for line in lines if line.criterion in gaps[0] - gaps[1])
    opened = tuple(line for line in lines if line.criterion in gaps[1] - gaps[0])
    scores = [{a.area: a.score for a in r.areas} for r in results]
    areas = tuple(
        AreaDelta(area.id, area.title, scores[0].get(area.id), scores[1].get(area.id))
        for area in versions[1].areas
    )
    return Comparison(before, after, results[0], results[1], lines, closed, opened, areas)
