"""The tables an assessment exports: summary, answers, gaps, action plan, evidence.

One list of rows per table, built from the results page's own context (`views.results_context`), so
the workbook and the CSV files hold the page's figures; `spreadsheets` only writes them out.
Values keep their type (numbers, dates): a spreadsheet sorts and sums them, and formats each by type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.assessments.models import EvidenceKind, Loaded
from app.catalog.models import CriteriaVersion
from app.locale import gettext as _
from app.scoring.models import Result
from app.scoring.views import gap_action, reason

Cell = str | int | float | date | None


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 14
    """In characters, as a spreadsheet counts them."""


@dataclass(frozen=True)
class Table:
    """A sheet of the workbook (`name`, at most 31 characters) or a CSV file: a header row, then rows."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


def summary_table(context: dict[str, Any]) -> Table:
    """« Synthèse »: what the cover of the report says, then the area scores."""
    assessment, structure, result = context["assessment"], context["structure"], context["result"]
    version: CriteriaVersion = context["version"]
    snapshot = context.get("snapshot")
    rows: list[tuple[Cell, ...]] = [
        (_("Structure"), structure.name),
        (_("Autoévaluation"), assessment.id),
        (_("Révision"), assessment.revision),
        (_("Statut"), _("Soumise") if assessment.submitted_at else _("Brouillon — estimation")),
        (_("Commencée le"), assessment.created_at.date()),
        (_("Soumise le"), assessment.submitted_at.date() if assessment.submitted_at else None),
        (_("Questionnaire"), f"{context['questionnaire'].title} ({assessment.questionnaire_ref})"),
        (_("Questionnaire, SHA-256"), assessment.questionnaire_sha256),
        (_("Critères"), f"{version.title} ({assessment.criteria_ref})"),
        (_("Critères, SHA-256"), assessment.criteria_sha256),
        (_("Méthode de calcul"), result.scoring_version),
        (_("Instantané signé, SHA-256"), snapshot.sha256 if snapshot else None),
        (_("Clé de signature"), snapshot.key_id if snapshot else None),
        (_("Résultat prévu à l'audit"), _(result.verdict.label)),
        (_("Estimation partielle"), _("oui") if result.partial else _("non")),
        (_("Écarts majeurs prévus"), result.majors),
        (_("Écarts mineurs prévus"), result.minors),
        (_("Critères bloquants"), ", ".join(context["blocking"]) or None),
        (_("Avancement (%)"), result.progress.percent),
    ]
    rows += [(_("Score : %(area)s") % {"area": version.area(a.area).title}, a.score) for a in result.areas]
    columns = (Column(_("Rubrique"), 34), Column(_("Valeur"), 70))
    return Table(_("Synthèse"), columns, rows)


def answers_table(context: dict[str, Any], loaded: Loaded) -> Table:
    """« Réponses »: every criterion scored, with the declared and the retained level."""
    version: CriteriaVersion = context["version"]
    result: Result = context["result"]
    rows: list[tuple[Cell, ...]] = []
    for found in result.criteria:
        criterion = version.by_id[found.criterion]
        answer = loaded.answers.get(found.criterion)
        declared: Cell = None
        if answer is not None:
            declared = _("N/A") if answer.not_applicable else answer.level
        pieces = [piece.title for _link, piece in loaded.links.get(found.criterion, [])]
        rows.append(
            (
                found.criterion,
                criterion.title,
                version.area(found.area).title,
                version.workshop(found.workshop).title,
                _("oui") if found.critical else _("non"),
                criterion.confidence.value,
                declared,
                found.effective_level,
                reason(found) if found.capped else None,
                _(found.finding.label),
                reason(found),
                "; ".join(pieces) or None,
                answer.justification if answer and answer.not_applicable else None,
                answer.comment if answer else None,
            )
        )
    columns = (
        Column(_("Critère"), 10),
        Column(_("Intitulé"), 40),
        Column(_("Domaine"), 22),
        Column(_("Atelier"), 26),
        Column(_("Critique"), 9),
        Column(_("Confiance"), 10),
        Column(_("Niveau déclaré"), 10),
        Column(_("Niveau retenu"), 10),
        Column(_("Plafonnement"), 40),
        Column(_("Constat prévu"), 16),
        Column(_("Pourquoi"), 40),
        Column(_("Preuves jointes"), 40),
        Column(_("Justification (non applicable)"), 30),
        Column(_("Commentaire"), 40),
    )
    return Table(_("Réponses"), columns, rows)


