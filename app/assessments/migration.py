"""Moving a draft to a newer version of its referential, and re-confirming carried answers.

A draft moves in place: it keeps its id, its links and its history; its answers and evidence links
become those the criteria files' links give (`carry.plan`), and the audit entry of the move keeps
every answer and link as they were on the earlier version. Answers that need review are marked
« à reconfirmer »; those of unchanged criteria stay as the director left them. A submitted
assessment never moves, nor one returned for changes: its snapshots, results and review were
made on its own version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments import carry, service
from app.assessments.models import Answer, Assessment, EvidenceLink, Snapshot
from app.catalog.models import CriteriaVersion, Questionnaire, Section, Status
from app.catalog.service import Catalog, version_key
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _

RETURNED = N_(
    "Cette autoévaluation a déjà été soumise puis retournée pour modifications : elle reste sur sa version."
)


def newer_version(catalog: Catalog, assessment: Assessment) -> CriteriaVersion | None:
    """The latest released version of the assessment's referential, when it is newer than its own."""
    current = catalog.criteria[assessment.criteria_ref]
    try:
        latest = catalog.criteria_version(current.referential)
    except LookupError:
        return None
    return latest if version_key(latest.version) > version_key(current.version) else None


def offered(session: Session, *, catalog: Catalog, assessment: Assessment) -> CriteriaVersion | None:
    """The newer version the overview offers to move to: only for a draft that may move."""
    newer = newer_version(catalog, assessment)
    if newer is None:
        return None
    try:
        check_movable(session, assessment)
    except ServiceError:
        return None
    return newer


def target(catalog: Catalog, *, assessment: Assessment, version_ref: str) -> Questionnaire:
    """The questionnaire a draft moves to: the latest released version of the same questionnaire that
    asks `version_ref` (by default the latest released version of the referential)."""
    current = catalog.criteria[assessment.criteria_ref]
    version = _released(catalog, version_ref.strip() or current.referential, referential=current.referential)
    if version_key(version.version) <= version_key(current.version):
        message = _(
            "Cette autoévaluation suit déjà la version %(version)s : il n'y a pas de version plus récente."
        )
        raise ServiceError(message % {"version": current.version}, field="version", status=409)
    questionnaire_id = assessment.questionnaire_ref.split("@")[0]
    asking = [
        q
        for q in catalog.questionnaires_for(version.ref)
        if q.id == questionnaire_id and q.status == Status.RELEASED
    ]
    if not asking:
        message = _("Aucun questionnaire publié de ce type ne pose encore la version %(version)s.")
        raise ServiceError(message % {"version": version.version}, field="version")
    return max(asking, key=lambda q: version_key(q.version))


def _released(catalog: Catalog, wanted: str, *, referential: str) -> CriteriaVersion:
    """The released version `wanted` names (`ref@version`, or a bare referential for its latest)."""
    version = catalog.criteria.get(wanted)
    if version is None and "@" not in wanted:
        try:
            version = catalog.criteria_version(wanted)
        except LookupError:
            version = None
    if version is None or version.referential != referential:
        raise ServiceError(_("Cette version du référentiel n'existe pas."), field="version")
    if version.status != Status.RELEASED:
        message = _(
            "La version %(version)s n'est pas publiée : une autoévaluation ne passe qu'à une version publiée."
        )
        raise ServiceError(message % {"version": version.version}, field="version")
    return version


def check_movable(session: Session, assessment: Assessment) -> None:
    """Refuse (409) to move a submitted assessment, or a draft that was submitted before."""
    service.check_draft(assessment)
    if session.exec(select(Snapshot.id).where(Snapshot.assessment_id == assessment.id).limit(1)).first():
        raise ServiceError(_(RETURNED), status=409)


