"""The offline workbook round trip through HTTP: download, fill in, upload, preview, confirm.

Bad files of every kind are refused with where and why, and change nothing. LibreOffice, the real
client nobody here wrote, re-saves a filled-in workbook that must still import (SQLite only: it is slow).
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from sqlmodel import Session, select

from app.assessments import workbook
from app.assessments.models import Answer, Assessment, AssessmentStatus
from app.config import secret_key
from app.db import AuditEntry
from tests.assessments.test_routes import (
    FILES,
    answer,
    director,
    post,
    saved,
    sign_in,
    start,
    text,
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Helpers ----------------------------------------------------------------------------------


def download(client: TestClient, assessment: int) -> Workbook:
    response = client.get(f"/autoevaluations/{assessment}/classeur.xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    return load_workbook(io.BytesIO(response.content))


def level_lists(sheet: Any) -> dict[int, str]:
    """Each row's level dropdown: the range of the Listes sheet it offers (a row in two lists fails)."""
    lists: dict[int, str] = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        for cells in validation.sqref.ranges:
            assert (cells.min_col, cells.max_col) == (workbook.LEVEL + 1,) * 2
            for row in range(cells.min_row, cells.max_row + 1):
                assert row not in lists
                lists[row] = validation.formula1
    return lists


def line_of(book: Workbook, criterion: str) -> int:
    sheet = book[workbook.QUESTIONS_SHEET]
    return next(row[0].row for row in sheet.iter_rows(min_row=2) if row[workbook.ID].value == criterion)


def fill(
    book: Workbook, criterion: str, *, level: Any = None, justification: Any = None, comment: Any = None
) -> None:
    """Set a row's cells as a director would (None leaves a cell as it is)."""
    sheet, line = book[workbook.QUESTIONS_SHEET], line_of(book, criterion)
    for column, value in (
        (workbook.LEVEL, level),
        (workbook.JUSTIFICATION, justification),
        (workbook.COMMENT, comment),
    ):
        if value is not None:
            sheet.cell(line, column + 1, value)


def hidden_columns(sheet: Any) -> set[int]:
    """The numbers of the hidden columns, however the writer grouped them."""
    return {
        number
        for dimension in sheet.column_dimensions.values()
        if dimension.hidden
        for number in range(dimension.min, dimension.max + 1)
    }


def saved_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client: TestClient, assessment: int, content: bytes, name: str = "classeur.xlsx"):
    files = {"fichier": (name, content, XLSX_TYPE)}
    return post(client, f"/autoevaluations/{assessment}/classeur", files=files)


def preview_of(client: TestClient, assessment: int, content: bytes) -> tuple[str, str]:
    """Upload; return the preview's address and its page."""
    response = upload(client, assessment, content)
    assert response.status_code == 303, text(response)
    location = response.headers["location"]
    page = client.get(location)
    assert page.status_code == 200
    return location, page.text


def confirm(client: TestClient, location: str, page: str, keep: list[str] | None = None):
    digest = page.split('name="empreinte" value="', 1)[1].split('"', 1)[0]
    return post(client, location, {"empreinte": digest, "garder": keep or []})


def readable(page: str) -> str:
    """A page as a person reads it (see `text`)."""
    return re.sub(r"\s+", " ", html.unescape(page))


def state(app: FastAPI) -> tuple[list[tuple[Any, ...]], int]:
    """Every answer and the audit log's length: what a refused upload must leave as it was."""
    with Session(app.state.engine) as session:
        answers = [
            (
                a.assessment_id,
                a.criterion_id,
                a.level,
                a.not_applicable,
                a.justification,
                a.comment,
                a.revision,
            )
            for a in session.exec(select(Answer).order_by(Answer.id))
        ]
        return answers, len(session.exec(select(AuditEntry)).all())


def kept_uploads(app: FastAPI) -> list[Path]:
    folder = app.state.settings.data_dir / "workbooks"
    return sorted(folder.glob("*.xlsx")) if folder.exists() else []


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def draft(app: FastAPI, client: TestClient) -> int:
    """A signed-in director's draft of the full questionnaire, DEO-01 answered at level 2."""
    structure_id = director(app)
    sign_in(client)
    assessment = start(client, structure_id)
    assert answer(client, assessment, "DEO-01", "2", commentaire="Charte en cours").status_code == 303
    return assessment