def gaps_table(context: dict[str, Any]) -> Table:
    """« Écarts »: the gaps under their workshops, in the results page's order."""
    version: CriteriaVersion = context["version"]
    rows: list[tuple[Cell, ...]] = [
        (
            version.workshop(workshop_id).title,
            gap.priority,
            gap.criterion,
            gap.title,
            _(gap.severity.label),
            _("oui") if gap.critical else _("non"),
            reason(gap),
            "; ".join(gap.missing_evidence) or None,
            gap_action(gap),
            gap.deadline_days,
            context["due_dates"][gap.criterion],
        )
        for workshop_id, gaps in context["gaps"].items()
        for gap in gaps
    ]
    columns = (
        Column(_("Atelier"), 26),
        Column(_("Priorité"), 9),
        Column(_("Critère"), 10),
        Column(_("Intitulé"), 40),
        Column(_("Gravité"), 16),
        Column(_("Critique"), 9),
        Column(_("Pourquoi"), 40),
        Column(_("Preuves attendues manquantes"), 40),
        Column(_("Action proposée"), 50),
        Column(_("Délai (jours)"), 10),
        Column(_("Échéance suggérée"), 14),
    )
    return Table(_("Écarts"), columns, rows)


def plan_table(context: dict[str, Any], rows: Sequence[Any]) -> Table:
    """« Plan d'action »: each item with its owner, due date and status (`service.plan_rows`)."""
    version: CriteriaVersion = context["version"]
    labels = context["status_labels"]
    found: list[tuple[Cell, ...]] = []
    for row in rows:
        criterion = version.by_id.get(row.item.criterion_id)
        found.append(
            (
                row.item.criterion_id,
                row.item.title,
                _(row.gap.severity.label) if row.gap else _("Écart comblé"),
                version.workshop(criterion.workshop).title if criterion else None,
                row.item.owner or None,
                row.item.due_on,
                labels[row.item.status],
            )
        )
    columns = (
        Column(_("Critère"), 10),
        Column(_("Action"), 50),
        Column(_("Gravité"), 16),
        Column(_("Atelier"), 26),
        Column(_("Responsable"), 22),
        Column(_("Échéance"), 14),
        Column(_("Statut"), 12),
    )
    return Table(_("Plan d'action"), columns, found)


def evidence_table(loaded: Loaded) -> Table:
    """« Preuves »: each piece once, with the criteria it supports (files stay on the web)."""
    pieces: dict[int, tuple[Any, list[str]]] = {}
    for criterion_id, pairs in sorted(loaded.links.items()):
        for _link, piece in pairs:
            pieces.setdefault(piece.id, (piece, []))[1].append(criterion_id)
    rows: list[tuple[Cell, ...]] = [
        (
            piece.title,
            _("Fichier") if piece.kind == EvidenceKind.FILE else _("Référence"),
            piece.document_date,
            piece.owner or None,
            ", ".join(criteria),
            piece.filename or None,
            piece.size,
            piece.sha256 or None,
            piece.link or None,
        )
        for piece, criteria in sorted(pieces.values(), key=lambda pair: (pair[0].title, pair[0].id))
    ]
    columns = (
        Column(_("Preuve"), 36),
        Column(_("Type"), 10),
        Column(_("Date du document"), 14),
        Column(_("Responsable"), 20),
        Column(_("Critères"), 20),
        Column(_("Fichier"), 24),
        Column(_("Taille (octets)"), 12),
        Column(_("SHA-256"), 30),
        Column(_("Lien"), 30),
    )
    return Table(_("Preuves"), columns, rows)
