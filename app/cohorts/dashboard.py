"""The cohort dashboard: each structure's latest assessment, its gaps by workshop, the most common gaps.

Every figure comes from the scoring core through `assessments.evaluate`; this module only picks the
assessments and counts their gaps. Its queries are bounded by the cohort (its structures and their
assessments, by indexed ids), so the rest of the database does not slow it down.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments import service as assessments
from app.assessments.models import Assessment, Snapshot
from app.catalog.models import CriteriaVersion, Criterion, Questionnaire
from app.catalog.service import Catalog
from app.cohorts.models import Cohort, CohortStructure, CohortTrainer, CohortWorkshop
from app.cohorts.service import criteria_version
from app.db import pk
from app.errors import ServiceError
from app.locale import gettext as _
from app.reviews.results import ReviewState, review_states
from app.scoring.codes import GAP_FINDINGS, Finding
from app.scoring.models import Gap, Result
from app.structures.models import Structure

TOP = 5
"""How many of the most common gaps the dashboard lists per workshop (the workshop page lists all)."""


@dataclass(frozen=True)
class Row:
    """An enrolled structure and the assessment shown for it (see `_latest`), with its live result."""

    structure: Structure
    assessment: Assessment | None = None
    questionnaire: Questionnaire | None = None
    result: Result | None = None
    state: ReviewState | None = None
    trend: Trend | None = None


@dataclass(frozen=True)
class Trend:
    """How a structure moved since its previous submitted assessment: the mean change of the area
    scores both have, and the gap counts before and after."""

    points: float | None
    gaps_before: int
    gaps_after: int
    mixed: bool
    """One is express and the other full: the scores do not cover the same criteria."""


@dataclass(frozen=True)
class CommonGap:
    """A criterion in gap in several structures: which ones, how, and the expected evidence they lack."""

    criterion: Criterion
    concerned: tuple[tuple[Structure, Gap], ...]
    missing: tuple[tuple[str, int], ...]

    @property
    def severities(self) -> Counter[Finding]:
        return Counter(gap.severity for _, gap in self.concerned)


@dataclass(frozen=True)
class Dashboard:
    cohort: Cohort
    version: CriteriaVersion
    meetings: dict[str, CohortWorkshop]
    trainers: list[User]
    rows: list[Row]
    common: dict[str, list[CommonGap]]
    """Per workshop, every criterion in gap somewhere, the most common first."""

    def counts(self, row: Row, workshop_id: str) -> Counter[Finding]:
        """The structure's gaps in one workshop, by severity."""
        gaps = row.result.gaps if row.result else ()
        return Counter(gap.severity for gap in gaps if gap.workshop == workshop_id)

    def totals(self, workshop_id: str) -> Counter[Finding]:
        return sum((self.counts(row, workshop_id) for row in self.rows), Counter())


def dashboard(session: Session, *, catalog: Catalog, cohort: Cohort) -> Dashboard:
    """Everything the cohort dashboard and its workshop pages show."""
    enrolled = select(CohortStructure.structure_id).where(CohortStructure.cohort_id == cohort.id)
    structures = list(
        session.exec(
            select(Structure)
            .where(col(Structure.id).in_(enrolled))
            .order_by(col(Structure.name), col(Structure.id))
        )
    )
    latest = _latest(session, [pk(s) for s in structures])
    states = review_states(session, list(latest.values()))
    rows = [_row(session, catalog, structure, latest.get(pk(structure)), states) for structure in structures]
    version = criteria_version(catalog)
    meetings = session.exec(select(CohortWorkshop).where(CohortWorkshop.cohort_id == cohort.id))
    trainers = session.exec(
        select(User)
        .join(CohortTrainer, col(CohortTrainer.user_id) == col(User.id))
        .where(CohortTrainer.cohort_id == cohort.id)
        .order_by(col(User.name))
    )
    return Dashboard(
        cohort,
        version,
        {s.workshop: s for s in meetings},
        list(trainers),
        rows,
        _common_gaps(catalog, version, rows),
    )


def workshop_view(session: Session, *, catalog: Catalog, cohort: Cohort, workshop_id: str) -> dict[str, Any]:
    """What « Préparer l'atelier » shows, on screen and on paper; an unknown workshop is a 404."""
    board = dashboard(session, catalog=catalog, cohort=cohort)
    workshop = next((w for w in board.version.workshops if w.id == workshop_id), None)
    if workshop is None:
        raise ServiceError(_("Cet atelier n'existe pas."), status=404)
    return {"board": board, "workshop": workshop, "severities": GAP_FINDINGS}


