"""Review services on the test referential: results from either source, states, ratings and links."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.assessments import evidence
from app.assessments import service as assessments
from app.assessments.models import Assessment, EvidenceLink
from app.assessments.snapshot import Signer, load_or_create_signer, submit
from app.catalog.service import Catalog
from app.reviews import decisions, results, service
from app.reviews.models import Decision, EvidenceRating, ReviewItem
from app.scoring import codes
from app.scoring import models as scoring
from app.structures.models import Structure
from tests.cohorts.test_dashboard import answered
from tests.factories import make_structure, make_user


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return load_or_create_signer(tmp_path)


@pytest.fixture
def people(session: Session) -> tuple[User, User, Structure]:
    structure = make_structure(session, name="S1")
    structure.profile = {"registres": ["a"], "nuit": False}  # PRO-02 and STR-01 do not apply
    session.add(structure)
    session.commit()
    return make_user(session), make_user(session, role=Role.TRAINER), structure


def test_reviewed_inputs_take_the_trainers_level_only_where_it_differs() -> None:
    proof = (scoring.Evidence("Charte", frozenset({"charte"})),)
    inputs = {"DEO-01": scoring.Answer(3, evidence=proof), "DEO-02": scoring.Answer(2)}
    reviews = {
        "DEO-01": results.CriterionReview(ReviewItem(agrees=False, proposed_level=1, comment="Non signée")),
        "DEO-02": results.CriterionReview(ReviewItem(agrees=True)),
        "EVA-01": results.CriterionReview(
            ReviewItem(agrees=False, proposed_not_applicable=True, comment="Pas de financeur")
        ),
        "PRO-01": results.CriterionReview(ReviewItem(agrees=None, comment="À revoir")),
    }
    changed = results.reviewed_inputs(inputs, reviews)
    assert changed["DEO-01"] == scoring.Answer(1, evidence=proof)  # the director's evidence stays
    assert changed["DEO-02"] is inputs["DEO-02"]
    assert changed["EVA-01"] == scoring.Answer(None, True, "Pas de financeur")
    assert "PRO-01" not in changed
    assert inputs["DEO-01"].level == 3  # never changed in place


def test_the_review_is_scored_by_the_core_like_the_self_assessment(
    session: Session, mini_catalog: Catalog, signer: Signer, people: tuple[User, User, Structure]
) -> None:
    """Declared: DEO-01 3 (proven), DEO-02 3 (proven), PRO-01 3 (proven), EVA-01 3: ready.
    Reviewed: PRO-01 at 1 (critical: a major gap), DEO-02 at 2 (minor): not ready."""
    director, trainer, structure = people
    assessment = answered(
        session,
        mini_catalog,
        structure=structure,
        user=director,
        levels={"DEO-01": 3, "DEO-02": 3, "PRO-01": 3, "EVA-01": 3},
        proven={"DEO-01": ["charte", "registre"], "DEO-02": ["presence"], "PRO-01": ["fiches"]},
        signer=signer,
    )
    for criterion_id, choice in (("PRO-01", "1"), ("DEO-02", "2"), ("DEO-01", "accord")):
        service.save_review(
            session,
            assessment=assessment,
            user=trainer,
            criterion_id=criterion_id,
            base_revision=0,
            choice=choice,
            comment="",
            finding="",
        )
    compared = results.compare(session, catalog=mini_catalog, assessment=assessment, structure=structure)
    assert (compared.own.verdict, compared.own.majors, compared.own.minors) == (codes.Verdict.PRET, 0, 0)
    assert (compared.reviewed.majors, compared.reviewed.minors) == (1, 1)
    assert compared.reviewed.verdict is codes.Verdict.PRESQUE_PRET
    assert [a.score for a in compared.reviewed.areas] == [88.9, 33.3, None, 100.0]
    own = assessments.evaluate(session, catalog=mini_catalog, assessment=assessment, structure=structure)
    assert compared.own == own  # the same inputs, the same core
    assert results.tally(compared.reviews, ["DEO-01", "DEO-02", "PRO-01"]).divergent == ("DEO-02", "PRO-01")


def test_states_follow_validation_return_and_resubmission(
    session: Session, mini_catalog: Catalog, signer: Signer, people: tuple[User, User, Structure]
) -> None:
    director, trainer, structure = people
    assessment = answered(
        session, mini_catalog, structure=structure, user=director, levels={"DEO-01": 2}, signer=signer
    )

    def state() -> results.ReviewState:
        return results.review_states(session, [assessment])[assessment.id or 0]

    assert state() is results.ReviewState.TO_REVIEW
    decisions.decide(session, assessment=assessment, user=trainer, decision=Decision.VALIDATED, comment="")
    assert state() is results.ReviewState.VALIDATED
    decisions.decide(
        session, assessment=assessment, user=trainer, decision=Decision.RETURNED, comment="Revoir"
    )
    assert state() is results.ReviewState.RETURNED
    assert results.returned_review(session, assessment) is not None
    submit(
        session,
        catalog=mini_catalog,
        assessment=assessment,
        structure=structure,
        user=director,
        signer=signer,
    )
    assert state() is results.ReviewState.TO_RENEW
    assert results.returned_review(session, assessment) is None


def test_a_rating_goes_with_its_link_when_the_director_removes_that_evidence(
    session: Session, mini_catalog: Catalog, signer: Signer, people: tuple[User, User, Structure]
) -> None:
    director, trainer, structure = people
    assessment = answered(
        session,
        mini_catalog,
        structure=structure,
        user=director,
        levels={"DEO-01": 3},
        proven={"DEO-01": ["charte"]},
        signer=signer,
    )
    link = session.exec(select(EvidenceLink).where(EvidenceLink.assessment_id == assessment.id)).one()
    service.rate_evidence(
        session,
        assessment=assessment,
        link=link,
        user=trainer,
        base_revision=0,
        rating="insuffisante",
        comment="",
    )
    decisions.decide(
        session, assessment=assessment, user=trainer, decision=Decision.RETURNED, comment="La charte"
    )
    reopened = session.get(Assessment, assessment.id)
    assert reopened is not None
    evidence.detach(session, assessment=reopened, link=link, user=director)
    assert session.exec(select(EvidenceRating)).all() == []
    assert results.reviews_of(session, assessment, 1) == {}
