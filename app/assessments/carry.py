"""Where a new assessment starts from: the questionnaire the start form names, and the earlier
assessment whose answers and evidence links are copied into the new one.

What is copied is migrated between criteria versions through the criteria files' links (the
scoring core's `migrate_answers`), and marked `carried_over`: to be re-confirmed by the director.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.forms import StartForm
from app.assessments.models import Answer, Assessment, EvidenceLink
from app.catalog.models import Questionnaire, Status
from app.catalog.service import Catalog
from app.db import pk
from app.errors import ServiceError
from app.locale import gettext as _
from app.scoring import models as scoring
from app.scoring.migration import migrate_answers
from app.structures.models import Structure


def starting_point(
    session: Session, *, catalog: Catalog, structure: Structure, form: StartForm
) -> tuple[Questionnaire, Assessment | None]:
    """The latest released version of the questionnaire the form names by its bare id, and the
    structure's earlier assessment (`depuis`, if given) whose answers the new one starts from."""
    questionnaire_id, previous_id = form.questionnaire, form.depuis
    try:
        chosen = catalog.questionnaire(questionnaire_id) if "@" not in questionnaire_id else None
    except LookupError:
        chosen = None
    if chosen is None or chosen.status != Status.RELEASED:
        raise ServiceError(_("Choisissez le questionnaire complet ou le questionnaire express."))
    if not previous_id:
        return chosen, None
    previous = session.get(Assessment, int(previous_id)) if re.fullmatch(r"\d{1,9}", previous_id) else None
    if previous is None or previous.structure_id != structure.id:
        raise ServiceError(_("L'autoévaluation de départ n'existe pas pour cette structure."))
    if catalog.criteria[previous.criteria_ref].referential != chosen.criteria.split("@")[0]:
        raise ServiceError(
            _("L'autoévaluation de départ suit un autre référentiel : rien ne peut en être repris.")
        )
    return chosen, previous


def carry_over(
    session: Session, *, catalog: Catalog, previous: Assessment, to: Assessment, user: User
) -> dict[str, Any]:
    """Copy answers and evidence links, migrated through the criteria files' links when needed.

    Returns what the audit entry of the start records: where from, what to review, what was dropped.
    """
    old_answers = {
        a.criterion_id: a for a in session.exec(select(Answer).where(Answer.assessment_id == previous.id))
    }
    inputs = {
        cid: scoring.Answer(a.level, a.not_applicable, a.justification) for cid, a in old_answers.items()
    }
    migration = migrate_answers(
        catalog.criteria[previous.criteria_ref], catalog.criteria[to.criteria_ref], inputs
    )
    asked = set(catalog.questionnaire(to.questionnaire_ref).criterion_ids)
    for criterion_id, answer in migration.answers.items():
        if criterion_id not in asked:
            continue
        sources = migration.sources[criterion_id]
        comment = " / ".join(old_answers[s].comment for s in sources if old_answers[s].comment)
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
        _carry_links(session, previous=previous, to=to, criterion_id=criterion_id, sources=sources)
    return {"carried_from": previous.id, "review": dict(migration.review), "dropped": dict(migration.dropped)}


def _carry_links(
    session: Session, *, previous: Assessment, to: Assessment, criterion_id: str, sources: tuple[str, ...]
) -> None:
    """Link the new answer to every piece that supported the answers it comes from."""
    links = session.exec(
        select(EvidenceLink).where(
            EvidenceLink.assessment_id == previous.id, col(EvidenceLink.criterion_id).in_(sources)
        )
    )
    for evidence_id in dict.fromkeys(link.evidence_id for link in links):
        session.add(
            EvidenceLink(
                assessment_id=pk(to), criterion_id=criterion_id, evidence_id=evidence_id, carried_over=True
            )
        )
