"""Writing the offline workbook of a draft, pre-filled with its answers (format: `workbook.py`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.assessments import service
from app.assessments.models import AnswerRow, Assessment, Loaded
from app.assessments.service import Bound
from app.assessments.workbook import (
    EDITABLE,
    FORMAT,
    HIDDEN,
    ID,
    INSTRUCTIONS_SHEET,
    LEVEL,
    LISTS_SHEET,
    QUESTIONS_SHEET,
    SIGNATURE,
    SIGNATURE_SHEET,
    WIDTHS,
    column_letter,
    digest,
    level_choices,
    level_token,
    meta_mac,
    row_mac,
    text_of,
)
from app.assessments.workbook_instructions import write_instructions
from app.catalog.models import CriteriaVersion, Criterion, Question, Section
from app.catalog.service import Catalog
from app.locale import gettext as _
from app.scoring.plan import holds
from app.structures.models import Structure

if TYPE_CHECKING:  # openpyxl is imported where a workbook is built: it costs start-up time
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet


@dataclass(frozen=True)
class Export:
    """What the workbook is built from, all read by the caller."""

    assessment: Assessment
    structure: Structure
    bound: Bound
    profile: dict[str, Any]
    loaded: Loaded
    key: str


def applicable_questions(export: Export) -> list[tuple[Section, Question, Criterion]]:
    """The questions the structure's profile makes applicable, in the questionnaire's order."""
    version = export.bound.criteria
    return [
        (section, question, criterion)
        for section in export.bound.questionnaire.sections
        for question in section.questions
        if (criterion := version.by_id[question.criterion]).applies_if is None
        or holds(criterion.applies_if, export.profile)
    ]


def export(session: Session, *, catalog: Catalog, assessment: Assessment, key: str) -> bytes:
    """The workbook of a draft, pre-filled with its answers as they are now."""
    service.check_draft(assessment)
    structure = service.structure_of(session, assessment)
    profile = service.profile_of(assessment, structure)
    loaded = service.load(session, assessment)
    return build(Export(assessment, structure, service.bound(catalog, assessment), profile, loaded, key))


def build(export: Export) -> bytes:
    """The workbook's bytes: instructions, the questionnaire, the lists and the signature."""
    from openpyxl import Workbook

    book = Workbook()
    instructions = book.active
    assert instructions is not None
    instructions.title = INSTRUCTIONS_SHEET
    write_instructions(instructions, structure=export.structure, bound=export.bound)
    questions = book.create_sheet(QUESTIONS_SHEET)
    lists = book.create_sheet(LISTS_SHEET)
    for number, choice in enumerate(level_choices(export.bound.criteria), start=1):
        lists.cell(number, 1, choice)
    lists.sheet_state = "hidden"
    _questions(questions, export)
    signature = book.create_sheet(SIGNATURE_SHEET)
    _signature(signature, export)
    signature.sheet_state = "hidden"
    book.active = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _questions(sheet: Worksheet, export: Export) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill, Protection

    headers = (
        _("Section"),
        _("Critère"),
        _("Question"),
        _("Niveau"),
        _("Justification de la non-applicabilité"),
        _("Commentaire"),
        _("Preuves jointes (sur le site)"),
        _("Ce que veut dire chaque niveau"),
        _("État"),
        *HIDDEN,
    )
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    refusing_na: list[int] = []
    for section, question, criterion in applicable_questions(export):
        sheet.append(_row(export, section, question, criterion))
        if not export.bound.criteria.allows_na(criterion):
            refusing_na.append(sheet.max_row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a text the director typed, never a formula (nor an injected one)
    last = sheet.max_row
    wrap, unlocked = Alignment(wrap_text=True, vertical="top"), Protection(locked=False)
    for row in sheet.iter_rows(min_row=2, max_row=last):
        for cell in row:
            cell.alignment = wrap
        for index in EDITABLE:
            row[index].protection = unlocked
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[column_letter(index)].width = width
    sheet.column_dimensions.group(column_letter(ID), column_letter(SIGNATURE), hidden=True)
    sheet.freeze_panes = "A2"
    _level_dropdowns(sheet, export.bound.criteria, last, refusing_na=refusing_na)
    # Protected without a password: it says which cells are meant to change, and resizing stays allowed.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _row(export: Export, section: Section, question: Question, criterion: Criterion) -> list[object]:
    answer = export.loaded.answers.get(criterion.id)
    carried = bool(answer and answer.carried_over)
    # A carried answer is shown, not pre-selected: choosing its level is what confirms it.
    token = "" if carried else level_token(answer)
    justification = text_of(answer.justification if answer else "")
    comment = text_of(answer.comment if answer else "")
    revision = answer.revision if answer else 0
    values = digest(token, justification, comment)
    signature = row_mac(
        export.key,
        assessment_id=_id(export),
        criterion_id=criterion.id,
        revision=revision,
        carried=int(carried),
        values=values,
    )
    titles = [piece.title for _link, piece in export.loaded.links.get(criterion.id, ())]
    version = export.bound.criteria
    return [
        section.title,
        criterion.id,
        question.text,
        _choice(version, token) or None,
        justification or None,
        comment or None,
        "\n".join(titles) or None,
        "\n".join(
            f"{s.level} — {s.label} : {criterion.levels.get(s.level, s.description)}" for s in version.scale
        ),
        _state(version, criterion, answer) or None,
        criterion.id,
        revision,
        int(carried),
        values,
        signature,
    ]


def _choice(version: CriteriaVersion, level: str) -> str:
    """The dropdown entry of a level given as « 0 »…« 3 », « na » or «  »."""
    if level == "na":
        return _("Non applicable")
    return level_choices(version)[int(level)] if level else ""


def _state(version: CriteriaVersion, criterion: Criterion, answer: AnswerRow | None) -> str:
    lines = [_("Critère critique")] if criterion.critical else []
    if answer and answer.carried_over:
        said = _choice(version, level_token(answer)) or _("pas de niveau")
        lines.append(
            _("Reprise de l'autoévaluation précédente : %(answer)s. Choisissez le niveau pour la confirmer.")
            % {"answer": said}
        )
    return "\n".join(lines)


def _level_dropdowns(
    sheet: Worksheet, version: CriteriaVersion, last: int, *, refusing_na: list[int]
) -> None:
    """The level lists: every choice, or all but « Non applicable » (the last) where the criterion refuses it."""
    count = len(level_choices(version))
    refused = set(refusing_na)
    everything = _level_validation(
        f"{LISTS_SHEET}!$A$1:$A${count}",
        _("Choisissez un niveau de 0 à 3, ou « Non applicable », dans la liste."),
    )
    levels_only = _level_validation(
        f"{LISTS_SHEET}!$A$1:$A${count - 1}",
        _(
            "Choisissez un niveau de 0 à 3 dans la liste : ce critère ne peut pas être déclaré non applicable."
        ),
    )
    for validation, rows in (
        (everything, [row for row in range(2, last + 1) if row not in refused]),
        (levels_only, sorted(refused)),
    ):
        for first, final in _runs(rows):
            validation.add(f"{column_letter(LEVEL)}{first}:{column_letter(LEVEL)}{final}")
        if rows:
            sheet.add_data_validation(validation)


def _level_validation(choices: str, error: str) -> DataValidation:
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(
        type="list",
        formula1=choices,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle=_("Niveau inconnu"),
        error=error,
        promptTitle=_("Niveau"),
        prompt=_("Choisissez dans la liste."),
    )


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers as (first, last) pairs: a short range list however the rows interleave."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _id(export: Export) -> int:
    assert export.assessment.id is not None
    return export.assessment.id


def metadata(export: Export, exported_at: datetime) -> dict[str, str]:
    """The values the sheet « Signature » records, signed together."""
    assessment = export.assessment
    meta = {
        "format": FORMAT,
        "assessment": str(_id(export)),
        "questionnaire": assessment.questionnaire_ref,
        "questionnaire_sha256": assessment.questionnaire_sha256,
        "criteria": assessment.criteria_ref,
        "criteria_sha256": assessment.criteria_sha256,
        "exported_at": exported_at.isoformat(timespec="seconds"),
    }
    return meta | {"signature": meta_mac(export.key, meta)}


def _signature(sheet: Worksheet, export: Export) -> None:
    for name, value in metadata(export, datetime.now(UTC)).items():
        sheet.append([name, value])
    sheet.protection.sheet = True
