"""What the results page and the assessment report show: one context, the report's additions beside it.

The page and the PDF include the same partials (`templates/reports/partials/`) fed by these
functions, so a figure, a gap or its order can never differ between the screen and the paper.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app.assessments import service as assessments
from app.assessments.models import Assessment, AssessmentStatus, Snapshot
from app.catalog.models import Confidence, CriteriaVersion
from app.catalog.service import Catalog
from app.cycle import service as cycle
from app.db import utcnow
from app.locale import gettext as _
from app.reports import plan, service
from app.reports.charts import history_chart, radar
from app.scoring.codes import Finding
from app.scoring.models import CriterionResult, Result
from app.structures.models import Structure


def results_context(
    session: Session, catalog: Catalog, assessment: Assessment, *, today: date | None = None
) -> dict[str, Any]:
    """What the results and plan pages show: the live result, its radar, gaps by workshop.

    With an audit date in the structure's record, deadlines are « avant l'audit » (`before_audit`)."""
    structure = assessments.structure_of(session, assessment)
    bound = assessments.bound(catalog, assessment)
    result = assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    version = bound.criteria
    record = cycle.record_of(session, structure_id=assessment.structure_id)
    before_audit = cycle.audit_deadline(record, version=version)
    return {
        "assessment": assessment,
        "structure": structure,
        "questionnaire": bound.questionnaire,
        "version": version,
        "result": result,
        "radar": radar([(version.area(a.area).title, a.score) for a in result.areas]),
        "gaps": result.gaps_by_workshop([w.id for w in version.workshops]),
        "gap_filter": {"severity": "", "workshop": ""},
        "gap_severities": GAP_SEVERITIES,
        "blocking": result.blocking,
        "inferred_ids": inferred_ids(version),
        "sections": {q.criterion: s.id for s in bound.questionnaire.sections for q in s.questions},
        "reference_date": service.reference_date(assessment),
        "due_dates": {
            gap.criterion: service.due_date(assessment, gap, before_audit=before_audit) for gap in result.gaps
        },
        "audit_on": record.audit_on,
        "before_audit": before_audit,
        "today": today or utcnow().date(),
        "status_labels": plan.status_labels(),
        "can_write": False,
        "edited": None,
        "errors": {},
        "posted": {},
        "saved": False,
        "stale": False,
    }


GAP_SEVERITIES = (Finding.ECART_MAJEUR, Finding.NON_RENSEIGNE, Finding.ECART_MINEUR)


def filter_gaps(context: dict[str, Any], *, severity: str, workshop: str) -> dict[str, str]:
    """Keep the gaps of one severity and/or one workshop in `context["gaps"]`; name refused values."""
    version: CriteriaVersion = context["version"]
    problems: dict[str, str] = {}
    if severity and severity not in {f.value for f in GAP_SEVERITIES}:
        problems["gravite"] = _("Choisissez une gravité : écart majeur, non renseigné ou écart mineur.")
    if workshop and workshop not in {w.id for w in version.workshops}:
        problems["atelier"] = _(
            "Cet atelier n'existe pas dans ce référentiel : choisissez-en un dans la liste."
        )
    chosen = {"severity": "", "workshop": ""} if problems else {"severity": severity, "workshop": workshop}
    context["gap_filter"] = chosen
    context["gaps"] = {
        wid: [g for g in found if not chosen["severity"] or g.severity.value == chosen["severity"]]
        for wid, found in context["gaps"].items()
        if not chosen["workshop"] or wid == chosen["workshop"]
    }
    return problems


def plan_context(session: Session, catalog: Catalog, assessment: Assessment) -> dict[str, Any]:
    """The results context with the plan's rows (saved items and suggestions) and the filter's choices."""
    context = results_context(session, catalog, assessment)
    rows = plan_rows(session, context)
    chosen = plan.PlanFilter()
    choices = {"owners": plan.owners(rows), "sorts": plan.SORTS}
    return context | choices | {"rows": rows, "filter": chosen, "filter_errors": {}}


def plan_rows(session: Session, context: dict[str, Any]) -> list[plan.PlanRow]:
    """The plan's rows for a results context (page, report and workbook show the same)."""
    assessment: Assessment = context["assessment"]
    items = plan.action_plan(session, assessment=assessment)
    return plan.plan_rows(
        items,
        context["result"],
        assessment=assessment,
        version=context["version"],
        before_audit=context.get("before_audit"),
    )


def inferred_ids(version: CriteriaVersion) -> frozenset[str]:
    """Criteria inferred from indirect sources (confidence L): the report marks them as such."""
    return frozenset(c.id for c in version.criteria if c.confidence is Confidence.LOW)


def latest_snapshot(session: Session, assessment: Assessment) -> Snapshot | None:
    """The signed snapshot of the submitted revision (None for a draft)."""
    if assessment.status != AssessmentStatus.SUBMITTED:
        return None
    query = (
        select(Snapshot)
        .options(defer(Snapshot.canonical_json))  # type: ignore[arg-type]
        .where(Snapshot.assessment_id == assessment.id, Snapshot.revision == assessment.revision)
    )
    return session.exec(query.order_by(col(Snapshot.id).desc())).first()


def report_context(
    session: Session, catalog: Catalog, assessment: Assessment, *, now: datetime | None = None
) -> dict[str, Any]:
    """The results page's context, plus the cover, the action plan, the score history, inferred criteria."""
    context = results_context(session, catalog, assessment)
    structure: Structure = context["structure"]
    result: Result = context["result"]
    submitted = service.structure_assessments(session, catalog=catalog, structure=structure, drafts=False)
    history = service.score_history(catalog, rows=submitted)
    rows = plan_rows(session, context)
    return context | {
        "groups": plan.grouped(rows, plan.PlanFilter(), version=context["version"]),
        "filter": None,
        "snapshot": latest_snapshot(session, assessment),
        "generated_at": now or utcnow(),
        "draft": assessment.status == AssessmentStatus.DRAFT,
        "rows": rows,
        "history": history,
        "chart": history_chart(history),
        "inferred": inferred(result, context["inferred_ids"]),
    }


def inferred(result: Result, ids: frozenset[str]) -> list[CriterionResult]:
    """The applicable inferred criteria with their predicted finding, in the criteria file's order."""
    return [found for found in result.criteria if found.criterion in ids and found.applicable]


def report_name(structure: Structure, assessment: Assessment, extension: str) -> str:
    """A download's name: the structure, the assessment and its revision (`rapport-…-12-r2.pdf`)."""
    stem = "".join(ch if ch.isalnum() else "-" for ch in structure.name.lower()).strip("-")[:60]
    return f"autoevaluation-{stem or 'structure'}-{assessment.id}-r{assessment.revision}.{extension}"
