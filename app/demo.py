"""Demo data for a local try-out: one structure, its director, a trainer, an auditor granted access
for a year, an express assessment submitted earlier (on criteria 1.0.0), and a full assessment on
the latest criteria half filled from `questionnaires/examples/answers.yaml` (written for 1.0.0, its
answers carried by the criteria's own links); then three more structures with assessments submitted
on 1.0.0 at different levels, all enrolled with the first in a preparation cohort run by the demo
trainer.

The demo passwords are fixed and printed, so `make serve` can be run again and still show them;
for that reason the demo refuses to run in production.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.accounts.service import create_user
from app.assessments import answering, evidence, service, snapshot
from app.assessments.models import Assessment, Evidence
from app.assessments.snapshot import Signer
from app.catalog.models import Criterion
from app.catalog.service import Catalog
from app.cohorts import service as cohorts
from app.scoring.answers import ScoringRequest, parse_text, resolve
from app.scoring.migration import migrate_answers
from app.structures import service as structures
from app.structures.models import Structure

EXAMPLE = Path("questionnaires") / "examples" / "answers.yaml"
ACCOUNTS = (
    ("directrice@demo.autodiag.fr", "Nadia Benali", Role.DIRECTOR, "Horizon-directrice-2026"),
    ("formateur@demo.autodiag.fr", "Julien Morel", Role.TRAINER, "Horizon-formateur-2026"),
    ("auditrice@demo.autodiag.fr", "Claire Fontaine", Role.AUDITOR, "Horizon-auditrice-2026"),
    ("admin@demo.autodiag.fr", "Admin Démo", Role.ADMIN, "Horizon-admin-2026"),
)


@dataclass(frozen=True)
class Demo:
    created: bool
    accounts: tuple[tuple[str, str, Role, str], ...] = ACCOUNTS


def seed(session: Session, *, catalog: Catalog, signer: Signer) -> Demo:
    """Create the demo once; later calls change nothing and say so."""
    if session.exec(select(User).where(User.email == ACCOUNTS[0][0])).first() is not None:
        return Demo(created=False)
    users = {
        role: create_user(session, email=email, name=name, role=role, password=password)
        for email, name, role, password in ACCOUNTS
    }
    director = users[Role.DIRECTOR]
    structure = structures.create(session, name="Médiation Horizon", city="Roubaix", actor=users[Role.ADMIN])
    structures.add_member(session, structure=structure, user=director, actor=users[Role.ADMIN])
    example = resolve(catalog, parse_text((catalog.root / EXAMPLE).read_text(encoding="utf-8")))
    structures.update_profile(
        session, structure=structure, version=example.version, values=example.profile, actor=director
    )
    _submitted_express(
        session, catalog=catalog, structure=structure, director=director, example=example, signer=signer
    )
    _half_filled_assessment(session, catalog=catalog, structure=structure, director=director, example=example)
    until = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    auditor = users[Role.AUDITOR]
    structures.grant_auditor(
        session, structure=structure, email=auditor.email, expires_on=until, actor=director
    )
    enrolled = [structure] + [
        _other_structure(
            session,
            catalog=catalog,
            admin=users[Role.ADMIN],
            signer=signer,
            profile=example.profile,
            details=details,
        )
        for details in OTHER_STRUCTURES
    ]
    _cohort(session, catalog=catalog, admin=users[Role.ADMIN], trainer=users[Role.TRAINER], enrolled=enrolled)
    return Demo(created=True)


def _submitted_express(
    session: Session,
    *,
    catalog: Catalog,
    structure: Structure,
    director: User,
    example: ScoringRequest,
    signer: Signer,
) -> None:
    """An earlier express assessment, submitted: one level below today's answers, « en projet » elsewhere."""
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=director, questionnaire_ref=EARLIER["express"]
    )
    pieces = _library(session, structure=structure, director=director, example=example)
    for criterion_id in catalog.questionnaire(EARLIER["express"]).criterion_ids:
        answer = example.answers.get(criterion_id)
        text = answer.justification if answer is not None else ""
        not_applicable = answer is not None and answer.not_applicable
        level = 1 if answer is None or answer.level is None else max(answer.level - 1, 0)
        answering.save_answer(
            session,
            catalog=catalog,
            assessment=assessment,
            user=director,
            criterion_id=criterion_id,
            base_revision=0,
            level=None if not_applicable else level,
            not_applicable=not_applicable,
            justification=text if not_applicable else "",
            comment="" if not_applicable else text,
        )
        _attach(
            session,
            assessment=assessment,
            criterion_id=criterion_id,
            example=example,
            pieces=pieces,
            user=director,
        )
    snapshot.submit(
        session, catalog=catalog, assessment=assessment, structure=structure, user=director, signer=signer
    )


def _half_filled_assessment(
    session: Session, *, catalog: Catalog, structure: Structure, director: User, example: ScoringRequest
) -> None:
    """The current draft, on the latest full questionnaire: the example's answers, carried there."""
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=director, questionnaire_ref="full"
    )
    version = catalog.criteria_version(assessment.criteria_ref)
    carried = migrate_answers(example.version, version, example.answers).answers
    asked = set(catalog.questionnaire(assessment.questionnaire_ref).criterion_ids)
    current = replace(example, version=version, answers={k: v for k, v in carried.items() if k in asked})
    pieces = _library(session, structure=structure, director=director, example=example)
    for criterion_id, answer in current.answers.items():
        answering.save_answer(
            session,
            catalog=catalog,
            assessment=assessment,
            user=director,
            criterion_id=criterion_id,
            base_revision=0,
            level=answer.level,
            not_applicable=answer.not_applicable,
            # The answers file has one free text: the justification of an N/A, a comment otherwise.
            justification=answer.justification if answer.not_applicable else "",
            comment="" if answer.not_applicable else answer.justification,
        )
        _attach(
            session,
            assessment=assessment,
            criterion_id=criterion_id,
            example=current,
            pieces=pieces,
            user=director,
        )


