"""Reading an uploaded workbook back: size and zip checks first, then every row, or the list of errors.

The file is untrusted. It is read into memory up to `MAX_BYTES` and refused as soon as it passes
them; its zip directory is inspected (members, declared sizes, compression ratios) before any
member is inflated, so a zip bomb is refused without being expanded (Python's zip reader stops at
the declared size); only then does openpyxl read it, in read-only mode and without computing
formulas, so that a formula is seen as one and refused where a value is expected. Every problem
is reported with its sheet, row and column, all at once.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any, BinaryIO

from app.assessments import workbook, workbook_rows
from app.assessments.models import Assessment
from app.errors import ServiceError
from app.locale import format_size
from app.locale import gettext as _

MAX_BYTES = 2 * 1024 * 1024
MAX_MEMBERS = 64
MAX_UNCOMPRESSED = 10 * 1024 * 1024
MAX_RATIO = 100
"""Inflated size over compressed size allowed for a member above `RATIO_FROM` (XML rarely passes 20)."""
RATIO_FROM = 1024 * 1024
MAX_ROWS = 1000
MAX_ERRORS = 100
CHUNK = 64 * 1024


class WorkbookError(ServiceError):
    """A workbook refused as a whole or row by row; `errors` lists every problem found."""

    def __init__(self, errors: Sequence[str], *, status: int = 422) -> None:
        self.errors = list(errors)
        super().__init__(self.errors[0] if self.errors else "", status=status)


def not_a_workbook() -> WorkbookError:
    return WorkbookError(
        [
            _(
                "Ce fichier n'est pas un classeur Excel (.xlsx) lisible. Déposez le classeur téléchargé "
                "depuis cette page, enregistré au format .xlsx (Excel ou LibreOffice)."
            )
        ]
    )


def read_upload(stream: BinaryIO) -> bytes:
    """The uploaded bytes, refused (413) as soon as they pass `MAX_BYTES`."""
    chunks, size = [], 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > MAX_BYTES:
            raise WorkbookError([too_large()], status=413)
        chunks.append(chunk)
    if size == 0:
        raise WorkbookError([_("Le fichier est vide : choisissez le classeur rempli.")])
    return b"".join(chunks)


def too_large() -> str:
    return _("Le classeur dépasse la taille maximale de %(size)s.") % {"size": format_size(MAX_BYTES)}


def check_archive(data: bytes) -> None:
    """Refuse what is not an XLSX zip, or would inflate beyond the limits, before inflating anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise not_a_workbook() from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise not_a_workbook()
    total = sum(member.file_size for member in members)
    inflating = any(
        member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if len(members) > MAX_MEMBERS or total > MAX_UNCOMPRESSED or inflating:
        raise WorkbookError(
            [
                _(
                    "Ce classeur se décompresse en bien plus que ce qu'un questionnaire contient "
                    "(%(size)s au plus) : il est refusé sans être ouvert."
                )
                % {"size": format_size(MAX_UNCOMPRESSED)}
            ]
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise not_a_workbook()


def read(
    data: bytes,
    *,
    assessment: Assessment,
    key: str,
    asked: Sequence[str],
    refuses_na: frozenset[str] = frozenset(),
) -> list[workbook_rows.Row]:
    """The workbook's rows if the whole file is valid for `assessment`; else `WorkbookError` with all problems.

    `refuses_na`: the criteria the version lets only the profile set aside (never « Non applicable »)."""
    check_archive(data)
    try:
        from openpyxl import load_workbook  # imported on use: openpyxl costs start-up time

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds of errors on a malformed file: all mean the same here
        raise not_a_workbook() from None
    try:
        _check_signature(book, assessment, key)
        if workbook.QUESTIONS_SHEET not in book.sheetnames:
            raise WorkbookError([_("La feuille « Questionnaire » manque dans ce classeur.")])
        sheet = book[workbook.QUESTIONS_SHEET]
        reader = workbook_rows.Reader(
            sheet.title, assessment_id=assessment.id or 0, key=key, asked=set(asked), refuses_na=refuses_na
        )
        rows = sheet.iter_rows(min_row=1, max_row=MAX_ROWS + 1, max_col=len(workbook.COLUMNS))
        for line, cells in enumerate(rows, start=1):
            reader.take(line, cells)
            if len(reader.errors) >= MAX_ERRORS:
                break
        if (sheet.max_row or 0) > MAX_ROWS + 1:
            reader.errors.append(
                _("La feuille « Questionnaire » a plus de %(count)d lignes.") % {"count": MAX_ROWS}
            )
    except WorkbookError:
        raise
    except Exception:  # a sheet openpyxl cannot read through (broken XML, unexpected parts)
        raise not_a_workbook() from None
    finally:
        book.close()
    if reader.errors:
        raise WorkbookError(reader.errors)
    return reader.rows


def _check_signature(book: Any, assessment: Assessment, key: str) -> None:
    """The sheet « Signature »: this assessment, its versions, signed by this app."""
    if workbook.SIGNATURE_SHEET not in book.sheetnames:
        raise WorkbookError(
            [_("Ce classeur n'a pas été téléchargé depuis le site : sa feuille « Signature » manque.")]
        )
    meta = {}
    for cells in book[workbook.SIGNATURE_SHEET].iter_rows(max_row=20, max_col=2, values_only=True):
        if cells and isinstance(cells[0], str):
            meta[cells[0]] = str(cells[1]) if len(cells) > 1 and cells[1] is not None else ""
    names = (*workbook.META_KEYS, "exported_at", "signature")
    if any(name not in meta for name in names) or not workbook_rows.same(
        workbook.meta_mac(key, meta), meta["signature"]
    ):
        raise WorkbookError(
            [_("La feuille « Signature » de ce classeur a été modifiée : téléchargez-en un nouveau.")]
        )
    if meta["assessment"] != str(assessment.id):
        raise WorkbookError(
            [
                _(
                    "Ce classeur est celui d'une autre autoévaluation (n° %(other)s) : téléchargez celui "
                    "de cette autoévaluation."
                )
                % {"other": meta["assessment"]}
            ]
        )
    expected = (
        assessment.questionnaire_ref,
        assessment.questionnaire_sha256,
        assessment.criteria_ref,
        assessment.criteria_sha256,
    )
    if (
        meta["questionnaire"],
        meta["questionnaire_sha256"],
        meta["criteria"],
        meta["criteria_sha256"],
    ) != expected:
        raise WorkbookError(
            [
                _(
                    "Ce classeur a été fait pour le questionnaire %(found)s, cette autoévaluation suit "
                    "%(expected)s : téléchargez un nouveau classeur."
                )
                % {"found": meta["questionnaire"], "expected": assessment.questionnaire_ref}
            ]
        )
