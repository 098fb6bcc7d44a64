"""`autodiag reminders send` as cron runs it: queue, send, and nothing more the next hour."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from app.cycle.models import CertificationRecord, Stage
from app.db import make_engine, pk
from tests.factories import make_structure, make_user
from tests.test_cli import Run, database, run

__all__ = ["database", "run"]


@pytest.mark.sqlite_only
def test_reminders_send_queues_and_sends_once_per_milestone(run: Run, database: str, tmp_path: Path) -> None:
    engine = make_engine(database)
    with Session(engine) as session:
        structure = make_structure(session, director=make_user(session, email="d@example.org"), name="Nord")
        session.add(
            CertificationRecord(
                structure_id=pk(structure), stage=Stage.INITIAL_PLANNED, audit_on=date(2027, 3, 8)
            )
        )
        session.commit()
    engine.dispose()
    code, out, _ = run("reminders", "send", "--today", "2027-03-01")
    assert (code, out) == (0, "queued 1 reminder(s) for 2027-03-01\nsent 1, to try again later 0, failed 0\n")
    [sent] = (tmp_path / "outbox").glob("*.eml")
    assert "Nord : l'audit a lieu dans 7 jours" in sent.read_text(encoding="utf-8")
    assert (
        run("reminders", "send", "--today", "2027-03-01", "--queue-only")[1]
        == "queued 0 reminder(s) for 2027-03-01\n"
    )


@pytest.mark.sqlite_only
def test_reminders_send_refuses_a_malformed_day_in_one_line(run: Run, database: str) -> None:
    code, _, err = run("reminders", "send", "--today", "01/03/2027")
    assert (code, err) == (2, "error: --today: '01/03/2027' is not a date (YYYY-MM-DD)\n")
