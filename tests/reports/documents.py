"""A full assessment to export, and readers for what the exports write (pypdf, LibreOffice, csv)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pypdf
from fastapi import FastAPI
from sqlmodel import Session

from app.accounts.models import User
from app.assessments import answering, evidence, snapshot
from app.assessments import service as assessments
from app.assessments.models import Assessment
from app.config import PROJECT_ROOT
from app.structures.models import Structure
from tests.reports.helpers import answer

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "reports"
INJECTED = '=HYPERLINK("http://example.org","clic")'
"""A comment a spreadsheet would run as a formula if it were written as one."""


class Full(NamedTuple):
    assessment: Assessment
    structure: Structure


def full_assessment(app: FastAPI, *, user: User, structure: Structure, submit: bool) -> Assessment:
    """Every question of the full questionnaire answered (levels 3, 2, 1, 0 in turn), evidence on the
    first, a comment that looks like a formula; submitted if asked."""
    catalog = app.state.catalog
    ids = catalog.questionnaire("full").criterion_ids
    with Session(app.state.engine, expire_on_commit=False) as session:
        user, structure = session.merge(user), session.merge(structure)
        assessment = assessments.start(
            session, catalog=catalog, structure=structure, user=user, questionnaire_ref="full"
        )
        for index, criterion_id in enumerate(ids):
            answer(
                session,
                catalog,
                assessment=assessment,
                user=user,
                criterion_id=criterion_id,
                level=3 - index % 4,
            )
        answering.save_answer(
            session,
            catalog=catalog,
            assessment=assessment,
            user=user,
            criterion_id=ids[1],
            base_revision=1,
            level=2,
            not_applicable=False,
            justification="",
            comment=INJECTED,
        )
        piece = evidence.add(
            session, structure=structure, user=user, title="Charte signée", link="https://example.org/charte"
        )
        evidence.attach(
            session, assessment=assessment, evidence=piece, criterion_id=ids[0], covers=[], user=user
        )
        if submit:
            signer = snapshot.load_or_create_signer(app.state.settings.data_dir)
            snapshot.submit(
                session, catalog=catalog, assessment=assessment, structure=structure, user=user, signer=signer
            )
        return assessment


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page, as pypdf reads it back."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def first_page_png(content: bytes, name: str) -> Path:
    """Render the first page with poppler's pdftoppm into test-artifacts/reports/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(content)
    prefix = ARTIFACTS / name
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source), str(prefix)],
        check=True,
        timeout=60,
    )
    return prefix.with_suffix(".png")


def libreoffice_convert(files: list[Path], out: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    """Convert every file to CSV (its first sheet) in one LibreOffice run, with a throw-away profile."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is needed: make report-deps"
    command = [
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1",  # comma, double quote, UTF-8, from row 1
        "--outdir",
        str(out),
        *map(str, files),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
