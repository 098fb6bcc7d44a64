"""Documents that leave the app: an assessment's report (PDF), workbook (XLSX) and CSV files, the
mock-audit report (a page and a PDF), a cohort's dashboard (XLSX) and « Préparer l'atelier » (PDF).

Each reads through the same dependencies as the page it prints (`Readable`, `VisibleCohort`), so
whoever may not see the page gets 404 for its document too.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from app.assessments.models import Assessment
from app.cohorts import dashboard
from app.db import SessionDep
from app.deps import CatalogDep, CurrentUser, Readable, VisibleCohort
from app.locale import N_
from app.locale import gettext as _
from app.reports import audit, exports, pdf, spreadsheets, views
from app.reports.cohort_tables import cohort_tables
from app.web import render

router = APIRouter()
NOT_FOUND = N_("Cette autoévaluation n'existe pas ou ne vous est pas accessible.")
PRINT_LAYOUT = "reports/print.html"


@router.get("/autoevaluations/{assessment_id}/rapport.pdf")
def report_pdf(
    request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: Readable
) -> Response:
    return exports.report_pdf(request, session, catalog=catalog, assessment=assessment, user=user)


@router.get("/autoevaluations/{assessment_id}/resultats.xlsx")
def workbook(session: SessionDep, catalog: CatalogDep, assessment: Readable) -> Response:
    return exports.workbook_response(session, catalog=catalog, assessment=assessment)


@router.get("/autoevaluations/{assessment_id}/reponses.csv")
def answers_csv(session: SessionDep, catalog: CatalogDep, assessment: Readable) -> Response:
    return exports.csv_response(session, catalog=catalog, assessment=assessment, kind="reponses")


@router.get("/autoevaluations/{assessment_id}/ecarts.csv")
def gaps_csv(session: SessionDep, catalog: CatalogDep, assessment: Readable) -> Response:
    return exports.csv_response(session, catalog=catalog, assessment=assessment, kind="ecarts")


def audit_readable(session: SessionDep, user: CurrentUser, assessment: Readable) -> Assessment:
    """An assessment whose mock-audit report `user` may read (`audit.may_read`), else 404."""
    if not audit.may_read(session, user, assessment):
        raise HTTPException(404, _(NOT_FOUND))
    return assessment


AuditReadable = Annotated[Assessment, Depends(audit_readable)]


@router.get("/autoevaluations/{assessment_id}/audit-blanc")
def audit_page(
    request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: AuditReadable
) -> Response:
    context = audit.audit_report(session, catalog=catalog, assessment=assessment, user=user)
    return render(request, "reports/audit.html", context | {"layout": "base.html"})


@router.get("/autoevaluations/{assessment_id}/audit-blanc.pdf")
def audit_pdf(
    request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: AuditReadable
) -> Response:
    context: dict[str, Any] = audit.audit_report(session, catalog=catalog, assessment=assessment, user=user)
    name = views.report_name(context["structure"], assessment, "pdf").replace(
        "autoevaluation-", "audit-blanc-"
    )
    return pdf.pdf_response(request, "reports/audit.html", context | {"layout": PRINT_LAYOUT}, filename=name)


@router.get("/cohortes/{cohort_id}/tableau.xlsx")
def cohort_workbook(session: SessionDep, catalog: CatalogDep, cohort: VisibleCohort) -> Response:
    board = dashboard.dashboard(session, catalog=catalog, cohort=cohort)
    headers = pdf.download_headers(f"cohorte-{cohort.id}.xlsx")
    content = spreadsheets.workbook(cohort_tables(board))
    return Response(content, media_type=spreadsheets.XLSX, headers=headers)


@router.get("/cohortes/{cohort_id}/ateliers/{workshop_id}/atelier.pdf")
def workshop_pdf(
    request: Request, session: SessionDep, catalog: CatalogDep, cohort: VisibleCohort, workshop_id: str
) -> Response:
    context = dashboard.workshop_view(session, catalog=catalog, cohort=cohort, workshop_id=workshop_id)
    name = f"atelier-{workshop_id}-cohorte-{cohort.id}.pdf"
    return pdf.pdf_response(
        request, "cohorts/workshop.html", context | {"layout": PRINT_LAYOUT}, filename=name
    )
