"""Demo data for a local try-out: one structure, its director, a trainer, an auditor granted access
for a year, an express assessment submitted earlier, and a full assessment half filled from
`questionnaires/examples/answers.yaml`.

The demo passwords are fixed and printed, so `make serve` can be run again and still show them;
for that reason the demo refuses to run in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.accounts.service import create_user
from app.assessments import evidence, service
from app.assessments.models import Evidence
from app.assessments.snapshot import Signer
from app.catalog.service import Catalog
from app.scoring.answers import ScoringRequest, parse_text, resolve
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
        session, catalog=catalog, structure=structure, user=director, questionnaire_ref="express"
    )
    for criterion_id in catalog.questionnaire("express").criterion_ids:
        answer = example.answers.get(criterion_id)
        text = answer.justification if answer is not None else ""
        not_applicable = answer is not None and answer.not_applicable
        level = 1 if answer is None or answer.level is None else max(answer.level - 1, 0)
        service.save_answer(
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
    service.submit(
        session, catalog=catalog, assessment=assessment, structure=structure, user=director, signer=signer
    )


def _half_filled_assessment(
    session: Session, *, catalog: Catalog, structure: Structure, director: User, example: ScoringRequest
) -> None:
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=director, questionnaire_ref="full"
    )
    pieces: dict[str, Evidence] = {}
    for criterion_id, answer in example.answers.items():
        service.save_answer(
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
        for piece in answer.evidence:
            if piece.title not in pieces:
                pieces[piece.title] = evidence.add(
                    session, structure=structure, user=director, title=piece.title, owner="Direction"
                )
            evidence.attach(
                session,
                assessment=assessment,
                evidence=pieces[piece.title],
                criterion_id=criterion_id,
                covers=sorted(piece.covers),
                user=director,
            )
