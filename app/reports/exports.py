"""An assessment's documents as bytes: the PDF report, the XLSX workbook, the CSV files.

The web routes and the API both call these, so the paper a director prints and the file an
auditor's tool downloads come from the same code and the same figures.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.permissions import Access, can
from app.assessments import service as assessments
from app.assessments.models import Assessment
from app.catalog.service import Catalog
from app.reports import pdf, spreadsheets, tables, views
from app.reviews import results as review_results

KINDS = ("reponses", "ecarts")
"""The CSV files of an assessment: its answers, its gaps."""


def review_context(session: Session, user: User | None, assessment: Assessment) -> dict[str, Any]:
    """The trainer's review as the results page shows it to `user` (None: an API token, no review)."""
    if user is None or not can(session, user, Access.READ, assessment.structure_id):
        return {"review_summary": None, "can_review": False}
    return {
        "review_summary": review_results.summary(session, assessment),
        "can_review": can(session, user, Access.REVIEW, assessment.structure_id),
    }


def report_pdf(
    request: Request, session: Session, *, catalog: Catalog, assessment: Assessment, user: User | None
) -> Response:
    """The assessment report as a PDF attachment."""
    context = views.report_context(session, catalog, assessment) | review_context(session, user, assessment)
    name = views.report_name(context["structure"], assessment, "pdf")
    return pdf.pdf_response(request, "reports/report.html", context, filename=name)


def workbook_tables(session: Session, *, catalog: Catalog, assessment: Assessment) -> list[tables.Table]:
    """The sheets of an assessment's workbook: Synthèse, Réponses, Écarts, Plan d'action, Preuves."""
    context = views.results_context(session, catalog, assessment)
    context["snapshot"] = views.latest_snapshot(session, assessment)
    loaded = assessments.load(session, assessment)
    plan = views.plan_rows(session, context)
    return [
        tables.summary_table(context),
        tables.answers_table(context, loaded),
        tables.gaps_table(context),
        tables.plan_table(context, plan),
        tables.evidence_table(loaded),
    ]


def workbook_response(session: Session, *, catalog: Catalog, assessment: Assessment) -> Response:
    """The assessment's workbook as an XLSX attachment."""
    sheets = workbook_tables(session, catalog=catalog, assessment=assessment)
    structure = assessments.structure_of(session, assessment)
    name = views.report_name(structure, assessment, "xlsx")
    headers = pdf.download_headers(name)
    return Response(spreadsheets.workbook(sheets), media_type=spreadsheets.XLSX, headers=headers)


def csv_table(session: Session, *, catalog: Catalog, assessment: Assessment, kind: str) -> tables.Table:
    """The answers (`reponses`) or the gaps (`ecarts`) of an assessment as one table."""
    context = views.results_context(session, catalog, assessment)
    if kind == "ecarts":
        return tables.gaps_table(context)
    return tables.answers_table(context, assessments.load(session, assessment))


def csv_response(session: Session, *, catalog: Catalog, assessment: Assessment, kind: str) -> Response:
    """One CSV file of the assessment as an attachment (`kind` is one of `KINDS`)."""
    table = csv_table(session, catalog=catalog, assessment=assessment, kind=kind)
    structure = assessments.structure_of(session, assessment)
    name = views.report_name(structure, assessment, "csv").replace("autoevaluation-", f"{kind}-", 1)
    headers = pdf.download_headers(name)
    return Response(spreadsheets.csv_bytes(table), media_type=spreadsheets.CSV, headers=headers)
