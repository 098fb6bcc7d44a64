"""Assessments: start, answer (with revisions), score, review before submitting, submit and sign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select as select_rows
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Snapshot,
)
from app.assessments.snapshot import Signer
from app.catalog.models import CriteriaVersion, Questionnaire
from app.catalog.service import Catalog
from app.db import audit, pk, utcnow
from app.locale import N_
from app.locale import gettext as _
from app.scoring import models as scoring
from app.scoring.service import migrate_answers, score
from app.structures.models import Structure

ANSWER_FIELDS = ("level", "not_applicable", "justification", "comment", "carried_over", "revision")
TEXT_MAX = 5000
TOO_LONG = N_("Ce texte est trop long : 5 000 caractères au plus.")


class AssessmentError(Exception):
    """A refused change, with a message for the director (in the request's language)."""


class SubmittedError(AssessmentError):
    def __init__(self) -> None:
        super().__init__(_("Cette autoévaluation a été soumise : elle ne peut plus être modifiée."))


class StaleAnswerError(AssessmentError):
    """The answer changed since the form was loaded; `current` is the newer value."""

    def __init__(self, current: Answer | None) -> None:
        self.current = current
        super().__init__(
            _(
                "Cette réponse a été modifiée entre-temps (autre onglet ou autre personne). "
                "Voici la version enregistrée : vérifiez-la avant de la modifier à nouveau."
            )
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


def start(
    session: Session,
    *,
    catalog: Catalog,
    structure: Structure,
    user: User,
    questionnaire_ref: str,
    previous: Assessment | None = None,
) -> Assessment:
    """Start an assessment bound to a questionnaire; from `previous`, carry answers for re-confirmation."""
    questionnaire = catalog.questionnaire(questionnaire_ref)
    assessment = Assessment(
        structure_id=pk(structure),
        questionnaire_ref=questionnaire.ref,
        questionnaire_sha256=catalog.questionnaire_hashes[questionnaire.ref],
        criteria_ref=questionnaire.criteria,
        criteria_sha256=catalog.criteria_hashes[questionnaire.criteria],
        previous_id=previous.id if previous else None,
        created_by=pk(user),
    )
    session.add(assessment)
    session.flush()
    carried: dict[str, Any] = {}
    if previous is not None:
        carried = _carry_over(session, catalog=catalog, previous=previous, to=assessment, user=user)
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


def _carry_over(
    session: Session, *, catalog: Catalog, previous: Assessment, to: Assessment, user: User
) -> dict[str, Any]:
    """Copy answers and evidence links, migrated through the criteria files' links when needed."""
    old_answers = {a.criterion_id: a for a in answers_of(session, previous)}
    inputs = {
        cid: scoring.Answer(a.level, a.not_applicable, a.justification) for cid, a in old_answers.items()
    }
    migration = migrate_answers(
        catalog.criteria[previous.criteria_ref], catalog.criteria[to.criteria_ref], inputs
    )
    asked = set(catalog.questionnaire(to.questionnaire_ref).criterion_ids)
    sources = migration.sources
    for criterion_id, answer in migration.answers.items():
        if criterion_id not in asked:
            continue
        comment = " / ".join(old_answers[s].comment for s in sources[criterion_id] if old_answers[s].comment)
        session.add(
            Answer(
                assessment_id=pk(to),
                criterion_id=criterion_id,
                level=answer.level,
                not_applicable=answer.not_applicable,
                justification=answer.justification,
                comment=comment,
                carried_over=True,
                updated_by=pk(user),
            )
        )
        links = session.exec(
            select(EvidenceLink).where(
                EvidenceLink.assessment_id == previous.id,
                col(EvidenceLink.criterion_id).in_(sources[criterion_id]),
            )
        )
        for evidence_id in dict.fromkeys(link.evidence_id for link in links):
            session.add(
                EvidenceLink(
                    assessment_id=pk(to),
                    criterion_id=criterion_id,
                    evidence_id=evidence_id,
                    carried_over=True,
                )
            )
    return {"carried_from": previous.id, "review": dict(migration.review), "dropped": dict(migration.dropped)}


def answers_of(session: Session, assessment: Assessment) -> list[Answer]:
    return list(session.exec(select(Answer).where(Answer.assessment_id == assessment.id)))


def save_answer(
    session: Session,
    *,
    catalog: Catalog,
    assessment: Assessment,
    user: User,
    criterion_id: str,
    base_revision: int,
    level: int | None,
    not_applicable: bool,
    justification: str,
    comment: str,
) -> Answer:
    """Write one answer if nobody changed it since `base_revision` (0: not answered yet)."""
    if criterion_id not in bound(catalog, assessment).questionnaire.criterion_ids:
        message = _("Le critère %(criterion)s n'est pas posé dans ce questionnaire.")
        raise AssessmentError(message % {"criterion": criterion_id})
    if level is not None and level not in (0, 1, 2, 3):
        raise AssessmentError(_("Le niveau doit être 0, 1, 2 ou 3."))
    if max(len(justification), len(comment)) > TEXT_MAX:
        raise AssessmentError(_(TOO_LONG))
    _lock_draft(session, assessment)
    values: dict[str, Any] = {
        "level": None if not_applicable else level,
        "not_applicable": not_applicable,
        "justification": justification.strip(),
        "comment": comment.strip(),
        "carried_over": False,
    }
    current = _answer(session, assessment, criterion_id)
    before = _answer_state(current)
    if current is None:
        if base_revision != 0:
            raise StaleAnswerError(None)
        current = Answer(
            assessment_id=pk(assessment),
            criterion_id=criterion_id,
            updated_by=pk(user),
            **values,
        )
        session.add(current)
        try:
            session.flush()
        except IntegrityError:  # created meanwhile by another request
            session.rollback()
            raise StaleAnswerError(_answer(session, assessment, criterion_id)) from None
    else:
        # One conditional UPDATE: two writers based on the same revision cannot both succeed.
        done = session.execute(
            update(Answer)
            .where(col(Answer.id) == current.id, col(Answer.revision) == base_revision)
            .values(**values, revision=Answer.revision + 1, updated_by=pk(user), updated_at=utcnow())
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            raise StaleAnswerError(_answer(session, assessment, criterion_id))
    audit(
        session,
        actor_id=user.id,
        action="answer.save",
        obj=current,
        structure_id=assessment.structure_id,
        before=before,
        after={"criterion": criterion_id, **values},
    )
    session.commit()
    return current


def _answer(session: Session, assessment: Assessment, criterion_id: str) -> Answer | None:
    query = select(Answer).where(Answer.assessment_id == assessment.id, Answer.criterion_id == criterion_id)
    return session.exec(query.execution_options(populate_existing=True)).first()


def _answer_state(answer: Answer | None) -> dict[str, Any] | None:
    return None if answer is None else {field: getattr(answer, field) for field in ANSWER_FIELDS}


def _lock_draft(session: Session, assessment: Assessment) -> None:
    """Re-read the assessment (row-locked where the database can) and refuse if submitted."""
    query = select(Assessment).where(Assessment.id == assessment.id).with_for_update()
    fresh = session.exec(query.execution_options(populate_existing=True)).one()
    if fresh.status != AssessmentStatus.DRAFT:
        raise SubmittedError()


class AnswerRow(NamedTuple):
    """An `Answer` as the pages read it (a plain tuple: Jinja reads its fields many times a page)."""

    criterion_id: str
    level: int | None
    not_applicable: bool
    justification: str
    comment: str
    carried_over: bool
    revision: int


class LinkRow(NamedTuple):
    """An `EvidenceLink` as the pages read it."""

    id: int
    criterion_id: str
    evidence_id: int
    covers: str
    carried_over: bool


class PieceRow(NamedTuple):
    """An `Evidence` as the pages read it."""

    id: int
    structure_id: int
    kind: EvidenceKind
    title: str
    document_date: date | None
    owner: str
    link: str
    filename: str
    content_type: str
    size: int | None
    sha256: str
    created_at: datetime


ANSWER_COLUMNS = tuple(col(getattr(Answer, name)) for name in AnswerRow._fields)
LINK_COLUMNS = tuple(col(getattr(EvidenceLink, name)) for name in LinkRow._fields)
PIECE_COLUMNS = tuple(col(getattr(Evidence, name)) for name in PieceRow._fields)


@dataclass(frozen=True)
class Loaded:
    """An assessment's answers and evidence links as read-only rows, read once per request.

    Rows, not ORM objects: a page reads every answer and link of the assessment, and building
    ORM instances for them cost more than the rest of the request (measured on the autosave).
    Rows have the same attribute names as `Answer`, `EvidenceLink` and `Evidence`.
    """

    answers: dict[str, AnswerRow]
    links: dict[str, list[tuple[LinkRow, PieceRow]]]
    """The evidence supporting each criterion, by title."""

    def inputs(self) -> dict[str, scoring.Answer]:
        """The answers and their evidence as the scoring core takes them."""
        return {
            criterion_id: scoring.Answer(
                answer.level,
                answer.not_applicable,
                answer.justification,
                tuple(
                    scoring.Evidence(piece.title, frozenset(filter(None, link.covers.split(","))))
                    for link, piece in self.links.get(criterion_id, ())
                ),
            )
            for criterion_id, answer in self.answers.items()
        }


def load(session: Session, assessment: Assessment) -> Loaded:
    """Read the answers and evidence of `assessment` in two queries."""
    answers = session.execute(select_rows(*ANSWER_COLUMNS).where(col(Answer.assessment_id) == assessment.id))
    rows = session.execute(
        select_rows(*LINK_COLUMNS, *PIECE_COLUMNS)
        .join(Evidence)
        .where(col(EvidenceLink.assessment_id) == assessment.id)
        .order_by(col(Evidence.title), col(Evidence.id))
    )
    links: dict[str, list[tuple[LinkRow, PieceRow]]] = {}
    split = len(LINK_COLUMNS)
    for row in rows:
        link, piece = LinkRow(*row[:split]), PieceRow(*row[split:])
        links.setdefault(link.criterion_id, []).append((link, piece))
    return Loaded({row.criterion_id: AnswerRow(*row) for row in answers}, links)


def scoring_inputs(session: Session, assessment: Assessment) -> dict[str, scoring.Answer]:
    """The assessment's answers and evidence as the scoring core takes them."""
    return load(session, assessment).inputs()


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
    return score(context.criteria, profile=profile_of(assessment, structure), answers=inputs, scope=scope)


def evaluate_sections(
    *,
    catalog: Catalog,
    assessment: Assessment,
    structure: Structure,
    inputs: dict[str, scoring.Answer],
    only: str | None = None,
) -> dict[str, scoring.Result]:
    """Each section scored on its own questions (its progress and area scores); `only` one of them."""
    context = bound(catalog, assessment)
    return {
        section.id: score(
            context.criteria,
            profile=profile_of(assessment, structure),
            answers=inputs,
            scope={question.criterion for question in section.questions},
        )
        for section in context.questionnaire.sections
        if only is None or section.id == only
    }


@dataclass(frozen=True)
class Review:
    """What to look at before submitting; `blocking` problems prevent submission."""

    unanswered: list[str]
    unjustified_na: list[str]
    unproven: list[str]

    @property
    def blocking(self) -> bool:
        return bool(self.unjustified_na)


def review(session: Session, *, catalog: Catalog, assessment: Assessment, structure: Structure) -> Review:
    result = evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    unjustified = [r.criterion for r in result.criteria if r.reason.startswith("Déclaré non applicable sans")]
    unanswered = [
        r.criterion
        for r in result.criteria
        if r.finding is scoring.Finding.NON_RENSEIGNE and r.criterion not in unjustified
    ]
    unproven = [r.criterion for r in result.criteria if r.capped]
    return Review(unanswered, unjustified, unproven)


def submit(
    session: Session,
    *,
    catalog: Catalog,
    assessment: Assessment,
    structure: Structure,
    user: User,
    signer: Signer,
) -> Snapshot:
    """Freeze the assessment and store its signed snapshot."""
    _lock_draft(session, assessment)
    if review(session, catalog=catalog, assessment=assessment, structure=structure).blocking:
        raise AssessmentError(_("Des réponses « non applicable » n'ont pas de justification."))
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = utcnow()
    assessment.submitted_profile = dict(structure.profile)
    canonical, digest, signature = signer.sign(
        snapshot_content(session, catalog=catalog, assessment=assessment, structure=structure, user=user)
    )
    snapshot = Snapshot(
        assessment_id=pk(assessment),
        revision=assessment.revision,
        canonical_json=canonical,
        sha256=digest,
        signature=signature,
        key_id=signer.key_id,
    )
    session.add_all([assessment, snapshot])
    audit(
        session,
        actor_id=user.id,
        action="assessment.submit",
        obj=assessment,
        structure_id=structure.id,
        after={"snapshot_sha256": digest},
    )
    session.commit()
    session.refresh(snapshot)
    return snapshot


def snapshot_content(
    session: Session, *, catalog: Catalog, assessment: Assessment, structure: Structure, user: User
) -> dict[str, Any]:
    """Everything the result depends on, as plain data."""
    result = evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    evidence: dict[str, list[dict[str, Any]]] = {}
    rows = session.exec(
        select(EvidenceLink, Evidence).join(Evidence).where(EvidenceLink.assessment_id == assessment.id)
    )
    for link, piece in sorted(rows, key=lambda row: (row[0].criterion_id, row[1].id or 0)):
        evidence.setdefault(link.criterion_id, []).append(
            {
                "id": piece.id,
                "kind": piece.kind,
                "title": piece.title,
                "filename": piece.filename,
                "content_type": piece.content_type,
                "size": piece.size,
                "sha256": piece.sha256,
                "document_date": piece.document_date.isoformat() if piece.document_date else None,
                "owner": piece.owner,
                "link": piece.link,
                "covers": sorted(filter(None, link.covers.split(","))),
            }
        )
    answers = {
        a.criterion_id: {
            "level": a.level,
            "not_applicable": a.not_applicable,
            "justification": a.justification,
            "comment": a.comment,
            "evidence": evidence.get(a.criterion_id, []),
        }
        for a in sorted(answers_of(session, assessment), key=lambda a: a.criterion_id)
    }
    return {
        "format": "autodiag-snapshot/1",
        "assessment": {
            "id": assessment.id,
            "revision": assessment.revision,
            "submitted_at": assessment.submitted_at.isoformat(),  # type: ignore[union-attr]
            "submitted_by": user.email,
        },
        "structure": {
            "id": structure.id,
            "name": structure.name,
            "profile": profile_of(assessment, structure),
        },
        "questionnaire": {"ref": assessment.questionnaire_ref, "sha256": assessment.questionnaire_sha256},
        "criteria": {"ref": assessment.criteria_ref, "sha256": assessment.criteria_sha256},
        "answers": answers,
        "result": result.as_dict(),
    }
