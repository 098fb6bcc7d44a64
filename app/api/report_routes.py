"""A submitted assessment's documents, the same as the web's results page offers: the PDF report, the
XLSX workbook, the CSV files of the answers and of the gaps (`app.reports.exports`).

They are written in the language of `Accept-Language` (French by default), with the catalog's texts
in that language, as the web pages are; drafts are never shown, as everywhere in the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.api.assessment_routes import visible_assessment
from app.api.auth import READ_ONE, AssessmentReader
from app.api.models import Id
from app.assessments.models import Assessment
from app.db import SessionDep
from app.deps import CatalogDep
from app.reports import exports, pdf, spreadsheets

router = APIRouter()
CSV_FILE = "`;`-separated UTF-8 with a byte-order mark (French Excel opens it as is), as an attachment."


def _visible(
    request: Request, session: SessionDep, caller: AssessmentReader, assessment_id: Id
) -> Assessment:
    """The submitted assessment `caller` may read (its reading audited), else 404."""
    return visible_assessment(request, session, caller, assessment_id)


Visible = Annotated[Assessment, Depends(_visible)]


def _document(path: str, summary: str, media_type: str, what: str) -> Callable[..., Any]:
    """The GET operation of one document: a binary attachment, documented as such."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return router.get(
        f"/assessments/{{assessment_id}}/{path}",
        tags=["reports"],
        summary=summary,
        response_class=Response,
        responses={200: {"description": what, "content": {media_type: binary}}, **READ_ONE},
    )


@_document(
    "report.pdf",
    "The assessment report as PDF, with the snapshot's SHA-256 and signing key id on its cover",
    pdf.PDF,
    "The report, as an attachment, in the language of `Accept-Language`.",
)
def report_pdf(request: Request, session: SessionDep, catalog: CatalogDep, assessment: Visible) -> Response:
    return exports.report_pdf(request, session, catalog=catalog, assessment=assessment, user=None)


@_document(
    "report.xlsx",
    "The assessment workbook: summary, answers, gaps, action plan, evidence sheets",
    spreadsheets.XLSX,
    "The workbook, as an attachment.",
)
def report_xlsx(session: SessionDep, catalog: CatalogDep, assessment: Visible) -> Response:
    return exports.workbook_response(session, catalog=catalog, assessment=assessment)


@_document(
    "answers.csv",
    "Every criterion's answer, retained level and predicted finding, as CSV",
    "text/csv",
    CSV_FILE,
)
def answers_csv(session: SessionDep, catalog: CatalogDep, assessment: Visible) -> Response:
    return exports.csv_response(session, catalog=catalog, assessment=assessment, kind="reponses")


@_document(
    "gaps.csv",
    "The gaps by workshop and priority, with their suggested action and deadline, as CSV",
    "text/csv",
    CSV_FILE,
)
def gaps_csv(session: SessionDep, catalog: CatalogDep, assessment: Visible) -> Response:
    return exports.csv_response(session, catalog=catalog, assessment=assessment, kind="ecarts")
