"""Answering: one answer written under the assessment's lock, with its revision check and audit entry.

The autosave's path (`answer_and_load`) reads the answers and evidence once, under the lock, and
hands them back to the page, so nothing is read again after the commit.
"""

from __future__ import annotations

from functools import partial
from types import EllipsisType
from typing import Any, TypedDict, Unpack

from sqlalchemy import bindparam
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.models import (
    ANSWER_COLUMNS,
    TEXT_MAX,
    TOO_LONG,
    Answer,
    AnswerRow,
    Assessment,
    AssessmentStatus,
    Loaded,
)
from app.assessments.service import (
    NA_REFUSED,
    AssessmentError,
    StaleAnswerError,
    SubmittedError,
    bound,
    load_links,
)
from app.catalog.service import Catalog
from app.db import StaleWriteError, audit, guarded_write, pk
from app.locale import gettext as _
from app.observability import AUTOSAVE_CONFLICTS

ANSWER_FIELDS = ("level", "not_applicable", "justification", "comment", "carried_over", "revision")


class Written(TypedDict):
    """One answer as its author writes it, whichever way (page, workbook, demo)."""

    level: int | None
    not_applicable: bool
    justification: str
    comment: str


def save_answer(
    session: Session,
    *,
    catalog: Catalog,
    assessment: Assessment,
    user: User,
    criterion_id: str,
    base_revision: int,
    **written: Unpack[Written],
) -> AnswerRow:
    """Write one answer if nobody changed it since `base_revision` (0: not answered yet); return
    the answer as stored (`answer_and_load` also returns the rest of the assessment)."""
    loaded = answer_and_load(
        session,
        catalog=catalog,
        assessment=assessment,
        user=user,
        criterion_id=criterion_id,
        base_revision=base_revision,
        **written,
    )
    return loaded.answers[criterion_id]


def answer_and_load(
    session: Session,
    *,
    catalog: Catalog,
    assessment: Assessment,
    user: User,
    criterion_id: str,
    base_revision: int,
    **written: Unpack[Written],
) -> Loaded:
    """Write one answer if nobody changed it since `base_revision` (0: not answered yet); return the
    assessment's answers and evidence as they are after it, read under the assessment's lock
    before the write (the autosave shows them, and they need no reading again)."""
    level, not_applicable = written["level"], written["not_applicable"]
    justification, comment = written["justification"], written["comment"]
    _check_answer(catalog, assessment, criterion_id, level=level, not_applicable=not_applicable)
    if max(len(justification), len(comment)) > TEXT_MAX:
        raise AssessmentError(_(TOO_LONG))
    answers, ids = locked_answers(session, assessment)
    values: dict[str, Any] = {
        "level": None if not_applicable else level,
        "not_applicable": not_applicable,
        "justification": justification.strip(),
        "comment": comment.strip(),
        "carried_over": False,
    }
    stored = answers.get(criterion_id)
    current = None
    if stored is not None:  # the row read under the lock stands for the ORM object: no second read
        current = Answer(id=ids[criterion_id], assessment_id=pk(assessment), updated_by=0, **stored._asdict())
    try:
        saved, before = write(
            session,
            assessment=assessment,
            criterion_id=criterion_id,
            values=values | {"updated_by": pk(user)},
            base_revision=base_revision,
            current=current,
        )
    except StaleAnswerError:
        AUTOSAVE_CONFLICTS.inc()
        raise
    audit(
        session,
        actor_id=user.id,
        action="answer.save",
        obj=saved,
        structure_id=assessment.structure_id,
        before=before,
        after={"criterion": criterion_id, **values},
    )
    links = load_links(session, assessment)
    commit_keeping_loaded(session)
    answers[criterion_id] = AnswerRow(criterion_id, **values, revision=base_revision + 1)
    return Loaded(answers, links)


def _check_answer(
    catalog: Catalog, assessment: Assessment, criterion_id: str, *, level: int | None, not_applicable: bool
) -> None:
    context = bound(catalog, assessment)
    if criterion_id not in context.questionnaire.criterion_ids:
        message = _("Le critère %(criterion)s n'est pas posé dans ce questionnaire.")
        raise AssessmentError(message % {"criterion": criterion_id})
    if level is not None and level not in (0, 1, 2, 3):
        raise AssessmentError(_("Le niveau doit être 0, 1, 2 ou 3."))
    version = context.criteria
    if not_applicable and not version.allows_na(version.by_id[criterion_id]):
        raise AssessmentError(_(NA_REFUSED), field="niveau")


LOCKED_ANSWERS = (
    select_rows(Assessment.status, col(Answer.id), *ANSWER_COLUMNS)  # type: ignore[call-overload]
    .select_from(Assessment)
    .outerjoin(Answer, col(Answer.assessment_id) == col(Assessment.id))
    .where(col(Assessment.id) == bindparam("assessment_id"))
    .with_for_update(of=Assessment)
)
"""Built once, as `service.ANSWERS_OF`: every autosave runs it."""


def locked_answers(session: Session, assessment: Assessment) -> tuple[dict[str, AnswerRow], dict[str, int]]:
    """Lock the assessment as `lock_draft` does and read its answers (with their ids) in the same query."""
    rows = session.execute(LOCKED_ANSWERS, {"assessment_id": assessment.id}).all()
    if not rows or rows[0][0] != AssessmentStatus.DRAFT:
        session.expire(assessment)  # the page that says so shows it as it is now
        raise SubmittedError()
    answers = {row[2]: AnswerRow(*row[2:]) for row in rows if row[1] is not None}
    return answers, {row[2]: row[1] for row in rows if row[1] is not None}


def write(
    session: Session,
    *,
    assessment: Assessment,
    criterion_id: str,
    values: dict[str, Any],
    base_revision: int,
    current: Answer | EllipsisType | None = ...,
) -> tuple[Answer, dict[str, Any] | None]:
    """Create or update the answer unless it changed since `base_revision` (`StaleAnswerError`);
    return it with its values before. No commit: the caller's use case owns it. `current`, when
    the caller read it already (None: no answer yet), saves reading it again."""
    if isinstance(current, EllipsisType):
        current = _answer(session, assessment, criterion_id)
    before = None if current is None else {field: getattr(current, field) for field in ANSWER_FIELDS}
    new = Answer(assessment_id=pk(assessment), criterion_id=criterion_id, **values)
    reread = partial(_answer, session, assessment, criterion_id)
    try:
        saved = guarded_write(
            session, current, new, base_revision=base_revision, values=values, reread=reread
        )
    except StaleWriteError as stale:
        raise StaleAnswerError(stale.current if isinstance(stale.current, Answer) else None) from None
    return saved, before


def _answer(session: Session, assessment: Assessment, criterion_id: str) -> Answer | None:
    query = select(Answer).where(Answer.assessment_id == assessment.id, Answer.criterion_id == criterion_id)
    return session.exec(query.execution_options(populate_existing=True)).first()


def commit_keeping_loaded(session: Session) -> None:
    """Commit without expiring what the session holds: the request goes on to show the assessment
    it wrote to, which the write did not change, and need not read it (and its user) again."""
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring
