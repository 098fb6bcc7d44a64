"""Assessments through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from app.assessments import answering, service
from app.assessments import snapshot as submission
from app.assessments.models import Answer, Assessment, AssessmentStatus
from app.assessments.snapshot import canonical_bytes, load_or_create_signer, verify
from app.catalog.service import Catalog
from app.db import AuditEntry
from app.scoring.codes import Finding, Verdict
from tests.factories import director_with_structure


def start(
    session: Session, catalog: Catalog, questionnaire: str = "full"
) -> tuple[Assessment, object, object]:
    user, structure = director_with_structure(session)
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=user, questionnaire_ref=questionnaire
    )
    return assessment, user, structure


def answer(
    session: Session, catalog: Catalog, assessment: Assessment, user: object, criterion: str, **values: object
) -> Answer:
    fields = {"base_revision": 0, "level": None, "not_applicable": False, "justification": "", "comment": ""}
    fields.update(values)
    return answering.save_answer(
        session,
        catalog=catalog,
        assessment=assessment,
        user=user,  # type: ignore[arg-type]
        criterion_id=criterion,
        **fields,
    )  # type: ignore[arg-type]


def findings(result: object) -> dict[str, Finding]:
    return {r.criterion: r.finding for r in result.criteria}  # type: ignore[attr-defined]


def test_start_binds_the_questionnaire_and_criteria_versions_with_their_hashes(
    session: Session, catalog: Catalog
) -> None:
    assessment, _, _ = start(session, catalog, "express")
    assert assessment.questionnaire_ref == "express@1.1.0"  # the latest released
    assert assessment.criteria_ref == "x60-600@1.1.0"
    assert assessment.questionnaire_sha256 == catalog.questionnaire_hashes["express@1.1.0"]
    assert assessment.criteria_sha256 == catalog.criteria_hashes["x60-600@1.1.0"]
    assert assessment.status == AssessmentStatus.DRAFT


def test_each_write_raises_the_revision_and_is_audited(session: Session, catalog: Catalog) -> None:
    assessment, user, _ = start(session, catalog)
    first = answer(session, catalog, assessment, user, "DEO-01", level=2)
    assert first.revision == 1
    second = answer(session, catalog, assessment, user, "DEO-01", base_revision=1, level=3, comment="signée")
    assert (second.revision, second.level, second.comment) == (2, 3, "signée")
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "answer.save")).all()
    assert [e.after["level"] for e in entries] == [2, 3]  # type: ignore[index]
    assert entries[1].before["level"] == 2  # type: ignore[index]


def test_a_write_based_on_a_stale_revision_is_refused_with_the_newer_value(
    session: Session, catalog: Catalog
) -> None:
    assessment, user, _ = start(session, catalog)
    answer(session, catalog, assessment, user, "DEO-01", level=2)
    answer(session, catalog, assessment, user, "DEO-01", base_revision=1, level=3)
    with pytest.raises(service.StaleAnswerError) as refused:
        answer(session, catalog, assessment, user, "DEO-01", base_revision=1, level=0)
    assert refused.value.current is not None
    assert (refused.value.current.level, refused.value.current.revision) == (3, 2)
    stored = session.exec(select(Answer).where(Answer.criterion_id == "DEO-01")).one()
    assert stored.level == 3


def test_a_first_answer_must_be_based_on_revision_zero(session: Session, catalog: Catalog) -> None:
    assessment, user, _ = start(session, catalog)
    with pytest.raises(service.StaleAnswerError):
        answer(session, catalog, assessment, user, "DEO-01", base_revision=4, level=1)


@pytest.mark.parametrize(
    ("criterion", "level", "message"), [("XYZ-01", 1, "n'est pas posé"), ("DEO-01", 7, "0, 1, 2 ou 3")]
)
def test_bad_answers_are_refused(
    session: Session, catalog: Catalog, criterion: str, level: int, message: str
) -> None:
    assessment, user, _ = start(session, catalog)
    with pytest.raises(service.AssessmentError, match=message):
        answer(session, catalog, assessment, user, criterion, level=level)


def test_a_question_outside_the_express_questionnaire_is_refused(session: Session, catalog: Catalog) -> None:
    assessment, user, _ = start(session, catalog, "express")
    outside = next(c.id for c in catalog.criteria_version("x60-600").active if not c.critical)
    with pytest.raises(service.AssessmentError):
        answer(session, catalog, assessment, user, outside, level=1)


def test_review_lists_what_to_check_before_submitting(session: Session, catalog: Catalog) -> None:
    assessment, user, structure = start(session, catalog)
    answer(session, catalog, assessment, user, "DEO-01", level=3)  # no evidence: unproven
    answer(session, catalog, assessment, user, "PRO-16", not_applicable=True)  # no justification
    review = submission.review(session, catalog=catalog, assessment=assessment, structure=structure)  # type: ignore[arg-type]
    assert review.unproven == ["DEO-01"]
    assert review.unjustified_na == ["PRO-16"]
    assert "DEO-03" in review.unanswered
    assert "PRO-16" not in review.unanswered
    assert review.blocking


def test_submit_freezes_and_signs_a_verifiable_snapshot(
    session: Session, catalog: Catalog, tmp_path: object
) -> None:
    assessment, user, structure = start(session, catalog, "express")
    answer(session, catalog, assessment, user, "DEO-01", level=2, comment="en cours de signature")
    signer = load_or_create_signer(tmp_path)  # type: ignore[arg-type]
    snapshot = submission.submit(
        session,
        catalog=catalog,
        assessment=assessment,
        structure=structure,  # type: ignore[arg-type]
        user=user,
        signer=signer,
    )  # type: ignore[arg-type]
    content = json.loads(snapshot.canonical_json)
    assert canonical_bytes(content).decode() == snapshot.canonical_json
    assert verify(signer.public_bytes, snapshot.canonical_json, snapshot.signature)
    assert not verify(
        signer.public_bytes, snapshot.canonical_json.replace("en cours", "faite"), snapshot.signature
    )
    assert content["answers"]["DEO-01"]["level"] == 2
    assert content["criteria"]["sha256"] == catalog.criteria_hashes["x60-600@1.1.0"]
    assert content["result"]["partial"] is True
    assert content["result"]["verdict"] == Verdict.PAS_PRET.value
    assert content["result"]["findings"]["DEO-01"] == Finding.ECART_MINEUR.value
    with pytest.raises(service.SubmittedError):
        answer(session, catalog, assessment, user, "DEO-01", base_revision=1, level=3)
    with pytest.raises(service.SubmittedError):
        submission.submit(
            session,
            catalog=catalog,
            assessment=assessment,
            structure=structure,  # type: ignore[arg-type]
            user=user,
            signer=signer,
        )  # type: ignore[arg-type]


def test_a_submitted_result_keeps_the_profile_it_was_submitted_with(
    session: Session, catalog: Catalog, tmp_path: object
) -> None:
    assessment, user, structure = start(session, catalog)
    answer(session, catalog, assessment, user, "STR-14", level=0)  # night work: applies while unknown
    submission.submit(
        session,
        catalog=catalog,
        assessment=assessment,
        structure=structure,  # type: ignore[arg-type]
        user=user,
        signer=load_or_create_signer(tmp_path),  # type: ignore[arg-type]
    )  # type: ignore[arg-type]
    structure.profile = {"presence_nocturne": False}  # type: ignore[attr-defined]
    session.add(structure)
    session.commit()
    submitted = service.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)  # type: ignore[arg-type]
    assert findings(submitted)["STR-14"] is Finding.ECART_MINEUR
    assert assessment.submitted_profile == {}
    draft, _, _ = start(session, catalog)
    draft.structure_id = structure.id  # type: ignore[attr-defined]
    live = service.evaluate(session, catalog=catalog, assessment=draft, structure=structure)  # type: ignore[arg-type]
    assert findings(live)["STR-14"] is Finding.NON_APPLICABLE


def test_submit_refuses_not_applicable_without_justification(
    session: Session, catalog: Catalog, tmp_path: object
) -> None:
    assessment, user, structure = start(session, catalog)
    answer(session, catalog, assessment, user, "PRO-16", not_applicable=True)
    with pytest.raises(service.AssessmentError, match="justification"):
        submission.submit(
            session,
            catalog=catalog,
            assessment=assessment,
            structure=structure,  # type: ignore[arg-type]
            user=user,
            signer=load_or_create_signer(tmp_path),
        )  # type: ignore[arg-type]
    session.refresh(assessment)
    assert assessment.status == AssessmentStatus.DRAFT


def test_the_next_assessment_carries_answers_for_reconfirmation(session: Session, catalog: Catalog) -> None:
    first, user, structure = start(session, catalog)
    answer(session, catalog, first, user, "DEO-01", level=3, comment="charte 2025")
    answer(session, catalog, first, user, "PRO-16", not_applicable=True, justification="pas de permanence")
    second = service.start(
        session,
        catalog=catalog,
        structure=structure,
        user=user,  # type: ignore[arg-type]
        questionnaire_ref="full",
        previous=first,
    )
    carried = {a.criterion_id: a for a in service.answers_of(session, second)}
    assert set(carried) == {"DEO-01", "PRO-16"}
    assert all(a.carried_over for a in carried.values())
    assert (carried["DEO-01"].level, carried["DEO-01"].comment) == (3, "charte 2025")
    assert carried["PRO-16"].not_applicable
    reconfirmed = answer(session, catalog, second, user, "DEO-01", base_revision=1, level=3)
    assert not reconfirmed.carried_over