def _latest(session: Session, structure_ids: list[int]) -> dict[int, Assessment]:
    """Each structure's assessment submitted most recently (still submitted, or since returned for
    changes), or its latest draft when it never submitted one."""
    found = list(session.exec(select(Assessment).where(col(Assessment.structure_id).in_(structure_ids))))
    submitted_at = dict(
        session.exec(
            select(Snapshot.assessment_id, func.max(Snapshot.created_at))
            .where(col(Snapshot.assessment_id).in_([pk(a) for a in found]))
            .group_by(col(Snapshot.assessment_id))
        ).all()
    )
    latest: dict[int, Assessment] = {}
    for assessment in found:
        current = latest.get(assessment.structure_id)
        if current is None or _recency(assessment, submitted_at) > _recency(current, submitted_at):
            latest[assessment.structure_id] = assessment
    return latest


def _recency(assessment: Assessment, submitted_at: dict[int, datetime]) -> tuple[bool, datetime, int]:
    last = submitted_at.get(pk(assessment))
    return last is not None, last or assessment.created_at, pk(assessment)


def _row(
    session: Session,
    catalog: Catalog,
    structure: Structure,
    assessment: Assessment | None,
    states: dict[int, ReviewState],
) -> Row:
    if assessment is None:
        return Row(structure)
    result = assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    questionnaire = catalog.questionnaire(assessment.questionnaire_ref)
    trend = _trend(session, catalog, structure, assessment, result)
    return Row(structure, assessment, questionnaire, result, states[pk(assessment)], trend)


def _trend(
    session: Session, catalog: Catalog, structure: Structure, assessment: Assessment, result: Result
) -> Trend | None:
    """The change since the structure's submitted assessment before `assessment`, if it has one."""
    earlier = (
        select(Assessment)
        .where(
            Assessment.structure_id == structure.id,
            col(Assessment.submitted_at).is_not(None),
            col(Assessment.id) != assessment.id,
            col(Assessment.created_at) <= assessment.created_at,
        )
        .order_by(col(Assessment.submitted_at).desc(), col(Assessment.id).desc())
    )
    previous = session.exec(earlier).first()
    if previous is None:
        return None
    before = assessments.evaluate(session, catalog=catalog, assessment=previous, structure=structure)
    old = {a.area: a.score for a in before.areas}
    pairs = [(a.score, old.get(a.area)) for a in result.areas]
    deltas = [after - before for after, before in pairs if after is not None and before is not None]
    points = round(sum(deltas) / len(deltas), 1) if deltas else None
    return Trend(points, len(before.gaps), len(result.gaps), before.partial != result.partial)


def _common_gaps(catalog: Catalog, version: CriteriaVersion, rows: list[Row]) -> dict[str, list[CommonGap]]:
    """Per workshop, the criteria in gap across the cohort: most structures first, then most severe."""
    concerned: dict[str, list[tuple[Structure, Gap]]] = {}
    criteria: dict[str, Criterion] = {}
    for row in rows:
        if row.result is None or row.assessment is None:
            continue
        own = catalog.criteria[row.assessment.criteria_ref].by_id
        for gap in row.result.gaps:
            concerned.setdefault(gap.criterion, []).append((row.structure, gap))
            criteria.setdefault(gap.criterion, version.by_id.get(gap.criterion) or own[gap.criterion])
    rank = {finding: index for index, finding in enumerate(GAP_FINDINGS)}
    order = {criterion.id: index for index, criterion in enumerate(version.criteria)}
    common: dict[str, list[CommonGap]] = {workshop.id: [] for workshop in version.workshops}
    for criterion_id, pairs in concerned.items():
        pairs.sort(key=lambda pair: (rank[pair[1].severity], pair[0].name))
        missing = Counter(label for _, gap in pairs for label in gap.missing_evidence)
        found = CommonGap(criteria[criterion_id], tuple(pairs), tuple(missing.most_common()))
        common.setdefault(found.criterion.workshop, []).append(found)
    for gaps in common.values():
        gaps.sort(
            key=lambda g: (
                -len(g.concerned),
                [rank[p[1].severity] for p in g.concerned],
                order.get(g.criterion.id, len(order)),
            )
        )
    return common