def move(
    session: Session, *, catalog: Catalog, assessment: Assessment, user: User, to: Questionnaire
) -> Assessment:
    """Move a draft to `to` in place, following `carry.plan`; the audit entry keeps the answers before."""
    service.lock_draft(session, assessment)
    check_movable(session, assessment)
    followed = carry.plan(session, catalog=catalog, source=assessment, to=to)
    before = _as_it_was(session, assessment)
    _move_answers(session, assessment=assessment, plan=followed, user=user)
    linked = carry.links_by_criterion(session, assessment)
    session.execute(delete(EvidenceLink).where(col(EvidenceLink.assessment_id) == assessment.id))
    unchanged = set(followed.migration.carried)
    carry.carry_links(session, catalog=catalog, plan=followed, to=assessment, linked=linked, keep=unchanged)
    assessment.questionnaire_ref, assessment.criteria_ref = to.ref, to.criteria
    assessment.questionnaire_sha256 = catalog.questionnaire_hashes[to.ref]
    assessment.criteria_sha256 = catalog.criteria_hashes[to.criteria]
    session.add(assessment)
    after = {"questionnaire": to.ref, "criteria": to.criteria, **followed.recorded()}
    audit(
        session,
        actor_id=user.id,
        action="assessment.migrate",
        obj=assessment,
        structure_id=assessment.structure_id,
        before=before,
        after=after,
    )
    session.commit()
    session.refresh(assessment)
    return assessment


def _move_answers(session: Session, *, assessment: Assessment, plan: carry.Plan, user: User) -> None:
    """Rewrite the draft's answers as the plan lands them: a criterion kept keeps its row (and its
    « à reconfirmer » mark unless it needs review), the others are added or removed."""
    rows = {
        a.criterion_id: a for a in session.exec(select(Answer).where(Answer.assessment_id == assessment.id))
    }
    for criterion_id, answer, sources, review in plan.landing():
        row = rows.pop(criterion_id, None)
        if row is None:
            row = Answer(
                assessment_id=pk(assessment), criterion_id=criterion_id, revision=0, updated_by=pk(user)
            )
        row.level, row.not_applicable = answer.level, answer.not_applicable
        row.justification = answer.justification
        row.comment = plan.comment(sources)
        row.carried_over = review or row.carried_over
        row.revision, row.updated_by, row.updated_at = row.revision + 1, pk(user), utcnow()
        session.add(row)
    for gone in rows.values():
        session.delete(gone)
    session.flush()


def _as_it_was(session: Session, assessment: Assessment) -> dict[str, Any]:
    """The draft's version, answers and evidence links before a move, for the audit log."""
    fields = ("level", "not_applicable", "justification", "comment", "carried_over", "revision")
    answers = session.exec(select(Answer).where(Answer.assessment_id == assessment.id))
    links = session.exec(select(EvidenceLink).where(EvidenceLink.assessment_id == assessment.id))
    return {
        "questionnaire": assessment.questionnaire_ref,
        "criteria": assessment.criteria_ref,
        "answers": {a.criterion_id: {f: getattr(a, f) for f in fields} for a in answers},
        "links": [
            {
                "id": link.id,
                "criterion": link.criterion_id,
                "evidence": link.evidence_id,
                "covers": link.covers,
            }
            for link in links
        ],
    }


def confirm_section(session: Session, *, assessment: Assessment, section: Section, user: User) -> list[str]:
    """Re-confirm in one go every carried answer of one section of a draft; return their criteria."""
    service.lock_draft(session, assessment)
    ids = [q.criterion for q in section.questions]
    query = select(Answer.criterion_id).where(
        Answer.assessment_id == assessment.id, col(Answer.criterion_id).in_(ids), col(Answer.carried_over)
    )
    confirmed = sorted(session.exec(query))
    if confirmed:
        session.execute(
            update(Answer)
            .where(col(Answer.assessment_id) == assessment.id, col(Answer.criterion_id).in_(confirmed))
            .values(
                carried_over=False,
                revision=col(Answer.revision) + 1,
                updated_by=pk(user),
                updated_at=utcnow(),
            )
        )
        audit(
            session,
            actor_id=user.id,
            action="answers.confirm",
            obj=assessment,
            structure_id=assessment.structure_id,
            after={"section": section.id, "criteria": confirmed},
        )
    session.commit()
    return confirmed