# --- The workbook as downloaded ----------------------------------------------------------------


@pytest.mark.sqlite_only
def test_the_workbook_lists_the_applicable_questions_with_answers_dropdown_and_hidden_columns(
    client: TestClient, draft: int
) -> None:
    book = download(client, draft)
    assert book.sheetnames == ["Instructions", "Questionnaire", "Listes", "Signature"]
    assert book["Signature"].sheet_state == "hidden"
    sheet = book["Questionnaire"]
    assert [c.value for c in sheet[1]][:4] == ["Section", "Critère", "Question", "Niveau"]
    assert sheet.max_row - 1 == 76  # the applicable questions of the full questionnaire, as on the web
    row = sheet[line_of(book, "DEO-01")]
    assert row[workbook.LEVEL].value == "2 — Partiel"
    assert row[workbook.COMMENT].value == "Charte en cours"
    assert row[workbook.REVISION].value == 1
    assert sheet.freeze_panes == "A2"
    assert sheet.protection.sheet
    assert not row[workbook.LEVEL].protection.locked
    assert row[workbook.QUESTION].protection.locked
    assert hidden_columns(sheet) == {10, 11, 12, 13, 14}  # J to N
    assert [c.value for c in sheet[1]][9:] == ["critere_id", "revision", "reprise", "empreinte", "signature"]
    lists = level_lists(sheet)
    assert sorted(lists) == list(range(2, 78))
    assert lists[line_of(book, "PRO-02")] == "Listes!$A$1:$A$5"
    # Criteria version 1.1.0 refuses N/A on deontology and critical criteria: no « Non applicable » there.
    assert lists[line_of(book, "DEO-01")] == "Listes!$A$1:$A$4"
    assert set(lists.values()) == {"Listes!$A$1:$A$4", "Listes!$A$1:$A$5"}
    assert [c.value for c in book["Listes"]["A"]] == [
        "0 — Absent",
        "1 — En projet",
        "2 — Partiel",
        "3 — En place et formalisé",
        "Non applicable",
    ]
    instructions = " ".join(str(c.value) for c in book["Instructions"]["A"] if c.value)
    assert "Médiation Lille Sud" in instructions
    assert "Non applicable" in instructions


@pytest.mark.sqlite_only
def test_a_text_that_looks_like_a_formula_goes_out_and_back_as_text(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    assert (
        answer(client, draft, "PRO-02", "1", commentaire='=HYPERLINK("http://x.example")').status_code == 303
    )
    book = download(client, draft)
    cell = book["Questionnaire"].cell(line_of(book, "PRO-02"), workbook.COMMENT + 1)
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x.example")', "s")
    _location, page = preview_of(client, draft, saved_bytes(book))
    assert "Ce classeur ne change aucune réponse." in readable(page)


def test_an_unjustified_na_saved_on_the_web_reads_back_unchanged_but_cannot_be_written(
    client: TestClient, draft: int
) -> None:
    assert answer(client, draft, "PRO-02", "na").status_code == 303  # the web lets it wait for its reason
    book = download(client, draft)
    _location, page = preview_of(client, draft, saved_bytes(book))
    assert "Ce classeur ne change aucune réponse." in readable(page)
    fill(book, "PRO-02", comment="On verra")
    response = upload(client, draft, saved_bytes(book))
    assert response.status_code == 422
    assert "colonne E : « Non applicable » demande une justification." in text(response)


def test_a_submitted_assessment_has_no_workbook(app: FastAPI, client: TestClient) -> None:
    structure_id = director(app)
    sign_in(client)
    assessment = start(client, structure_id, "express")
    with Session(app.state.engine) as session:
        row = session.get(Assessment, assessment)
        assert row is not None
        row.status = AssessmentStatus.SUBMITTED
        session.add(row)
        session.commit()
    assert client.get(f"/autoevaluations/{assessment}/classeur.xlsx").status_code == 409
    assert client.get(f"/autoevaluations/{assessment}/classeur").status_code == 409


# --- The round trip ----------------------------------------------------------------------------


def test_a_filled_workbook_is_previewed_then_applied_in_one_go(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    book = download(client, draft)
    fill(book, "DEO-01", level="3 — En place et formalisé", comment="Charte signée par tous")
    fill(book, "PRO-02", level="Non applicable", justification="Pas de public mineur")
    fill(book, "DEO-03", level=1)  # typed as a number, as a spreadsheet stores it
    audits_before = state(app)[1]

    location, page = preview_of(client, draft, saved_bytes(book))
    shown = readable(page)
    assert "Nouvelles réponses : 2 · réponses modifiées : 1 · conflits : 0 · inchangées : 73." in shown
    assert "Charte signée par tous" in shown
    assert state(app)[1] == audits_before  # a preview writes nothing

    response = confirm(client, location, page)
    assert response.status_code == 303
    assert response.headers["location"] == f"/autoevaluations/{draft}/classeur?enregistrees=3"
    assert "3 réponses du classeur ont été enregistrées." in text(client.get(response.headers["location"]))
    first, second, third = (saved(app, draft, c) for c in ("DEO-01", "PRO-02", "DEO-03"))
    assert (first.level, first.comment, first.revision) == (3, "Charte signée par tous", 2)  # type: ignore[union-attr]
    assert (second.not_applicable, second.justification) == (True, "Pas de public mineur")  # type: ignore[union-attr]
    assert third.level == 1  # type: ignore[union-attr]
    with Session(app.state.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))][audits_before:]
    assert actions == ["answer.workbook"] * 3 + ["assessment.workbook_import"]
    assert kept_uploads(app) == []
    assert client.get(location).status_code == 404  # applied once, never twice


