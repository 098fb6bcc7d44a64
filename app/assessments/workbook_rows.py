"""The rows of the sheet « Questionnaire » read one by one: what each says, or where it is wrong.

Only the editable cells (level, justification, comment) and the hidden ones are read; the others
are shown to the director and ignored here. A row's hidden cells must carry the signature the
export gave them (`workbook.row_mac`), so a tampered or invented row is caught, not misread.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any

from app.assessments import workbook
from app.assessments.models import TEXT_MAX
from app.assessments.service import NA_REFUSED
from app.locale import gettext as _

LEVEL_PATTERN = re.compile(r"([0-3])(?:\s*[—–:.-].*)?", re.DOTALL)
NOT_APPLICABLE_WORDS = {"na", "n/a", "n.a.", "non applicable", "not applicable"}
SIGNED = range(workbook.ID, workbook.SIGNATURE + 1)


@dataclass(frozen=True)
class Row:
    """One row of the sheet as the director left it, with what its hidden columns say."""

    line: int
    criterion_id: str
    base_revision: int
    carried: bool
    edited: bool
    """Its editable values differ from those exported."""
    level: int | None
    not_applicable: bool
    level_given: bool
    justification: str
    comment: str


@dataclass(frozen=True)
class _Hidden:
    criterion_id: str
    revision: int
    carried: bool
    exported: str


def same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


class Reader:
    """Collects the rows of one sheet and every problem found, each with its row and column."""

    def __init__(
        self, sheet: str, *, assessment_id: int, key: str, asked: set[str], refuses_na: frozenset[str]
    ) -> None:
        self.sheet, self.assessment_id, self.key, self.asked = sheet, assessment_id, key, asked
        self.refuses_na = refuses_na
        self.rows: list[Row] = []
        self.errors: list[str] = []
        self.seen: dict[str, int] = {}

    def error(self, line: int, column: int, problem: str) -> None:
        self.errors.append(
            _("Feuille %(sheet)s, ligne %(line)d, colonne %(column)s : %(problem)s")
            % {
                "sheet": self.sheet,
                "line": line,
                "column": workbook.column_letter(column),
                "problem": problem,
            }
        )

    def take(self, line: int, cells: tuple[Any, ...]) -> None:
        """Read one row (the first is the header)."""
        if line == 1:
            found = tuple(cell.value for cell in cells[workbook.ID :])
            if found != workbook.HIDDEN:
                self.error(1, workbook.ID, _("des colonnes ont été ajoutées, supprimées ou déplacées."))
            return
        if all(cell.value in (None, "") for cell in cells) or self._formula(line, cells):
            return  # an empty row says nothing; a formula is reported
        hidden = self._hidden(line, cells)
        values = self._values(line, cells)
        if hidden is None or values is None:
            return
        level, justification, comment = values
        edited = workbook.digest(level, justification, comment) != hidden.exported
        # As exported, an unjustified N/A saved on the web reads back unchanged; written here, it is refused.
        if edited and level == "na" and not justification:
            self.error(line, workbook.JUSTIFICATION, _("« Non applicable » demande une justification."))
            return
        if edited and level == "na" and hidden.criterion_id in self.refuses_na:
            self.error(line, workbook.LEVEL, _(NA_REFUSED))
            return
        self.rows.append(
            Row(
                line=line,
                criterion_id=hidden.criterion_id,
                base_revision=hidden.revision,
                carried=hidden.carried,
                edited=edited,
                level=int(level) if level not in ("", "na") else None,
                not_applicable=level == "na",
                level_given=level != "",
                justification=justification,
                comment=comment,
            )
        )

    def _formula(self, line: int, cells: tuple[Any, ...]) -> bool:
        from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula  # kept out of start-up

        for index in (*workbook.EDITABLE, *SIGNED):
            cell = cells[index]
            if getattr(cell, "data_type", None) == "f" or isinstance(
                cell.value, ArrayFormula | DataTableFormula
            ):
                self.error(line, index, _("une formule n'est pas acceptée ici : saisissez une valeur."))
                return True
        return False

    def _values(self, line: int, cells: tuple[Any, ...]) -> tuple[str, str, str] | None:
        """The level (« 0 »…« 3 », « na » or «  »), justification and comment, if valid."""
        level = _level(cells[workbook.LEVEL].value)
        justification = workbook.text_of(cells[workbook.JUSTIFICATION].value)
        comment = workbook.text_of(cells[workbook.COMMENT].value)
        if level is None:
            shown = workbook.text_of(cells[workbook.LEVEL].value)
            self.error(line, workbook.LEVEL, _("niveau « %(value)s » inconnu.") % {"value": shown})
            return None
        for index, text in ((workbook.JUSTIFICATION, justification), (workbook.COMMENT, comment)):
            if len(text) > TEXT_MAX:
                self.error(line, index, _("ce texte dépasse 5 000 caractères."))
                return None
        return level, justification, comment

    def _hidden(self, line: int, cells: tuple[Any, ...]) -> _Hidden | None:
        """The row's criterion, base revision, carried flag and exported digest, if its signature holds."""
        shown = workbook.text_of(cells[workbook.CRITERION].value)
        hidden = self._signed(cells)
        unknown = _("critère « %(id)s » inconnu dans ce questionnaire.")
        if hidden is None and not workbook.text_of(cells[workbook.ID].value) and shown not in self.asked:
            self.error(line, workbook.CRITERION, unknown % {"id": shown})
        elif hidden is None:
            message = _(
                "les colonnes cachées (%(columns)s) de cette ligne ont été modifiées ou manquent : "
                "répondez sur la ligne exportée de ce critère."
            )
            self.error(line, workbook.ID, message % {"columns": "J–N"})
        elif hidden.criterion_id not in self.asked:
            self.error(line, workbook.ID, unknown % {"id": hidden.criterion_id})
        elif shown != hidden.criterion_id:
            message = _("le critère affiché ne correspond pas à celui de la ligne (%(id)s).")
            self.error(line, workbook.CRITERION, message % {"id": hidden.criterion_id})
        elif hidden.criterion_id in self.seen:
            message = _("le critère %(id)s figure déjà ligne %(line)d.")
            self.error(line, workbook.CRITERION, message % {"id": shown, "line": self.seen[shown]})
        else:
            self.seen[shown] = line
            return hidden
        return None

    def _signed(self, cells: tuple[Any, ...]) -> _Hidden | None:
        """The hidden cells, if they are those the export wrote and signed."""
        criterion_id, revision, carried, exported, signature = (cells[index].value for index in SIGNED)
        revision, carried = _whole(revision), _whole(carried)
        if not (
            isinstance(criterion_id, str)
            and revision is not None
            and carried in (0, 1)
            and isinstance(exported, str)
            and isinstance(signature, str)
        ):
            return None
        expected = workbook.row_mac(
            self.key,
            assessment_id=self.assessment_id,
            criterion_id=criterion_id,
            revision=revision,
            carried=carried,
            values=exported,
        )
        return _Hidden(criterion_id, revision, bool(carried), exported) if same(expected, signature) else None


def _whole(value: object) -> int | None:
    """A whole number as a spreadsheet may store it (1 or 1.0), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def _level(value: object) -> str | None:
    """« 0 »…« 3 », « na » or «  » (no level) from what the cell holds; None when it is no level."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | None):
        return None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() and 0 <= value <= 3 else None
    text = (value or "").strip()
    if found := LEVEL_PATTERN.fullmatch(text):
        return found.group(1)
    if not text or text.casefold() in NOT_APPLICABLE_WORDS | {_("Non applicable").casefold()}:
        return "na" if text else ""
    return None
