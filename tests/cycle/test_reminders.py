"""`autodiag reminders send`'s core: the right people, once per item and milestone, even two runs at once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.assessments import evidence
from app.assessments import service as assessments
from app.assessments.models import ActionItem, ActionStatus, Assessment
from app.catalog.service import Catalog
from app.cycle.models import CertificationRecord, Stage
from app.cycle.reminders import due_reminders, queue_reminders, send_reminders
from app.db import pk
from app.mail.models import OutboxMessage
from app.mail.sender import send_pending
from app.structures.models import Structure
from tests.factories import make_cohort, make_structure, make_user
from tests.mail.test_sender import smtp_settings
from tests.smtp import Inbox, text_of

TODAY = date(2027, 3, 1)


def people(session: Session) -> tuple[Structure, dict[str, User]]:
    """« Nord » with an active director, one who turned reminders off, one deactivated; its trainer."""
    structure = make_structure(session, name="Nord")
    users = {
        name: make_user(session, role=role, email=f"{name}@example.org")
        for name, role in (
            ("d", Role.DIRECTOR),
            ("q", Role.DIRECTOR),
            ("x", Role.DIRECTOR),
            ("t", Role.TRAINER),
        )
    }
    from app.structures import service as structures

    for name in ("d", "q", "x"):
        structures.add_member(session, structure=structure, user=users[name])
    users["q"].notify_reminders = False
    users["x"].is_active = False
    session.add_all([users["q"], users["x"]])
    session.commit()
    make_cohort(session, trainers=[users["t"]], structures=[structure])
    return structure, users


def plan_audit(session: Session, structure: Structure, on: date) -> None:
    session.add(CertificationRecord(structure_id=pk(structure), stage=Stage.INITIAL_PLANNED, audit_on=on))
    session.commit()


def keys(session: Session) -> list[str]:
    session.expire_all()
    return sorted(m.event_key for m in session.exec(select(OutboxMessage)))


def test_an_audit_in_30_days_reaches_the_active_director_and_the_trainer_once_with_its_link(
    engine: Engine, session: Session, catalog: Catalog, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    structure, _ = people(session)
    plan_audit(session, structure, TODAY + timedelta(days=30))
    assert send_reminders(session, catalog=catalog, today=TODAY) == 2
    assert send_reminders(session, catalog=catalog, today=TODAY) == 0  # the next hourly run
    assert send_reminders(session, catalog=catalog, today=TODAY + timedelta(days=1)) == 0  # same milestone
    inbox, port = smtp
    send_pending(engine, settings=smtp_settings(port, tmp_path))
    assert sorted(m["To"] for m in inbox.messages) == ["d@example.org", "t@example.org"]
    [message] = inbox.to("d@example.org")
    assert message["Subject"] == "Nord : l'audit a lieu dans 30 jours"
    body = text_of(message)
    assert "prévu le 31 mars 2027" in body
    assert f"/structures/{structure.id}/certification" in body
    assert "/compte" in body
    assert send_reminders(session, catalog=catalog, today=TODAY + timedelta(days=23)) == 2  # the 7-day one


def test_no_reminder_outside_the_milestones_nor_for_a_past_audit(session: Session, catalog: Catalog) -> None:
    structure, _ = people(session)
    plan_audit(session, structure, TODAY + timedelta(days=91))
    assert due_reminders(session, catalog=catalog, today=TODAY) == []
    assert due_reminders(session, catalog=catalog, today=TODAY + timedelta(days=92)) == []


def test_actions_due_soon_or_overdue_expiring_evidence_and_a_forgotten_draft(
    session: Session, catalog: Catalog
) -> None:
    structure, users = people(session)
    director = users["d"]
    draft = assessments.start(
        session, catalog=catalog, structure=structure, user=director, questionnaire_ref="full"
    )
    draft.created_at = datetime(2027, 1, 1, tzinfo=UTC)
    items = [
        ActionItem(
            assessment_id=pk(draft), criterion_id="DEO-01", title="Charte", due_on=TODAY + timedelta(days=5)
        ),
        ActionItem(
            assessment_id=pk(draft), criterion_id="DEO-02", title="Registre", due_on=TODAY - timedelta(days=1)
        ),
        ActionItem(
            assessment_id=pk(draft), criterion_id="DEO-03", title="Loin", due_on=TODAY + timedelta(days=8)
        ),
        ActionItem(
            assessment_id=pk(draft),
            criterion_id="DEO-04",
            title="Fait",
            due_on=TODAY,
            status=ActionStatus.DONE,
        ),
    ]
    session.add_all([draft, *items])
    session.commit()
    piece = evidence.add(
        session,
        structure=structure,
        user=director,
        title="Annuaire",
        link="https://example.org/a",
        document_date=date(2026, 3, 20),
    )
    evidence.attach(
        session, assessment=draft, evidence=piece, criterion_id="PRO-07", covers=["annuaire"], user=director
    )
    found = keys(session) + [r.key for r in due_reminders(session, catalog=catalog, today=TODAY)]
    d = director.id
    assert sorted(found) == sorted(
        [
            f"reminder:action:{items[0].id}:{items[0].due_on}:soon:{d}",
            f"reminder:action:{items[1].id}:{items[1].due_on}:overdue:{d}",
            f"reminder:evidence:{piece.id}:2027-03-20:{d}",
            f"reminder:draft:{draft.id}:2027-01-01:{d}",
        ]
    )


def test_a_submission_waiting_14_days_reminds_the_trainers(
    session: Session, catalog: Catalog, tmp_path: Path
) -> None:
    structure, users = people(session)
    submitted = Assessment(
        structure_id=pk(structure),
        questionnaire_ref="full@1.1.0",
        questionnaire_sha256="",
        criteria_ref="x60-600@1.1.0",
        criteria_sha256="",
        status="submitted",
        created_by=pk(users["d"]),
        submitted_at=datetime(2027, 2, 15, 9, tzinfo=UTC),
    )
    session.add(submitted)
    session.commit()
    assert due_reminders(session, catalog=catalog, today=date(2027, 2, 28)) == []
    [reminder] = due_reminders(session, catalog=catalog, today=TODAY)
    assert (reminder.key, reminder.user.email) == (
        f"reminder:review:{submitted.id}:1:{users['t'].id}",
        "t@example.org",
    )
    assert reminder.path == f"/autoevaluations/{submitted.id}/relecture"


def test_two_runs_at_once_queue_each_reminder_once(
    database_kind: str, engine: Engine, session: Session, catalog: Catalog
) -> None:
    """Both runs find the same reminders due before either writes, then write at the same moment."""
    if database_kind != "postgresql":
        pytest.skip("SQLite takes one writer at a time: the race is PostgreSQL's")
    for number in range(6):
        structure, _ = people(session) if number == 0 else (make_structure(session, name=f"S{number}"), None)
        if number:
            from app.structures import service as structures

            structures.add_member(
                session, structure=structure, user=make_user(session, email=f"s{number}@example.org")
            )
        plan_audit(session, structure, TODAY + timedelta(days=7))
    start, counts = threading.Barrier(2), []

    def run() -> None:
        with Session(engine) as own:
            due = due_reminders(own, catalog=catalog, today=TODAY)
            start.wait()
            counts.append(queue_reminders(own, due))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = keys(session)
    assert len(found) == len(set(found)) == 7  # Nord: director and trainer; five more directors
    assert sum(counts) == 7
    session.expire_all()
    assert session.exec(
        select(OutboxMessage).where(col(OutboxMessage.event_key).like("reminder:audit:%"))
    ).all()
