"""The cohort dashboard as workbook sheets: its structures, their gaps by workshop, the common gaps.

The rows come from `app.cohorts.dashboard.dashboard`, the page's own figures.
"""

from __future__ import annotations

from app.cohorts.dashboard import Dashboard
from app.locale import gettext as _
from app.reports.tables import Cell, Column, Table
from app.scoring.codes import GAP_FINDINGS


def cohort_tables(board: Dashboard) -> list[Table]:
    return [_structures(board), _matrix(board), _common(board)]


def _structures(board: Dashboard) -> Table:
    """« Structures »: each structure's latest assessment, its verdict, progress and area scores."""
    areas = board.version.areas
    rows: list[tuple[Cell, ...]] = []
    for row in board.rows:
        assessment, result = row.assessment, row.result
        if assessment is None or result is None or row.questionnaire is None:
            rows.append((row.structure.name, row.structure.city or None) + (None,) * (6 + len(areas)))
            continue
        scores = {a.area: a.score for a in result.areas}
        rows.append(
            (
                row.structure.name,
                row.structure.city or None,
                row.questionnaire.title,
                _("Soumise") if assessment.submitted_at else _("Brouillon"),
                (assessment.submitted_at or assessment.created_at).date(),
                row.state.label if row.state else None,
                _(result.verdict.label),
                result.progress.percent,
                *(scores.get(area.id) for area in areas),
            )
        )
    columns = (
        Column(_("Structure"), 30),
        Column(_("Ville"), 16),
        Column(_("Questionnaire"), 24),
        Column(_("Statut"), 12),
        Column(_("Date"), 12),
        Column(_("Relecture"), 20),
        Column(_("Résultat prévu"), 18),
        Column(_("Avancement (%)"), 12),
        *(Column(area.title, 16) for area in areas),
    )
    return Table(_("Structures"), columns, rows)


def _matrix(board: Dashboard) -> Table:
    """« Écarts par atelier »: one row per structure and workshop, a column per severity."""
    rows: list[tuple[Cell, ...]] = []
    for row in board.rows:
        for workshop in board.version.workshops:
            counts = board.counts(row, workshop.id)
            values = tuple(counts[f] if row.result else None for f in GAP_FINDINGS)
            rows.append((row.structure.name, workshop.title, *values))
    columns = (
        Column(_("Structure"), 30),
        Column(_("Atelier"), 30),
        *(Column(_(finding.label), 14) for finding in GAP_FINDINGS),
    )
    return Table(_("Écarts par atelier"), columns, rows)


def _common(board: Dashboard) -> Table:
    """« Écarts fréquents »: per workshop, each criterion in gap, the most common first."""
    rows: list[tuple[Cell, ...]] = []
    for workshop in board.version.workshops:
        for gap in board.common.get(workshop.id, []):
            rows.append(
                (
                    workshop.title,
                    gap.criterion.id,
                    gap.criterion.title,
                    len(gap.concerned),
                    *(gap.severities[f] for f in GAP_FINDINGS),
                    ", ".join(structure.name for structure, _gap in gap.concerned),
                    "; ".join(f"{label} ({count})" for label, count in gap.missing) or None,
                )
            )
    columns = (
        Column(_("Atelier"), 30),
        Column(_("Critère"), 10),
        Column(_("Intitulé"), 40),
        Column(_("Structures concernées"), 12),
        *(Column(_(finding.label), 14) for finding in GAP_FINDINGS),
        Column(_("Structures"), 40),
        Column(_("Preuves attendues manquantes"), 50),
    )
    return Table(_("Écarts fréquents"), columns, rows)