@pytest.mark.sqlite_only
def test_an_english_workbook_round_trips_too(app: FastAPI, client: TestClient, draft: int) -> None:
    client.cookies.set("autodiag_langue", "en")
    book = download(client, draft)
    assert book["Listes"]["A5"].value == "Not applicable"
    assert book["Questionnaire"]["D1"].value == "Level"
    fill(book, "PRO-02", level="Not applicable", justification="No minors")
    location, page = preview_of(client, draft, saved_bytes(book))
    assert "New answers: 1" in readable(page)
    assert confirm(client, location, page).status_code == 303
    assert saved(app, draft, "PRO-02").not_applicable  # type: ignore[union-attr]


def test_a_row_left_as_exported_changes_nothing_even_after_a_web_change(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    book = download(client, draft)
    assert answer(client, draft, "DEO-01", "3", revision=1).status_code == 303
    _location, page = preview_of(client, draft, saved_bytes(book))
    assert "Ce classeur ne change aucune réponse." in readable(page)
    assert "Enregistrer ces changements" not in page
    assert saved(app, draft, "DEO-01").level == 3  # type: ignore[union-attr]


def test_conflicts_keep_the_web_answer_unless_the_director_keeps_the_workbooks(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    book = download(client, draft)
    assert answer(client, draft, "DEO-01", "3", revision=1, commentaire="Sur le site").status_code == 303
    assert answer(client, draft, "PRO-02", "1", commentaire="Sur le site").status_code == 303
    fill(book, "DEO-01", level=0, comment="Dans le classeur")
    fill(book, "PRO-02", level=2, comment="Dans le classeur")
    location, page = preview_of(client, draft, saved_bytes(book))
    assert "conflits : 2" in readable(page)
    assert 'name="garder" value="PRO-02"' in page

    assert confirm(client, location, page, keep=["PRO-02"]).status_code == 303
    assert (saved(app, draft, "DEO-01").level, saved(app, draft, "DEO-01").comment) == (3, "Sur le site")  # type: ignore[union-attr]
    assert (saved(app, draft, "PRO-02").level, saved(app, draft, "PRO-02").comment) == (2, "Dans le classeur")  # type: ignore[union-attr]


def test_an_answer_changed_after_the_preview_stops_the_confirmation(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    book = download(client, draft)
    fill(book, "DEO-01", level=3)
    fill(book, "PRO-02", level=1)
    location, page = preview_of(client, draft, saved_bytes(book))
    assert answer(client, draft, "DEO-01", "0", revision=1).status_code == 303
    before = state(app)

    response = confirm(client, location, page)
    assert response.status_code == 409
    shown = text(response)
    assert "Des réponses ont changé sur le site depuis l'aperçu" in shown
    assert "conflits : 1" in shown  # the preview as it is now
    assert state(app) == before
    assert confirm(client, location, response.text).status_code == 303  # confirmed on the new preview
    assert saved(app, draft, "DEO-01").level == 0  # type: ignore[union-attr]
    assert saved(app, draft, "PRO-02").level == 1  # type: ignore[union-attr]


def test_choosing_a_level_confirms_a_carried_answer_and_a_comment_alone_does_not(
    app: FastAPI, client: TestClient
) -> None:
    structure_id = director(app)
    sign_in(client)
    first = start(client, structure_id)
    answer(client, first, "DEO-01", "2")
    answer(client, first, "PRO-02", "1")
    second = start(client, structure_id, depuis=first)
    book = download(client, second)
    row = book["Questionnaire"][line_of(book, "DEO-01")]
    assert row[workbook.LEVEL].value is None  # shown, not pre-selected
    assert "Reprise de l'autoévaluation précédente : 2 — Partiel" in row[workbook.STATE].value
    fill(book, "DEO-01", level="2 — Partiel")
    fill(book, "PRO-02", comment="À revoir en équipe")
    location, page = preview_of(client, second, saved_bytes(book))
    assert "confirme la réponse reprise" in page
    assert confirm(client, location, page).status_code == 303
    confirmed, commented = saved(app, second, "DEO-01"), saved(app, second, "PRO-02")
    assert (confirmed.level, confirmed.carried_over) == (2, False)  # type: ignore[union-attr]
    assert (commented.level, commented.comment, commented.carried_over) == (1, "À revoir en équipe", True)  # type: ignore[union-attr]


# --- Refused workbooks -------------------------------------------------------------------------


def tamper_revision(book: Workbook) -> None:
    book["Questionnaire"].cell(line_of(book, "DEO-01"), workbook.REVISION + 1, 7)


def add_unknown_row(book: Workbook) -> None:
    sheet = book["Questionnaire"]
    sheet.cell(sheet.max_row + 1, workbook.CRITERION + 1, "DEO-99")
    sheet.cell(sheet.max_row, workbook.LEVEL + 1, 2)


def other_questionnaire_version(book: Workbook, key: str) -> None:
    """The signature sheet of a workbook made for an earlier questionnaire version, signed by this app."""
    sheet = book["Signature"]
    meta = {row[0].value: row[1].value for row in sheet.iter_rows()}
    meta["questionnaire"] = "full@0.9.0"
    meta["signature"] = workbook.meta_mac(key, meta)
    for row in sheet.iter_rows():
        row[1].value = meta[row[0].value]


def duplicate_row(book: Workbook) -> None:
    sheet = book["Questionnaire"]
    copied = [cell.value for cell in sheet[line_of(book, "DEO-01")]]
    for column, value in enumerate(copied, start=1):
        sheet.cell(sheet.max_row + (1 if column == 1 else 0), column, value)


def forged_signature_sheet(book: Workbook) -> None:
    for row in book["Signature"].iter_rows():
        if row[0].value == "assessment":
            row[1].value = "999"


ROW_CASES = {
    "a duplicated row": (
        lambda book, _key: duplicate_row(book),
        "ligne 78, colonne B : le critère DEO-01 figure déjà ligne 2.",
    ),
    "a column inserted": (
        lambda book, _key: book["Questionnaire"].insert_cols(3),
        "ligne 1, colonne J : des colonnes ont été ajoutées, supprimées ou déplacées.",
    ),
    "a forged signature sheet": (
        lambda book, _key: forged_signature_sheet(book),
        "La feuille « Signature » de ce classeur a été modifiée",
    ),
    "unknown level": (
        lambda book, _key: fill(book, "DEO-01", level=4),
        "colonne D : niveau « 4 » inconnu.",
    ),
    "unknown level text": (
        lambda book, _key: fill(book, "DEO-01", level="Excellent"),
        "colonne D : niveau « Excellent » inconnu.",
    ),
    "n/a without justification": (
        lambda book, _key: fill(book, "PRO-02", level="Non applicable"),
        "colonne E : « Non applicable » demande une justification.",
    ),
    "n/a on a deontology principle": (
        lambda book, _key: fill(book, "DEO-03", level="Non applicable", justification="Sans objet ici"),
        "colonne D : Ce critère ne peut pas être déclaré non applicable",
    ),
    "unknown criterion": (
        lambda book, _key: add_unknown_row(book),
        "ligne 78, colonne B : critère « DEO-99 » inconnu",
    ),
    "tampered hidden column": (
        lambda book, _key: tamper_revision(book),
        "ligne 2, colonne J : les colonnes cachées (J–N) de cette ligne ont été modifiées",
    ),
    "formula where a value is expected": (
        lambda book, _key: fill(book, "DEO-03", level="=1+1"),
        "ligne 4, colonne D : une formule n'est pas acceptée ici",
    ),
    "formula in a comment": (
        lambda book, _key: fill(book, "DEO-03", comment='=CONCATENATE("a";"b")'),
        "ligne 4, colonne F : une formule n'est pas acceptée ici",
    ),
    "other questionnaire version": (
        other_questionnaire_version,
        "Ce classeur a été fait pour le questionnaire full@0.9.0, cette autoévaluation suit full@1.1.0",
    ),
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("case", list(ROW_CASES))
def test_an_invalid_workbook_lists_where_and_why_and_applies_nothing(
    app: FastAPI, client: TestClient, draft: int, case: str
) -> None:
    spoil, message = ROW_CASES[case]
    book = download(client, draft)
    fill(book, "DEO-05", level=3)  # a valid change beside the bad one: not applied either
    spoil(book, secret_key(app.state.settings))
    before = state(app)
    response = upload(client, draft, saved_bytes(book))
    assert response.status_code == 422
    shown = text(response)
    assert "Le classeur n'a pas été accepté : rien n'a été enregistré" in shown
    assert message in shown
    if "colonne" in message:
        assert "Feuille Questionnaire, ligne" in shown
    assert state(app) == before
    assert kept_uploads(app) == []


@pytest.mark.sqlite_only
def test_the_workbook_of_another_assessment_is_refused(app: FastAPI, client: TestClient, draft: int) -> None:
    other = start(client, _structure_of(app, draft), second=True)
    book = download(client, other)
    fill(book, "DEO-01", level=1)
    before = state(app)
    response = upload(client, draft, saved_bytes(book))
    assert response.status_code == 422
    assert f"Ce classeur est celui d'une autre autoévaluation (n° {other})" in text(response)
    assert state(app) == before


def _structure_of(app: FastAPI, assessment_id: int) -> int:
    with Session(app.state.engine) as session:
        found = session.get(Assessment, assessment_id)
        assert found is not None
        return found.structure_id


def zip_bomb() -> bytes:
    """An XLSX-looking zip whose sheet inflates to 64 MB of zeros (about 64 KB compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(64):
                member.write(block)
    return buffer.getvalue()


def lying_sizes(content: bytes) -> bytes:
    """A real workbook whose sheet member inflates to 32 MB more than its zip headers declare."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    sheet = "xl/worksheets/sheet2.xml"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            archive.writestr(
                info.filename, data + b" " * (32 * 1024 * 1024) if info.filename == sheet else data
            )
    declared, actual = len(source.read(sheet)), len(source.read(sheet)) + 32 * 1024 * 1024
    patched = buffer.getvalue().replace(actual.to_bytes(4, "little"), declared.to_bytes(4, "little"))
    assert patched != buffer.getvalue()
    return patched


def opendocument() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


FILE_CASES = {
    "a PDF renamed .xlsx": (
        (FILES / "charte.pdf").read_bytes(),
        422,
        "n'est pas un classeur Excel (.xlsx) lisible",
    ),
    "random bytes": (os.urandom(5000), 422, "n'est pas un classeur Excel (.xlsx) lisible"),
    "an OpenDocument spreadsheet": (opendocument(), 422, "n'est pas un classeur Excel (.xlsx) lisible"),
    "an empty file": (b"", 422, "Le fichier est vide"),
    "oversize": (os.urandom(2 * 1024 * 1024 + 1), 413, "Le classeur dépasse la taille maximale de 2 Mo."),
    "a zip bomb": (zip_bomb(), 422, "il est refusé sans être ouvert"),
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("case", list(FILE_CASES))
def test_a_file_that_is_no_workbook_is_refused_before_reading(
    app: FastAPI, client: TestClient, draft: int, case: str
) -> None:
    content, status, message = FILE_CASES[case]
    before = state(app)
    response = upload(client, draft, content)
    assert response.status_code == status
    assert message in text(response)
    assert state(app) == before
    assert kept_uploads(app) == []


@pytest.mark.sqlite_only
def test_zip_headers_that_lie_about_sizes_stop_the_reading_at_the_declared_size(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    book = download(client, draft)
    fill(book, "DEO-05", level=3)
    before = state(app)
    response = upload(client, draft, lying_sizes(saved_bytes(book)))
    assert response.status_code == 422
    assert "n'est pas un classeur Excel (.xlsx) lisible" in text(response)
    assert state(app) == before


@pytest.mark.sqlite_only
def test_an_upload_without_a_file_asks_for_one(client: TestClient, draft: int) -> None:
    response = post(client, f"/autoevaluations/{draft}/classeur", {})
    assert response.status_code == 422
    assert "Choisissez le classeur rempli à déposer" in text(response)


def test_an_unknown_or_expired_preview_is_404(app: FastAPI, client: TestClient, draft: int) -> None:
    assert client.get(f"/autoevaluations/{draft}/classeur/{'x' * 32}").status_code == 404
    location, _page = preview_of(client, draft, saved_bytes(download(client, draft)))
    (kept,) = kept_uploads(app)
    os.utime(kept, (0, 0))
    assert client.get(location).status_code == 404


# --- LibreOffice as the client -----------------------------------------------------------------


def libreoffice_resave(folder: Path, *files: Path) -> list[Path]:
    """Convert `files` to XLSX with LibreOffice (one call), as it writes them when a user saves."""
    out = folder / "out"
    profile = folder / "lo-profile"
    command = [
        "soffice",
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(out),
        *map(str, files),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    converted = [out / file.name for file in files]
    assert all(path.is_file() for path in converted), (done.stdout, done.stderr)
    return converted


@pytest.mark.sqlite_only
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (make report-deps)")
def test_a_workbook_resaved_by_libreoffice_imports_hidden_columns_and_all(
    app: FastAPI, client: TestClient, draft: int, database_kind: str, tmp_path: Path
) -> None:
    if database_kind != "sqlite":
        pytest.skip("LibreOffice is slow: its round trip runs on one database")
    exported = download(client, draft)
    pristine = tmp_path / "export.xlsx"
    pristine.write_bytes(saved_bytes(exported))
    pristine_book = load_workbook(pristine)
    fill(exported, "DEO-01", level="3 — En place et formalisé", comment="Relu en équipe\nle 3 mars")
    fill(exported, "PRO-02", level="Non applicable", justification="Aucun mineur accueilli")
    edited = tmp_path / "rempli.xlsx"
    edited.write_bytes(saved_bytes(exported))

    converted_export, converted = libreoffice_resave(tmp_path, pristine, edited)
    assert load_workbook(converted_export)["Questionnaire"].max_row == 77  # the export opens as it is
    resaved = load_workbook(converted)
    sheet = resaved["Questionnaire"]
    assert resaved["Signature"].sheet_state == "hidden"
    assert hidden_columns(sheet) == {10, 11, 12, 13, 14}
    assert resaved["Listes"].sheet_state == "hidden"
    assert sheet.protection.sheet
    assert level_lists(sheet) == level_lists(pristine_book["Questionnaire"])

    location, page = preview_of(client, draft, converted.read_bytes())
    assert "Nouvelles réponses : 1 · réponses modifiées : 1 · conflits : 0" in readable(page)
    assert confirm(client, location, page).status_code == 303
    first, second = saved(app, draft, "DEO-01"), saved(app, draft, "PRO-02")
    assert (first.level, first.comment) == (3, "Relu en équipe\nle 3 mars")  # type: ignore[union-attr]
    assert (second.not_applicable, second.justification) == (True, "Aucun mineur accueilli")  # type: ignore[union-attr]
