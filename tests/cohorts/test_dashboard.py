"""The cohort dashboard's figures, checked against numbers worked out by hand on the test referential.

The test referential (tests/fixtures/catalog) has six criteria: DEO-01 (critical, politique
qualité), DEO-02 (formation des équipes), PRO-01 (critical) and PRO-02 (only with registre B) in
gestion de l'activité, STR-01 (only at night, formation des équipes), EVA-01 (critical, utilité
sociale, no evidence required).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from app.accounts.models import Role, User
from app.assessments import answering, evidence, service
from app.assessments.models import Assessment
from app.assessments.snapshot import Signer, load_or_create_signer, submit
from app.catalog.service import Catalog
from app.cohorts.dashboard import Dashboard, dashboard
from app.reviews.results import ReviewState
from app.scoring.codes import Finding, Verdict
from app.structures.models import Structure
from tests.factories import make_cohort, make_structure, make_user

MAJOR, MINOR, UNANSWERED = Finding.ECART_MAJEUR, Finding.ECART_MINEUR, Finding.NON_RENSEIGNE


def answered(
    session: Session,
    catalog: Catalog,
    *,
    structure: Structure,
    user: User,
    levels: dict[str, int],
    proven: dict[str, list[str]] | None = None,
    signer: Signer | None = None,
) -> Assessment:
    """A mini-full assessment with these levels, evidence covering `proven`, submitted if `signer`."""
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=user, questionnaire_ref="mini-full"
    )
    for criterion_id, level in levels.items():
        answering.save_answer(
            session,
            catalog=catalog,
            assessment=assessment,
            user=user,
            criterion_id=criterion_id,
            base_revision=0,
            level=level,
            not_applicable=False,
            justification="",
            comment="",
        )
    for criterion_id, covers in (proven or {}).items():
        piece = evidence.add(session, structure=structure, user=user, title=f"Preuve {criterion_id}")
        evidence.attach(
            session,
            assessment=assessment,
            evidence=piece,
            criterion_id=criterion_id,
            covers=covers,
            user=user,
        )
    if signer is not None:
        submit(session, catalog=catalog, assessment=assessment, structure=structure, user=user, signer=signer)
    return assessment


@pytest.fixture
def board(session: Session, mini_catalog: Catalog, tmp_path: Path) -> Dashboard:
    signer = load_or_create_signer(tmp_path)
    director, trainer = make_user(session), make_user(session, role=Role.TRAINER)
    s1, s2, s3, s4, outside = (make_structure(session, name=name) for name in ("S1", "S2", "S3", "S4", "S5"))
    s1.profile, s2.profile = {"registres": ["a"], "nuit": False}, {"registres": ["a", "b"], "nuit": True}
    session.add_all([s1, s2])
    session.commit()
    answered(
        session,
        mini_catalog,
        structure=s1,
        user=director,
        levels={"DEO-01": 3, "DEO-02": 1, "PRO-01": 0, "EVA-01": 2},
        proven={"DEO-01": ["charte", "registre"]},
        signer=signer,
    )
    everything = {"DEO-01": 3, "DEO-02": 3, "PRO-01": 3, "PRO-02": 3, "STR-01": 3, "EVA-01": 3}
    answered(session, mini_catalog, structure=s2, user=director, levels=everything, signer=signer)
    answered(
        session,
        mini_catalog,
        structure=s2,
        user=director,
        levels={"DEO-01": 1, "DEO-02": 3, "PRO-01": 0, "STR-01": 3},
        proven={"STR-01": ["procedure-nuit"]},
        signer=signer,
    )
    answered(session, mini_catalog, structure=s2, user=director, levels=everything)  # a later draft
    answered(session, mini_catalog, structure=s3, user=director, levels={"DEO-01": 2})
    answered(session, mini_catalog, structure=outside, user=director, levels={"DEO-01": 0}, signer=signer)
    cohort = make_cohort(session, trainers=[trainer], structures=[s1, s2, s3, s4])
    return dashboard(session, catalog=mini_catalog, cohort=cohort)


def test_each_enrolled_structure_shows_its_latest_submitted_assessment_else_its_draft(
    board: Dashboard,
) -> None:
    rows = {row.structure.name: row for row in board.rows}
    assert list(rows) == ["S1", "S2", "S3", "S4"]  # S5 is not enrolled
    s1, s2, s3, s4 = rows.values()
    assert s1.result.verdict is Verdict.PRESQUE_PRET
    assert (s1.result.majors, s1.result.minors) == (1, 2)
    assert [a.score for a in s1.result.areas] == [77.8, 0.0, None, 66.7]
    assert s2.assessment.status == "submitted"
    assert s2.result.majors == 3
    assert s2.state is ReviewState.TO_REVIEW
    assert s3.assessment.status == "draft"
    assert s3.state is ReviewState.DRAFT
    assert (s3.result.progress.answered, s3.result.progress.applicable) == (1, 6)
    assert s4.assessment is None
    assert s4.result is None


def test_gaps_are_counted_by_structure_workshop_and_severity(board: Dashboard) -> None:
    expected = {
        "S1": {"politique_qualite": {}, "gestion_activite": {MAJOR: 1}, "formation_equipes": {MINOR: 1}},
        "S2": {"politique_qualite": {MAJOR: 1}, "gestion_activite": {MAJOR: 1, UNANSWERED: 1}},
        "S3": {
            "politique_qualite": {MINOR: 1},
            "gestion_activite": {UNANSWERED: 2},
            "formation_equipes": {UNANSWERED: 2},
        },
        "S4": {"gestion_activite": {}},
    }
    for row in board.rows:
        for workshop, counts in expected[row.structure.name].items():
            assert board.counts(row, workshop) == counts, (row.structure.name, workshop)
    assert board.totals("gestion_activite") == {MAJOR: 2, UNANSWERED: 3}
    assert board.totals("utilite_sociale") == {MINOR: 1, UNANSWERED: 2}


def test_the_most_common_gaps_come_first_with_their_structures_and_missing_evidence(board: Dashboard) -> None:
    def summary(workshop: str) -> list[tuple[str, list[tuple[str, str]]]]:
        return [
            (gap.criterion.id, [(s.name, found.severity.value) for s, found in gap.concerned])
            for gap in board.common[workshop]
        ]

    assert summary("gestion_activite") == [
        ("PRO-01", [("S1", "ecart_majeur"), ("S2", "ecart_majeur"), ("S3", "non_renseigne")]),
        ("PRO-02", [("S2", "non_renseigne"), ("S3", "non_renseigne")]),
    ]
    assert summary("utilite_sociale") == [
        ("EVA-01", [("S2", "non_renseigne"), ("S3", "non_renseigne"), ("S1", "ecart_mineur")])
    ]
    assert summary("politique_qualite") == [("DEO-01", [("S2", "ecart_majeur"), ("S3", "ecart_mineur")])]
    formation = board.common["formation_equipes"]
    assert [gap.criterion.id for gap in formation] == ["DEO-02", "STR-01"]
    assert formation[0].missing == (("Feuilles de présence", 3),)
    assert formation[0].severities == {MINOR: 2, UNANSWERED: 1}
