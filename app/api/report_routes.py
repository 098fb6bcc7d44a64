"""A submitted assessment's documents, the same as the web's results page offers: the PDF report, the
XLSX workbook, the CSV files of the answers and of the gaps (`app.reports.exports`).

They are written in the language of `Accept-Language` (French by default), with the catalog's texts
in that language, as the web pages are; drafts are never shown, as everywhere in the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.api.assessment_routes import visible_assessment
from app.api.auth import READ_ONE, AssessmentReader
from app.api.models import Id
from app.db import SessionDep
from app.deps import CatalogDep
from app.reports import exports, pdf, spreadsheets

router = APIRouter()


def _document(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": what, "content": {media_type: binary}}, **READ_ONE}


@router.get(
    "/assessments/{assessment_id}/report.pdf",
    tags=["reports"],
    summary="The assessment report as PDF, with the snapshot's SHA-256 and signing key id on its cover",
    response_class=Response,
    responses=_document(pdf.PDF, "The report, as an attachment, in the language of `Accept-Language`."),
)
def report_pdf(
    request: Request, session: SessionDep, catalog: CatalogDep, caller: AssessmentReader, assessment_id: Id
) -> Response:
    found = visible_assessment(request, session, caller, assessment_id)
    return exports.report_pdf(request, session, catalog=catalog, assessment=found, user=None)


@router.get(
    "/assessments/{assessment_id}/report.xlsx",
    tags=["reports"],
    summary="The assessment workbook: summary, answers, gaps, action plan, evidence sheets",
    response_class=Response,
    responses=_document(spreadsheets.XLSX, "The workbook, as an attachment."),
)
def report_xlsx(
    request: Request, session: SessionDep, catalog: CatalogDep, caller: AssessmentReader, assessment_id: Id
) -> Response:
    found = visible_assessment(request, session, caller, assessment_id)
    return exports.workbook_response(session, catalog=catalog, assessment=found)


CSV_FILE = "`;`-separated UTF-8 with a byte-order mark (French Excel opens it as is), as an attachment."


@router.get(
    "/assessments/{assessment_id}/answers.csv",
    tags=["reports"],
    summary="Every criterion's answer, retained level and predicted finding, as CSV",
    response_class=Response,
    responses=_document("text/csv", CSV_FILE),
)
def answers_csv(
    request: Request, session: SessionDep, catalog: CatalogDep, caller: AssessmentReader, assessment_id: Id
) -> Response:
    found = visible_assessment(request, session, caller, assessment_id)
    return exports.csv_response(session, catalog=catalog, assessment=found, kind="reponses")


@router.get(
    "/assessments/{assessment_id}/gaps.csv",
    tags=["reports"],
    summary="The gaps by workshop and priority, with their suggested action and deadline, as CSV",
    response_class=Response,
    responses=_document("text/csv", CSV_FILE),
)
def gaps_csv(
    request: Request, session: SessionDep, catalog: CatalogDep, caller: AssessmentReader, assessment_id: Id
) -> Response:
    found = visible_assessment(request, session, caller, assessment_id)
    return exports.csv_response(session, catalog=catalog, assessment=found, kind="ecarts")
