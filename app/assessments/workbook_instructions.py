"""The offline workbook's instructions sheet, in the reader's language (`workbook_export.py` writes the rest)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.assessments.service import Bound
from app.locale import gettext as _
from app.structures.models import Structure

if TYPE_CHECKING:  # openpyxl is imported where a workbook is built: it costs start-up time
    from openpyxl.worksheet.worksheet import Worksheet


def write_instructions(sheet: Worksheet, *, structure: Structure, bound: Bound) -> None:
    """The sheet « Instructions »: what the workbook is, how to fill it in and how to send it back."""
    from openpyxl.styles import Alignment, Font

    lines = [
        (_("Classeur hors ligne de l'autoévaluation"), True),
        (_("Structure : %(name)s") % {"name": structure.name}, False),
        (
            _("Questionnaire : %(title)s (%(ref)s)")
            % {"title": bound.questionnaire.title, "ref": bound.questionnaire.ref},
            False,
        ),
        (
            _("Grille de critères : %(title)s, version %(version)s")
            % {"title": bound.criteria.title, "version": bound.criteria.version},
            False,
        ),
        ("", False),
        (_("Comment le remplir"), True),
        (
            _("1. Dans la feuille « Questionnaire », une ligne par question qui concerne votre structure."),
            False,
        ),
        (_("2. Colonne « Niveau » : choisissez 0, 1, 2 ou 3 dans la liste, ou « Non applicable »."), False),
        (_("3. « Non applicable » demande une justification dans la colonne suivante."), False),
        (
            _("4. La colonne « Commentaire » est libre : ce qui existe, ce qui manque, qui s'en occupe."),
            False,
        ),
        (
            _(
                "5. Les autres colonnes sont en lecture seule. N'ajoutez, ne supprimez et ne déplacez ni ligne ni colonne."
            ),
            False,
        ),
        (
            _(
                "6. Une réponse reprise de l'autoévaluation précédente est à reconfirmer : choisissez son niveau pour la confirmer."
            ),
            False,
        ),
        (_("7. Saisissez des valeurs, pas des formules."), False),
        ("", False),
        (_("Le renvoyer"), True),
        (
            _(
                "Enregistrez le classeur au format .xlsx (Excel ou LibreOffice), puis déposez-le sur la page « Classeur hors ligne » de l'autoévaluation."
            ),
            False,
        ),
        (
            _(
                "Un aperçu liste ce qui va changer avant que rien ne soit enregistré. Si une réponse a été modifiée sur le site depuis le téléchargement, l'aperçu le signale : vous choisissez, question par question, de garder la version du site ou celle du classeur."
            ),
            False,
        ),
        (
            _("Les preuves (documents) se joignent sur le site : le classeur les montre sans les modifier."),
            False,
        ),
        (
            _(
                "Ce classeur ne vaut que pour cette autoévaluation : un classeur d'une autre autoévaluation, ou d'une autre version du questionnaire, est refusé."
            ),
            False,
        ),
    ]
    for text, bold in lines:
        sheet.append([text or None])
        if bold:
            sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 120
    for row in sheet.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
