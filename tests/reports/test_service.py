"""The action plan, score history and chart geometry, through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.assessments import service as assessments
from app.assessments.models import ActionItem, ActionStatus, Assessment, AssessmentStatus
from app.catalog.service import Catalog
from app.db import AuditEntry
from app.errors import ServiceError
from app.reports import plan, service
from app.reports.charts import CENTRE, RADIUS, history_x, radar
from app.reports.plan import PlanRow
from app.scoring.models import Result
from app.structures.models import Structure
from tests.factories import director_with_structure, make_structure, make_user
from tests.reports.helpers import answer


def started(
    session: Session, catalog: Catalog, user: User, structure: Structure, **levels: int
) -> Assessment:
    assessment = assessments.start(
        session, catalog=catalog, structure=structure, user=user, questionnaire_ref="full"
    )
    for criterion_id, level in levels.items():
        answer(
            session,
            catalog,
            assessment=assessment,
            user=user,
            criterion_id=criterion_id.replace("_", "-"),
            level=level,
        )
    return assessment


def result_of(session: Session, catalog: Catalog, assessment: Assessment, structure: Structure) -> Result:
    return assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)


def plan_of(
    session: Session, catalog: Catalog, assessment: Assessment, structure: Structure
) -> list[PlanRow]:
    result = result_of(session, catalog, assessment, structure)
    version = catalog.criteria[assessment.criteria_ref]
    items = plan.action_plan(session, assessment=assessment)
    return plan.plan_rows(items, result, assessment=assessment, version=version)


def save(
    session: Session, row: PlanRow, user: User, *, base_revision: int, **values: str
) -> ActionItem | plan.Suggested:
    fields = {"owner": "", "due_on": "", "status": "a_faire"} | values
    assessment = session.get(Assessment, row.item.assessment_id)
    assert assessment is not None
    return plan.save_action_item(
        session, assessment=assessment, row=row, base_revision=base_revision, user=user, **fields
    )


def test_the_plan_suggests_one_row_per_gap_and_saves_nothing_until_edited(
    session: Session, catalog: Catalog
) -> None:
    user, structure = director_with_structure(session)
    assessment = started(session, catalog, user, structure, DEO_01=3, DEO_02=0)
    result = result_of(session, catalog, assessment, structure)
    rows = plan_of(session, catalog, assessment, structure)
    assert [r.item.criterion_id for r in rows] == [g.criterion for g in result.gaps]
    assert all(r.item.id is None and r.item.revision == 0 for r in rows)
    assert plan.action_plan(session, assessment=assessment) == []
    deo01 = next(r for r in rows if r.item.criterion_id == "DEO-01")
    assert deo01.first_step  # capped: prove the level first
    assert deo01.action == catalog.criteria[assessment.criteria_ref].by_id["DEO-01"].action


def test_due_dates_count_from_today_for_a_draft_and_from_submission_once_submitted(
    session: Session, catalog: Catalog
) -> None:
    user, structure = director_with_structure(session)
    assessment = started(session, catalog, user, structure, DEO_02=0)
    gap = next(g for g in result_of(session, catalog, assessment, structure).gaps if g.criterion == "DEO-02")
    today = datetime.now(UTC).date()
    assert service.due_date(assessment, gap) == today + timedelta(days=90)
    assessment.status, assessment.submitted_at = (
        AssessmentStatus.SUBMITTED,
        datetime(2025, 3, 1, 10, tzinfo=UTC),
    )
    assert service.reference_date(assessment) == date(2025, 3, 1)
    assert service.due_date(assessment, gap) == date(2025, 5, 30)


def test_an_edited_item_is_never_rewritten_and_comes_last_once_its_gap_closes(
    session: Session, catalog: Catalog
) -> None:
    user, structure = director_with_structure(session)
    assessment = started(session, catalog, user, structure, DEO_02=0)
    deo02 = next(
        r for r in plan_of(session, catalog, assessment, structure) if r.item.criterion_id == "DEO-02"
    )
    saved = save(session, deo02, user, base_revision=0, owner="Inès", status="en_cours")
    answer(
        session, catalog, assessment=assessment, user=user, criterion_id="DEO-02", level=2, base_revision=1
    )
    later = result_of(session, catalog, assessment, structure)
    without = replace(later, gaps=tuple(g for g in later.gaps if g.criterion != "DEO-02"))
    items = plan.action_plan(session, assessment=assessment)
    version = catalog.criteria[assessment.criteria_ref]
    rows = plan.plan_rows(items, without, assessment=assessment, version=version)
    kept = next(r for r in rows if r.item.criterion_id == "DEO-02")
    assert (kept.item.id, kept.item.owner, kept.item.status) == (saved.id, "Inès", ActionStatus.IN_PROGRESS)
    assert rows[-1] == kept
    assert kept.gap is None
    assert [r.gap.priority for r in rows[:-1] if r.gap] == sorted(r.gap.priority for r in rows[:-1] if r.gap)


def test_an_edit_based_on_an_older_revision_is_refused_with_409_and_changes_nothing(
    session: Session, catalog: Catalog
) -> None:
    user, structure = director_with_structure(session)
    assessment = started(session, catalog, user, structure, DEO_02=0)
    first = plan_of(session, catalog, assessment, structure)[0]
    item = save(session, first, user, base_revision=0, owner="Inès")
    assert item.revision == 1
    with pytest.raises(ServiceError, match="modifiée entre-temps") as refused:
        save(session, first, user, base_revision=0, owner="Karim")  # a second first write
    assert (refused.value.status, set(refused.value.problems)) == (409, {"action"})
    row = plan_of(session, catalog, assessment, structure)[0]
    save(session, row, user, base_revision=1, owner="Karim")
    with pytest.raises(ServiceError, match="modifiée entre-temps"):
        save(session, row, user, base_revision=1, owner="Nadia")
    session.refresh(row.item)
    assert (row.item.owner, row.item.revision) == ("Karim", 2)
    entries = session.exec(select(AuditEntry).where(col(AuditEntry.action).like("action_item.%"))).all()
    assert sorted(e.action for e in entries) == ["action_item.create", "action_item.update"]


def test_grouping_follows_the_workshops_and_sorting_stays_inside_each_group(
    session: Session, catalog: Catalog
) -> None:
    user, structure = director_with_structure(session)
    assessment = started(session, catalog, user, structure, DEO_01=0, DEO_02=0)
    version = catalog.criteria[assessment.criteria_ref]
    rows = plan_of(session, catalog, assessment, structure)
    groups = plan.grouped(rows, plan.PlanFilter(), version=version)
    order = [w.id for w in version.workshops]
    assert [w.id for w, _ in groups if w] == sorted((w.id for w, _ in groups if w), key=order.index)
    assert sum(len(found) for _, found in groups) == len(rows)
    by_owner = plan.grouped(rows, plan.PlanFilter(owner=plan.NO_OWNER), version=version)
    assert sum(len(found) for _, found in by_owner) == len(rows)
    with pytest.raises(ServiceError) as refused:
        plan.plan_filter(workshop="x", owner="", status="y", sort="z", version=version)
    assert set(refused.value.problems) == {"atelier", "statut", "tri"}


@pytest.mark.parametrize(
    ("owner", "due_on", "status", "fields"),
    [
        ("x" * 121, "", "fait", {"responsable"}),
        ("", "2025-02-30", "fait", {"echeance"}),
        ("", "", "termine", {"statut"}),
        ("x" * 200, "hier", "", {"responsable", "echeance", "statut"}),
    ],
)
def test_a_bad_edit_names_each_bad_field(owner: str, due_on: str, status: str, fields: set[str]) -> None:
    with pytest.raises(ServiceError) as refused:
        plan.checked_edit(owner=owner, due_on=due_on, status=status)
    assert set(refused.value.problems) == fields


def test_a_good_edit_is_trimmed_and_typed() -> None:
    assert plan.checked_edit(owner=" Inès ", due_on="2025-09-30", status="fait") == (
        "Inès",
        date(2025, 9, 30),
        ActionStatus.DONE,
    )
    assert plan.checked_edit(owner="x" * 120, due_on=" ", status="a_faire")[1] is None


def test_the_history_keeps_submitted_assessments_in_submission_order(
    session: Session, catalog: Catalog
) -> None:
    user, structure = director_with_structure(session)
    rows = []  # submission is simulated: the history reads only the status and the date
    for day, level in ((5, 2), (1, 1)):
        assessment = started(session, catalog, user, structure, DEO_01=level)
        assessment.status, assessment.submitted_at = (
            AssessmentStatus.SUBMITTED,
            datetime(2025, 1, day, tzinfo=UTC),
        )
        rows.append(service.evaluated(session, catalog=catalog, assessment=assessment, structure=structure))
    draft = started(session, catalog, user, structure, DEO_01=3)
    rows.append(service.evaluated(session, catalog=catalog, assessment=draft, structure=structure))
    history = service.score_history(catalog, rows=rows)
    assert [p.assessment.submitted_at.day for p in history.points if p.assessment.submitted_at] == [1, 5]
    assert [title for _, title in history.areas] == [
        "Déontologie",
        "Processus de la médiation sociale",
        "Structuration interne",
        "Évaluation",
    ]
    early, late = history.scores("deontologie")
    assert early is not None
    assert late is not None
    assert early < late


def test_readable_structures_pairs_each_with_its_latest_assessment(
    session: Session, catalog: Catalog
) -> None:
    user, structure = director_with_structure(session)
    make_structure(session, name="Zzz, pas la mienne")
    started(session, catalog, user, structure)
    latest = started(session, catalog, user, structure, DEO_01=3)
    mine = service.readable_structures(session, catalog=catalog, user=user)
    assert [(s.id, e.assessment.id if e else None) for s, e in mine] == [(structure.id, latest.id)]
    admin = make_user(session, role=Role.ADMIN)
    everything = service.readable_structures(session, catalog=catalog, user=admin)
    assert [e is None for _, e in everything] == [False, True]


def test_radar_labels_wrap_and_a_lone_history_point_sits_in_the_middle() -> None:
    chart = radar(
        [("Déontologie", 50.0), ("Processus de la médiation sociale", None), ("C", 0.0), ("D", 100.0)]
    )
    assert chart.axes[1].lines == ("Processus de la", "médiation sociale")
    assert chart.axes[0].point == (CENTRE, CENTRE - RADIUS / 2)
    assert chart.axes[0].label_at[1] < chart.axes[0].end[1]  # the top label sits above its axis
    assert history_x(0, 1) == 240.0
    assert (history_x(0, 3), history_x(2, 3)) == (40.0, 440.0)
