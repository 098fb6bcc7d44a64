"""A submitted assessment's documents through the API: the web's report, workbook and CSV files."""

from __future__ import annotations

import csv
import io

import openpyxl
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.assessments.models import Snapshot
from app.db import AuditEntry
from tests.api.helpers import bearer, seed, token_for
from tests.reports.documents import pdf_pages


def test_an_auditor_downloads_the_report_workbook_and_csv_of_a_submitted_assessment(app: FastAPI) -> None:
    world = seed(app)
    client = TestClient(app)
    headers = bearer(token_for(app, world.auditor, ["read:assessments"]))
    base = f"/api/v1/assessments/{world.submitted_id}"
    report = client.get(f"{base}/report.pdf", headers=headers)
    assert report.status_code == 200
    assert report.headers["content-type"] == "application/pdf"
    with Session(app.state.engine) as session:
        snapshot = session.exec(select(Snapshot)).one()
        reads = session.exec(select(AuditEntry).where(AuditEntry.action == "api.read")).all()
    text = "".join(" ".join(pdf_pages(report.content)).split())
    assert snapshot.sha256 in text
    assert "Relecture" not in text
    assert [entry.object_type for entry in reads] == ["assessment"]  # read under the grant, audited
    workbook = client.get(f"{base}/report.xlsx", headers=headers)
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["Synthèse", "Réponses", "Écarts", "Plan d'action", "Preuves"]
    answers = client.get(f"{base}/answers.csv", headers=headers)
    rows = list(csv.reader(io.StringIO(answers.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) - 1 == len(app.state.catalog.questionnaire("express").criterion_ids)
    gaps = client.get(f"{base}/gaps.csv", headers=headers)
    assert gaps.content.startswith(b"\xef\xbb\xbf")
    assert gaps.headers["content-disposition"].startswith("attachment;")
    for path in ("report.pdf", "report.xlsx", "answers.csv", "gaps.csv"):
        draft = client.get(f"/api/v1/assessments/{world.draft_id}/{path}", headers=headers)
        assert draft.status_code == 404  # drafts never leave through the API
        assert draft.json()["error"]["code"] == "not_found"
