"""An assessment's documents through HTTP, read back by real readers: pypdf, poppler, openpyxl,
LibreOffice and the csv module. PDFs cost about a second each: each test renders as few as it can."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.accounts.models import Role
from app.assessments import service as assessments
from app.assessments.models import Assessment
from app.reports import views
from app.structures.models import Structure
from tests.factories import make_cohort
from tests.reports.documents import (
    INJECTED,
    first_page_png,
    full_assessment,
    libreoffice_convert,
    pdf_pages,
)
from tests.reports.helpers import assessment_with_answers, member, signed_in

# Rendering and parsing: nothing here differs between SQLite and PostgreSQL.
pytestmark = pytest.mark.sqlite_only

SHEETS = ["Synthèse", "Réponses", "Écarts", "Plan d'action", "Preuves"]
GAP_IDS = re.compile(r'<li class="gap" id="ecart-([A-Z]+-\d+)"')
AREA_SCORE = re.compile(r'<td class="num">([\d,]+ / 100|—)</td>')


@pytest.fixture
def submitted(app: FastAPI) -> Assessment:
    user, structure = member(app, "directrice@example.org", structure_name="Médiation du Nord")
    assert structure is not None
    return full_assessment(app, user=user, structure=structure, submit=True)


def test_the_report_pdf_says_what_the_results_page_says(app: FastAPI, submitted: Assessment) -> None:
    client = signed_in(app, "directrice@example.org")
    page = html.unescape(client.get(f"/autoevaluations/{submitted.id}/resultats").text)
    response = client.get(f"/autoevaluations/{submitted.id}/rapport.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment;" in response.headers["content-disposition"]
    assert ".pdf" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "private, no-store"
    pages = pdf_pages(response.content)
    text = "\n".join(pages)
    flat = " ".join(text.split())
    first_page_png(response.content, "rapport-soumis")

    assert len(pages) > 3
    header = f"Médiation du Nord · Rapport d'autoévaluation · révision {submitted.revision}"
    for number, page_text in enumerate(pages, start=1):
        assert f"page {number} / {len(pages)}" in page_text
        assert header in page_text  # the running header, on every page
        assert "Brouillon" not in page_text
    assert "Résultat prévu à l'audit : Pas prêt" in flat
    with Session(app.state.engine) as session:
        snapshot = views.latest_snapshot(session, submitted)
        assert snapshot is not None
        result = assessments.evaluate(
            session,
            catalog=app.state.catalog,
            assessment=submitted,
            structure=assessments.structure_of(session, submitted),
        )
    assert snapshot.sha256 in flat.replace(" ", "")
    assert snapshot.key_id in flat
    assert submitted.criteria_sha256 in flat.replace(" ", "")
    assert submitted.questionnaire_sha256 in flat.replace(" ", "")

    # The same gaps in the same order as the page (the gaps section runs up to the action plan).
    on_page = GAP_IDS.findall(page)
    workshops = [w.id for w in app.state.catalog.criteria[submitted.criteria_ref].workshops]
    assert on_page == [gap.criterion for gaps in result.gaps_by_workshop(workshops).values() for gap in gaps]
    assert len(on_page) == len(result.gaps) > 10
    start = flat.index("Écarts à combler, par atelier")
    in_gaps = flat[start : flat.index(f"Plan d'action {len(on_page)} actions, dont", start)]
    assert re.findall(r"\b([A-Z]{3}-\d{2}) — ", in_gaps) == on_page
    for score in AREA_SCORE.findall(page):
        assert score in flat
    assert f"Écarts majeurs prévus {result.majors}" in flat
    assert f"Écarts mineurs prévus {result.minors}" in flat
    assert "À lever avant l'audit" in flat
    assert "Plan d'action" in flat
    assert "Historique des scores" in flat
    assert "Critères déduits (confiance L)" in flat


def test_a_draft_report_is_marked_as_an_estimate_on_every_page(app: FastAPI) -> None:
    user, structure = member(app, "directrice@example.org", structure_name="Médiation du Nord")
    assert structure is not None
    draft = assessment_with_answers(app, user=user, structure=structure, levels={"DEO-01": 3, "DEO-02": 0})
    response = signed_in(app, "directrice@example.org").get(f"/autoevaluations/{draft.id}/rapport.pdf")
    assert response.status_code == 200
    pages = pdf_pages(response.content)
    first_page_png(response.content, "rapport-brouillon")
    assert len(pages) > 1
    assert all("« Brouillon — estimation »" in " ".join(text.split()) for text in pages)
    assert "«\u00a0Brouillon — estimation\u00a0»" in pages[0]  # French spacing, unbreakable
    assert "Instantané signé" not in "".join(pages)  # a draft has no snapshot to check against


def test_the_workbook_speaks_the_language_of_the_page(app: FastAPI, submitted: Assessment) -> None:
    client = signed_in(app, "directrice@example.org")
    client.headers["Accept-Language"] = "en"
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/autoevaluations/{submitted.id}/resultats.xlsx").content)
    )
    assert book.sheetnames == ["Summary", "Answers", "Gaps", "Action plan", "Evidence"]
    assert book["Answers"].cell(row=1, column=1).value == "Criterion"
    gaps = client.get(f"/autoevaluations/{submitted.id}/ecarts.csv").content.decode("utf-8-sig")
    assert gaps.startswith("Workshop;Priority;Criterion;")


def test_the_workbook_has_its_sheets_formats_and_no_formula(app: FastAPI, submitted: Assessment) -> None:
    client = signed_in(app, "directrice@example.org")
    response = client.get(f"/autoevaluations/{submitted.id}/resultats.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref
        assert sheet.auto_filter.ref.startswith("A1:")
        assert all(cell.font.b for cell in sheet[1])
        assert sheet.column_dimensions["A"].width > 8
    answers = book["Réponses"]
    headers = [cell.value for cell in answers[1]]
    assert headers[:4] == ["Critère", "Intitulé", "Domaine", "Atelier"]
    assert {
        "Niveau déclaré",
        "Niveau retenu",
        "Plafonnement",
        "Constat prévu",
        "Preuves jointes",
        "Commentaire",
    } <= set(headers)
    rows = list(answers.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(app.state.catalog.questionnaire("full").criterion_ids)
    comment = next(cell for cell in answers["N"][1:] if cell.value == INJECTED)
    assert comment.data_type == "s"  # text, never a formula
    assert rows[0][11] == "Charte signée"
    gaps = book["Écarts"]
    deadline = gaps.cell(row=2, column=11)
    assert isinstance(deadline.value, date) or hasattr(deadline.value, "date")
    assert deadline.number_format == "dd/mm/yyyy"
    assert gaps.cell(row=2, column=2).number_format == "0"
    summary = {row[0]: row[1] for row in book["Synthèse"].iter_rows(min_row=2, values_only=True)}
    assert summary["Résultat prévu à l'audit"] == "Pas prêt"
    assert len(summary["Instantané signé, SHA-256"]) == 64
    assert book["Plan d'action"].max_row - 1 == len(gaps["A"]) - 1  # an item for every gap
    assert book["Preuves"].cell(row=2, column=1).value == "Charte signée"


def test_the_csv_files_open_in_french_excel_and_parse_back(app: FastAPI, submitted: Assessment) -> None:
    client = signed_in(app, "directrice@example.org")
    answers = client.get(f"/autoevaluations/{submitted.id}/reponses.csv")
    gaps = client.get(f"/autoevaluations/{submitted.id}/ecarts.csv")
    for response in (answers, gaps):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.content.startswith(b"\xef\xbb\xbf")
        assert b"\r\n" in response.content
    rows = list(csv.reader(io.StringIO(answers.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Critère", "Intitulé", "Domaine"]
    assert len(rows) - 1 == len(app.state.catalog.questionnaire("full").criterion_ids)
    assert all(len(row) == len(rows[0]) for row in rows)
    assert "'" + INJECTED in [cell for row in rows for cell in row]  # shown as text, not run
    gap_rows = list(csv.reader(io.StringIO(gaps.content.decode("utf-8-sig")), delimiter=";"))
    assert gap_rows[0][0] == "Atelier"
    assert gap_rows[0][-1] == "Échéance suggérée"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", gap_rows[1][-1])
    page = html.unescape(client.get(f"/autoevaluations/{submitted.id}/resultats").text)
    assert [row[2] for row in gap_rows[1:]] == GAP_IDS.findall(page)  # the page's gaps, in its order


def test_every_exported_workbook_opens_in_libreoffice(
    app: FastAPI, submitted: Assessment, tmp_path: Path
) -> None:
    """LibreOffice, the real client nobody here wrote, converts them all (one run for every file)."""
    trainer, _ = member(app, "formatrice@example.org", role=Role.TRAINER)
    with Session(app.state.engine) as session:
        structure = session.get(Structure, submitted.structure_id)
        assert structure is not None
        cohort = make_cohort(session, trainers=[session.merge(trainer)], structures=[structure])
    files = {
        "autoevaluation.xlsx": signed_in(app, "directrice@example.org").get(
            f"/autoevaluations/{submitted.id}/resultats.xlsx"
        ),
        "cohorte.xlsx": signed_in(app, "formatrice@example.org").get(f"/cohortes/{cohort.id}/tableau.xlsx"),
    }
    paths = []
    for name, response in files.items():
        assert response.status_code == 200, name
        (tmp_path / name).write_bytes(response.content)
        paths.append(tmp_path / name)
    done = libreoffice_convert(paths, tmp_path / "out", tmp_path / "profile")
    assert done.returncode == 0, done.stdout + done.stderr
    first = (tmp_path / "out" / "autoevaluation.csv").read_text(encoding="utf-8", errors="replace")
    assert "Médiation du Nord" in first
    assert "Pas prêt" in first
    cohort_sheet = (tmp_path / "out" / "cohorte.csv").read_text(encoding="utf-8", errors="replace")
    assert "Médiation du Nord" in cohort_sheet
    book = openpyxl.load_workbook(tmp_path / "cohorte.xlsx")
    assert book.sheetnames == ["Structures", "Écarts par atelier", "Écarts fréquents"]