def _library(
    session: Session, *, structure: Structure, director: User, example: ScoringRequest
) -> dict[str, Evidence]:
    """The structure's documents named in the example, created once (the same title is one document),
    dated two months ago so that the ones whose evidence expires are still valid."""
    found = {e.title: e for e in session.exec(select(Evidence).where(Evidence.structure_id == structure.id))}
    dated = (datetime.now(UTC) - timedelta(days=60)).date()
    for answer in example.answers.values():
        for piece in answer.evidence:
            if piece.title not in found:
                found[piece.title] = evidence.add(
                    session,
                    structure=structure,
                    user=director,
                    title=piece.title,
                    owner="Direction",
                    document_date=dated,
                )
    return found


def _attach(
    session: Session,
    *,
    assessment: Assessment,
    criterion_id: str,
    example: ScoringRequest,
    pieces: dict[str, Evidence],
    user: User,
) -> None:
    """Attach the example's evidence for one criterion, if it has any (covering what it still expects)."""
    answer = example.answers.get(criterion_id)
    expected = {e.id for e in example.version.by_id[criterion_id].expected_evidence}
    for piece in answer.evidence if answer else ():
        evidence.attach(
            session,
            assessment=assessment,
            evidence=pieces[piece.title],
            criterion_id=criterion_id,
            covers=sorted(piece.covers & expected),
            user=user,
        )


# Three more structures of the demo cohort: name, city, questionnaire, and the weights of levels 0–3
# their answers are drawn with (a fixed seed per structure, so the demo is the same every time).
EARLIER = {"full": "full@1.0.0", "express": "express@1.0.0"}
"""The questionnaires the demo's earlier, submitted assessments used: those never change version."""
OTHER_STRUCTURES = (
    ("Médiation Quartiers Sud", "Tourcoing", EARLIER["full"], (0, 1, 2, 24)),
    ("Trait d'Union Médiation", "Lens", EARLIER["full"], (2, 3, 5, 4)),
    ("Médiacité Nord", "Lille", EARLIER["express"], (4, 5, 2, 1)),
)
DOCUMENTS = (
    "Manuel qualité 2026",
    "Tableau de bord d'activité",
    "Plan de formation 2026",
    "Rapport d'utilité sociale",
)


def _other_structure(
    session: Session,
    *,
    catalog: Catalog,
    admin: User,
    signer: Signer,
    profile: dict[str, Any],
    details: tuple[str, str, str, tuple[int, int, int, int]],
) -> Structure:
    """A structure with one submitted assessment, entered by the administrator for the demo."""
    name, city, questionnaire, weights = details
    structure = structures.create(session, name=name, city=city, actor=admin)
    version = catalog.criteria_version(catalog.questionnaire(questionnaire).criteria)
    structures.update_profile(
        session, structure=structure, version=version, values=dict(profile), actor=admin
    )
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=admin, questionnaire_ref=questionnaire
    )
    documents = [evidence.add(session, structure=structure, user=admin, title=title) for title in DOCUMENTS]
    by_workshop: dict[str, Evidence] = dict(zip([w.id for w in version.workshops], documents, strict=True))
    draw = random.Random(name)  # noqa: S311 (demo data, not a secret)
    for criterion_id in catalog.questionnaire(questionnaire).criterion_ids:
        level = draw.choices(range(4), weights=weights)[0]
        answering.save_answer(
            session,
            catalog=catalog,
            assessment=assessment,
            user=admin,
            criterion_id=criterion_id,
            base_revision=0,
            level=level,
            not_applicable=False,
            justification="",
            comment="",
        )
        _attach_document(
            session,
            assessment=assessment,
            criterion=version.by_id[criterion_id],
            level=level,
            by_workshop=by_workshop,
            user=admin,
        )
    snapshot.submit(
        session, catalog=catalog, assessment=assessment, structure=structure, user=admin, signer=signer
    )
    return structure


def _attach_document(
    session: Session,
    *,
    assessment: Assessment,
    criterion: Criterion,
    level: int,
    by_workshop: dict[str, Evidence],
    user: User,
) -> None:
    """At level 3 the workshop's document shows every expected piece of evidence, at level 2 only the
    first, so the cohort's gaps include missing evidence too; below, nothing is attached."""
    if level >= 2:
        expected = [e.id for e in criterion.expected_evidence]
        evidence.attach(
            session,
            assessment=assessment,
            evidence=by_workshop[criterion.workshop],
            criterion_id=criterion.id,
            covers=expected if level == 3 else expected[:1],
            user=user,
        )


WORKSHOP_DAYS = (date(2027, 1, 14), date(2027, 3, 11), date(2027, 5, 20), date(2027, 9, 16))
PLACES = (
    "Maison de la médiation, Roubaix",
    "Centre social Belencontre, Tourcoing",
    "France Médiation, Paris",
)


def _cohort(
    session: Session, *, catalog: Catalog, admin: User, trainer: User, enrolled: list[Structure]
) -> None:
    """« Cycle de préparation 2027 »: the demo trainer and every demo structure, the workshops dated."""
    version = cohorts.criteria_version(catalog)
    posted = cohorts.CohortInput(
        "Cycle de préparation 2027",
        {
            w.id: (day.isoformat(), PLACES[i % len(PLACES)])
            for i, (w, day) in enumerate(zip(version.workshops, WORKSHOP_DAYS, strict=True))
        },
        [str(trainer.id)],
        [str(s.id) for s in enrolled],
    )
    cohorts.save_cohort(session, catalog=catalog, user=admin, cohort=None, posted=posted)
