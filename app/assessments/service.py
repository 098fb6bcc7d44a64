"""Assessments: start, attach evidence from the form, load and score.

Writing an answer is in `answering.py`; submission, and the review before it, in `snapshot.py`;
evidence records in `evidence.py` and their files in `files.py`. A refused change raises a
`ServiceError` carrying its HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments import carry, drafts, evidence, files
from app.assessments.forms import EvidenceForm
from app.assessments.models import (
    ANSWER_COLUMNS,
    LINK_COLUMNS,
    PIECE_COLUMNS,
    SUBMITTED,
    Answer,
    AnswerRow,
    Assessment,
    AssessmentKind,
    AssessmentStatus,
    Evidence,
    EvidenceLink,
    LinkRow,
    Loaded,
    PieceRow,
)
from app.assessments.renewal import Renewal, keep_current
from app.catalog.models import CriteriaVersion, Questionnaire
from app.catalog.service import Catalog
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.limits import UPLOAD_OVERHEAD
from app.locale import N_
from app.locale import gettext as _
from app.scoring import models as scoring
from app.scoring.service import score
from app.structures.models import Structure

NA_REFUSED = N_(
    "Ce critère ne peut pas être déclaré non applicable : seul le profil de la structure peut l'écarter. "
    "Choisissez un niveau de 0 à 3."
)


class AssessmentError(ServiceError):
    """A refused change, with a message for the director (in the request's language)."""


class SubmittedError(AssessmentError):
    def __init__(self) -> None:
        super().__init__(_(SUBMITTED), status=409)


class StaleAnswerError(AssessmentError):
    """The answer changed since the form was loaded; `current` is the newer value."""

    def __init__(self, current: Answer | None) -> None:
        self.current = current
        super().__init__(
            _(
                "Cette réponse a été modifiée entre-temps (autre onglet ou autre personne). "
                "Voici la version enregistrée : vérifiez-la avant de la modifier à nouveau."
            ),
            status=409,
        )


@dataclass(frozen=True)
class Bound:
    """The questionnaire and criteria version an assessment was started with."""

    questionnaire: Questionnaire
    criteria: CriteriaVersion


def bound(catalog: Catalog, assessment: Assessment) -> Bound:
    return Bound(
        catalog.questionnaire(assessment.questionnaire_ref), catalog.criteria[assessment.criteria_ref]
    )


def structure_of(session: Session, assessment: Assessment) -> Structure:
    structure = session.get(Structure, assessment.structure_id)
    assert structure is not None  # a foreign key
    return structure


def check_draft(assessment: Assessment) -> None:
    """Refuse (409) to change an assessment that was submitted."""
    if assessment.status != AssessmentStatus.DRAFT:
        raise SubmittedError()


def start(
    session: Session,
    *,
    catalog: Catalog,
    structure: Structure,
    user: User,
    questionnaire_ref: str,
    previous: Assessment | None = None,
    renewal: Renewal | None = None,
) -> Assessment:
    """Start an assessment bound to a questionnaire; from `previous`, carry answers for re-confirmation.

    A surveillance or renewal assessment (`renewal`) asks to reconfirm only what has expired."""
    questionnaire = catalog.questionnaire(questionnaire_ref)
    assessment = Assessment(
        structure_id=pk(structure),
        name=drafts.default_name(questionnaire),
        questionnaire_ref=questionnaire.ref,
        questionnaire_sha256=catalog.questionnaire_hashes[questionnaire.ref],
        criteria_ref=questionnaire.criteria,
        criteria_sha256=catalog.criteria_hashes[questionnaire.criteria],
        previous_id=previous.id if previous else None,
        kind=renewal.kind if renewal else AssessmentKind.INITIAL,
        created_by=pk(user),
    )
    session.add(assessment)
    session.flush()
    carried: dict[str, Any] = {}
    if previous is not None:
        followed = carry.carry_over(session, catalog=catalog, previous=previous, to=assessment, user=user)
        carried = followed.recorded()
    if previous is not None and renewal is not None:
        session.flush()
        version = catalog.criteria[assessment.criteria_ref]
        carried["kept_current"] = keep_current(
            session, version=version, source=previous, to=assessment, since=renewal.since, today=renewal.today
        )
    audit(
        session,
        actor_id=user.id,
        action="assessment.start",
        obj=assessment,
        structure_id=structure.id,
        after={"questionnaire": questionnaire.ref, **carried},
    )
    session.commit()
    session.refresh(assessment)
    return assessment


def answers_of(session: Session, assessment: Assessment) -> list[Answer]:
    return list(session.exec(select(Answer).where(Answer.assessment_id == assessment.id)))


def lock_draft(session: Session, assessment: Assessment) -> None:
    """Lock the assessment's row until the commit (where the database can); refuse if it was submitted.

    A write to a draft and its submission lock the same row, so a snapshot never misses a write
    that was accepted. The status is read again under the lock: the object may be older.
    """
    query = select(Assessment.status).where(Assessment.id == assessment.id).with_for_update()
    if session.exec(query).one() != AssessmentStatus.DRAFT:
        session.expire(assessment)  # the page that says so shows it as it is now
        raise SubmittedError()


def add_evidence(
    session: Session,
    *,
    catalog: Catalog,
    assessment: Assessment,
    user: User,
    form: EvidenceForm,
    evidence_dir: Path,
    max_bytes: int,
    announced_bytes: int | None = None,
) -> EvidenceLink:
    """Attach to one question of a draft the piece the form names: from the structure's library,
    uploaded, or cited. `announced_bytes`, the request's size, refuses a file already too large."""
    check_draft(assessment)
    if announced_bytes is not None and announced_bytes > max_bytes + UPLOAD_OVERHEAD:
        raise files.TooLargeError(files.too_large(max_bytes))
    criterion = bound(catalog, assessment).criteria.by_id[form.critere]
    if not set(form.couvre) <= {item.id for item in criterion.expected_evidence}:
        raise files.EvidenceError(_("Cochez seulement des preuves attendues pour ce critère."))
    if form.preuve:
        piece = session.get(Evidence, int(form.preuve)) if form.preuve.isdecimal() else None
        if piece is None or piece.structure_id != assessment.structure_id:
            raise files.EvidenceError(_("Choisissez un document de la bibliothèque de la structure."))
    else:
        structure = structure_of(session, assessment)
        piece = evidence.add_posted(
            session, structure=structure, user=user, form=form, evidence_dir=evidence_dir, max_bytes=max_bytes
        )
    return evidence.attach(
        session,
        assessment=assessment,
        evidence=piece,
        criterion_id=criterion.id,
        covers=form.couvre,
        user=user,
    )


# The queries every questionnaire page runs, built once: building a select (coercing its columns,
# joins and conditions) cost more than running it on SQLite. The assessment is a bound parameter.
ANSWERS_OF = select_rows(*ANSWER_COLUMNS).where(col(Answer.assessment_id) == bindparam("assessment_id"))
LINKS_OF = (
    select_rows(*LINK_COLUMNS, *PIECE_COLUMNS)
    .join(Evidence)
    .where(col(EvidenceLink.assessment_id) == bindparam("assessment_id"))
    .order_by(col(Evidence.title), col(Evidence.id))
)
SCORED_ANSWERS_OF = select_rows(
    col(Answer.criterion_id), col(Answer.level), col(Answer.not_applicable), col(Answer.justification)
).where(col(Answer.assessment_id) == bindparam("assessment_id"))
SCORED_PIECES_OF = (
    select_rows(
        col(EvidenceLink.criterion_id),
        col(EvidenceLink.covers),
        col(Evidence.title),
        col(Evidence.document_date),
    )
    .join(Evidence)
    .join(
        Answer,  # only the evidence of answered criteria: the only evidence scoring looks at
        and_(
            col(Answer.assessment_id) == col(EvidenceLink.assessment_id),
            col(Answer.criterion_id) == col(EvidenceLink.criterion_id),
        ),
    )
    .where(col(EvidenceLink.assessment_id) == bindparam("assessment_id"))
    .order_by(col(Evidence.title), col(Evidence.id))
)


def load(session: Session, assessment: Assessment) -> Loaded:
    """Read the answers and evidence of `assessment` in two queries."""
    answers = session.execute(ANSWERS_OF, {"assessment_id": assessment.id})
    return Loaded({row.criterion_id: AnswerRow(*row) for row in answers}, load_links(session, assessment))


def load_links(session: Session, assessment: Assessment) -> dict[str, list[tuple[LinkRow, PieceRow]]]:
    """The evidence supporting each criterion of `assessment`, by title, in one query."""
    links: dict[str, list[tuple[LinkRow, PieceRow]]] = {}
    split = len(LINK_COLUMNS)
    for row in session.execute(LINKS_OF, {"assessment_id": assessment.id}):
        link, piece = LinkRow(*row[:split]), PieceRow(*row[split:])
        links.setdefault(link.criterion_id, []).append((link, piece))
    return links


def scoring_inputs(session: Session, assessment: Assessment) -> dict[str, scoring.Answer]:
    """The assessment's answers and evidence as the scoring core takes them: only the fields it
    reads, and only the evidence of answered criteria (the only evidence scoring looks at)."""
    bound_id = {"assessment_id": assessment.id}
    answers = session.execute(SCORED_ANSWERS_OF, bound_id).all()
    evidence: dict[str, list[scoring.Evidence]] = {}
    for criterion_id, covers, title, document_date in session.execute(SCORED_PIECES_OF, bound_id):
        covered = frozenset(filter(None, covers.split(",")))
        evidence.setdefault(criterion_id, []).append(scoring.Evidence(title, covered, document_date))
    return {
        criterion_id: scoring.Answer(
            level, not_applicable, justification, tuple(evidence.get(criterion_id, ()))
        )
        for criterion_id, level, not_applicable, justification in answers
    }


def evaluate(
    session: Session, *, catalog: Catalog, assessment: Assessment, structure: Structure
) -> scoring.Result:
    """Score the assessment as it stands (a live preview for a draft)."""
    return evaluate_loaded(
        catalog=catalog,
        assessment=assessment,
        structure=structure,
        inputs=scoring_inputs(session, assessment),
    )


def profile_of(assessment: Assessment, structure: Structure) -> dict[str, Any]:
    """The profile the assessment is scored with: frozen at submission, the structure's live one before."""
    if assessment.status == AssessmentStatus.SUBMITTED and assessment.submitted_profile is not None:
        return assessment.submitted_profile
    return structure.profile


def evaluate_loaded(
    *, catalog: Catalog, assessment: Assessment, structure: Structure, inputs: dict[str, scoring.Answer]
) -> scoring.Result:
    """Score already loaded answers; an express (partial) questionnaire scores only what it asks."""
    context = bound(catalog, assessment)
    questionnaire = context.questionnaire
    scope = questionnaire.criterion_ids if questionnaire.partial else None
    return score(
        context.criteria,
        profile=profile_of(assessment, structure),
        answers=inputs,
        scope=scope,
        reference_date=reference_date(assessment),
    )


def reference_date(assessment: Assessment) -> date:
    """The day evidence validity is counted to: the submission's for a submitted assessment, else today."""
    if assessment.status == AssessmentStatus.SUBMITTED and assessment.submitted_at is not None:
        return assessment.submitted_at.date()
    return utcnow().date()
