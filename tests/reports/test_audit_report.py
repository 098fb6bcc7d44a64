"""The mock-audit report and the trainers' documents: who reads them, what they say (page and PDF)."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import openpyxl
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.assessments import evidence, snapshot
from app.assessments import service as assessments
from app.assessments.models import Assessment, EvidenceLink
from app.cohorts.models import Cohort
from app.db import pk
from app.reviews import decisions, service
from app.reviews.models import Decision
from app.structures import service as structures
from tests.factories import make_cohort
from tests.reports.documents import first_page_png, pdf_pages
from tests.reports.helpers import answer, member, signed_in

DIRECTOR, TRAINER, AUDITOR = "directrice@example.org", "formatrice@example.org", "auditrice@example.org"


# Rendering and parsing: nothing here differs between SQLite and PostgreSQL.
pytestmark = pytest.mark.sqlite_only


class Reviewed(NamedTuple):
    assessment: Assessment
    cohort: Cohort
    trainer: User
    diverging: str
    strong: str


@pytest.fixture
def reviewed(app: FastAPI) -> Reviewed:
    """An express assessment submitted with one piece of evidence; its trainer's review, undecided:
    a lower level and a major NC on one criterion, agreement and a strong point on another."""
    director, structure = member(app, DIRECTOR, structure_name="Médiation du Nord")
    trainer, _ = member(app, TRAINER, role=Role.TRAINER)
    auditor, _ = member(app, AUDITOR, role=Role.AUDITOR)
    catalog = app.state.catalog
    ids = catalog.questionnaire("express").criterion_ids
    with Session(app.state.engine, expire_on_commit=False) as session:
        assert structure is not None
        director, structure = session.merge(director), session.merge(structure)
        assessment = assessments.start(
            session, catalog=catalog, structure=structure, user=director, questionnaire_ref="express"
        )
        for criterion_id in ids:
            answer(session, catalog, assessment=assessment, user=director, criterion_id=criterion_id, level=2)
        piece = evidence.add(session, structure=structure, user=director, title="Registre des médiations")
        link = evidence.attach(
            session, assessment=assessment, evidence=piece, criterion_id=ids[1], covers=[], user=director
        )
        signer = snapshot.load_or_create_signer(app.state.settings.data_dir)
        snapshot.submit(
            session, catalog=catalog, assessment=assessment, structure=structure, user=director, signer=signer
        )
        until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        structures.grant_auditor(
            session, structure=structure, email=auditor.email, expires_on=until, actor=director
        )
        cohort = make_cohort(session, trainers=[session.merge(trainer)], structures=[structure])
        trainer = session.merge(trainer)
        for criterion_id, choice, finding in ((ids[0], "1", "nc_majeure"), (ids[1], "accord", "point_fort")):
            service.save_review(
                session,
                assessment=assessment,
                user=trainer,
                criterion_id=criterion_id,
                base_revision=0,
                choice=choice,
                comment=f"Constat sur {criterion_id}",
                finding=finding,
            )
        link = session.exec(select(EvidenceLink).where(EvidenceLink.id == pk(link))).one()
        service.rate_evidence(
            session,
            assessment=assessment,
            link=link,
            user=trainer,
            base_revision=0,
            rating="insuffisante",
            comment="Registre incomplet",
        )
        return Reviewed(assessment, cohort, trainer, ids[0], ids[1])


def validate(app: FastAPI, reviewed: Reviewed) -> None:
    with Session(app.state.engine) as session:
        decisions.decide(
            session,
            assessment=session.merge(reviewed.assessment),
            user=session.merge(reviewed.trainer),
            decision=Decision.VALIDATED,
            comment="Prête pour l'audit à blanc",
        )


def test_the_director_reads_the_mock_audit_once_a_trainer_has_decided(
    app: FastAPI, reviewed: Reviewed
) -> None:
    url = f"/autoevaluations/{reviewed.assessment.id}/audit-blanc"
    director, trainer = signed_in(app, DIRECTOR), signed_in(app, TRAINER)
    assert director.get(url).status_code == 404
    assert director.get(url + ".pdf").status_code == 404
    assert "audit-blanc" not in director.get(f"/autoevaluations/{reviewed.assessment.id}/resultats").text
    page = html.unescape(trainer.get(url).text)
    assert "Aucune décision pour l'instant" in page
    validate(app, reviewed)
    page = html.unescape(director.get(url).text)
    assert f'href="{url}"' in director.get(f"/autoevaluations/{reviewed.assessment.id}/resultats").text
    words = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    for expected in ("Non-conformité majeure (1)", "Point fort (1)", "Piste de progrès (0)", "Validée"):
        assert expected in words
    divergences = page[page.index('id="divergences"') : page.index('id="appreciations"')]
    assert reviewed.diverging in divergences
    assert reviewed.strong not in divergences  # the trainer agreed there
    assert "2 · " in divergences  # the director's level, from the signed snapshot
    assert "1 · " in divergences  # the trainer's
    ratings = page[page.index('id="appreciations"') :]
    assert "Registre des médiations" in ratings
    assert "Insuffisante" in ratings

    response = director.get(url + ".pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join(pdf_pages(response.content)).split())
    first_page_png(response.content, "audit-blanc")
    for expected in ("Rapport d'audit blanc", "Non-conformité majeure (1)", "Registre incomplet", "Validée"):
        assert expected in text
    assert f"Constat sur {reviewed.diverging}" in text


def test_auditors_under_a_grant_read_the_report_but_never_the_mock_audit(
    app: FastAPI, reviewed: Reviewed
) -> None:
    validate(app, reviewed)
    auditor = signed_in(app, AUDITOR)
    assessment_id = reviewed.assessment.id
    assert auditor.get(f"/autoevaluations/{assessment_id}/audit-blanc").status_code == 404
    assert auditor.get(f"/autoevaluations/{assessment_id}/audit-blanc.pdf").status_code == 404
    assert auditor.get(f"/autoevaluations/{assessment_id}/ecarts.csv").status_code == 200
    report = auditor.get(f"/autoevaluations/{assessment_id}/rapport.pdf")
    assert report.status_code == 200
    text = " ".join(pdf_pages(report.content))
    assert "Relecture par le formateur" not in text  # the review is the structure's business
    member(app, "autre@example.org", structure_name="Autre structure")
    stranger = signed_in(app, "autre@example.org")
    for path in ("rapport.pdf", "resultats.xlsx", "reponses.csv", "ecarts.csv", "audit-blanc"):
        assert stranger.get(f"/autoevaluations/{assessment_id}/{path}").status_code == 404


def test_trainers_print_the_workshop_page_and_download_the_dashboard(
    app: FastAPI, reviewed: Reviewed
) -> None:
    trainer = signed_in(app, TRAINER)
    cohort_id = reviewed.cohort.id
    page = html.unescape(trainer.get(f"/cohortes/{cohort_id}/ateliers/politique_qualite").text)
    assert f"/cohortes/{cohort_id}/ateliers/politique_qualite/atelier.pdf" in page
    response = trainer.get(f"/cohortes/{cohort_id}/ateliers/politique_qualite/atelier.pdf")
    assert response.status_code == 200
    text = " ".join(" ".join(pdf_pages(response.content)).split())
    assert "Préparer l'atelier « Politique Qualité »" in text
    assert "Médiation du Nord" in text
    assert "Mes cohortes" not in text  # the page's menus and breadcrumb are not printed
    assert trainer.get(f"/cohortes/{cohort_id}/ateliers/inconnu/atelier.pdf").status_code == 404
    workbook = trainer.get(f"/cohortes/{cohort_id}/tableau.xlsx")
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    structures_sheet = book["Structures"]
    assert structures_sheet.freeze_panes == "A2"
    assert structures_sheet.cell(row=2, column=1).value == "Médiation du Nord"
    director = signed_in(app, DIRECTOR)
    assert director.get(f"/cohortes/{cohort_id}/tableau.xlsx").status_code == 404
    assert director.get(f"/cohortes/{cohort_id}/ateliers/politique_qualite/atelier.pdf").status_code == 404
