"""A structure's certification record: edit it, record a real audit's outcome, draw its timeline.

The cycle's durations come from the criteria version's certification block (`CycleDurations`),
never from code; `today` is always a parameter, so the pages and the reminders agree on one day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.catalog.models import CriteriaVersion, CycleDurations
from app.catalog.service import Catalog
from app.cycle.models import (
    AuditKind,
    AuditOutcome,
    AuditResult,
    CertificationRecord,
    OutcomeForm,
    RecordForm,
    Stage,
)
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.scoring.evidence import months_before
from app.structures.models import Structure
from app.structures.service import PROFILE_QUESTIONNAIRE

NUMBER_MAX = 60
COUNT_MAX = 999
BAD_DATE = N_("Saisissez une date au format JJ/MM/AAAA ou AAAA-MM-JJ.")
PLANNED = (Stage.INITIAL_PLANNED, Stage.SURVEILLANCE, Stage.RENEWAL)


def current_version(catalog: Catalog) -> CriteriaVersion:
    """The criteria version new assessments use: its certification block states the cycle."""
    return catalog.criteria[catalog.questionnaire(PROFILE_QUESTIONNAIRE).criteria]


def record_of(session: Session, *, structure_id: int) -> CertificationRecord:
    """The structure's record; a structure that never set one is in preparation (not stored yet)."""
    query = select(CertificationRecord).where(CertificationRecord.structure_id == structure_id)
    return session.exec(query).first() or CertificationRecord(structure_id=structure_id)


def parse_date(text: str, field: str, problems: dict[str, str]) -> date | None:
    """A date from a form (ISO or French order), None when empty; a problem when malformed."""
    text = text.strip()
    if not text:
        return None
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        problems[field] = _(BAD_DATE)
        return None


def _state(record: CertificationRecord) -> dict[str, object]:
    return {
        "stage": record.stage.value,
        "audit_on": record.audit_on.isoformat() if record.audit_on else None,
        "audit_booked": record.audit_booked,
        "certificate_number": record.certificate_number,
        "certified_on": record.certified_on.isoformat() if record.certified_on else None,
        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
    }


@dataclass(frozen=True)
class RecordValues:
    stage: Stage
    audit_on: date | None
    certified_on: date | None
    valid_until: date | None


def checked_record(form: RecordForm, *, cycle: CycleDurations | None, today: date) -> RecordValues:
    """The record's values from the form, or every problem found in it at once."""
    problems: dict[str, str] = {}
    stage = next((s for s in Stage if s.value == form.stage), None)
    if stage is None:
        problems["stage"] = _("Choisissez l'étape où en est la structure.")
    audit_on = parse_date(form.audit_on, "audit_on", problems)
    certified_on = parse_date(form.certified_on, "certified_on", problems)
    valid_until = parse_date(form.valid_until, "valid_until", problems)
    if audit_on is not None and audit_on < today:
        problems["audit_on"] = _(
            "La date de l'audit prévu est passée : indiquez une date à venir, "
            "ou enregistrez le résultat de l'audit plus bas."
        )
    if stage in PLANNED and audit_on is None and "audit_on" not in problems:
        problems["audit_on"] = _("Indiquez la date de l'audit prévu à cette étape.")
    if certified_on and valid_until is None and cycle is not None:
        valid_until = months_before(certified_on, -cycle.certificate_months)
    if certified_on and valid_until and valid_until <= certified_on:
        problems["valid_until"] = _(
            "La fin de validité du certificat doit tomber après sa date de délivrance."
        )
    if len(form.certificate_number.strip()) > NUMBER_MAX:
        problems["certificate_number"] = _("Le numéro de certificat compte 60 caractères au plus.")
    if problems or stage is None:
        raise ServiceError(problems=problems)
    return RecordValues(stage, audit_on, certified_on, valid_until)


def update_record(
    session: Session,
    *,
    structure: Structure,
    form: RecordForm,
    cycle: CycleDurations | None,
    actor: User,
    today: date,
) -> CertificationRecord:
    """Save where the structure stands; a certificate's end defaults to its date plus the cycle."""
    values = checked_record(form, cycle=cycle, today=today)
    record = record_of(session, structure_id=pk(structure))
    before = _state(record) if record.id else None
    record.stage, record.audit_on, record.audit_booked = (
        values.stage,
        values.audit_on,
        bool(form.audit_booked),
    )
    record.certificate_number = form.certificate_number.strip()
    record.certified_on, record.valid_until = values.certified_on, values.valid_until
    record.revision += 1 if record.id else 0
    record.updated_by, record.updated_at = actor.id, utcnow()
    session.add(record)
    session.flush()
    audit(
        session,
        actor_id=actor.id,
        action="certification.update",
        obj=record,
        structure_id=structure.id,
        before=before,
        after=_state(record),
    )
    session.commit()
    return record


def _count(text: str, field: str, problems: dict[str, str]) -> int:
    text = text.strip() or "0"
    if not text.isdigit() or int(text) > COUNT_MAX:
        problems[field] = _("Saisissez un nombre entier entre 0 et 999.")
        return 0
    return int(text)


COUNT_FIELDS = ("major_nonconformities", "minor_nonconformities", "sensitive_points", "improvement_leads")


def record_outcome(
    session: Session, *, structure: Structure, form: OutcomeForm, actor: User, today: date
) -> AuditOutcome:
    """Record a real audit's outcome; the planned date it answers is cleared."""
    problems: dict[str, str] = {}
    kind = next((k for k in AuditKind if k.value == form.kind), None)
    result = next((r for r in AuditResult if r.value == form.result), None)
    if kind is None:
        problems["kind"] = _("Choisissez le type d'audit.")
    if result is None:
        problems["result"] = _("Choisissez le résultat de l'audit.")
    held_on = parse_date(form.held_on, "held_on", problems)
    if held_on is None and "held_on" not in problems:
        problems["held_on"] = _("Indiquez la date de l'audit.")
    elif held_on is not None and held_on > today:
        problems["held_on"] = _("Cet audit n'a pas encore eu lieu : enregistrez son résultat après l'audit.")
    counts = {name: _count(getattr(form, name), name, problems) for name in COUNT_FIELDS}
    due = parse_date(form.corrective_due_on, "corrective_due_on", problems)
    if due is not None and held_on is not None and due < held_on:
        problems["corrective_due_on"] = _("L'échéance des actions correctives ne peut précéder l'audit.")
    if problems or kind is None or result is None or held_on is None:
        raise ServiceError(problems=problems)
    outcome = AuditOutcome(
        structure_id=pk(structure),
        kind=kind,
        held_on=held_on,
        result=result,
        corrective_due_on=due,
        recorded_by=pk(actor),
    )
    for name, value in counts.items():
        setattr(outcome, name, value)
    session.add(outcome)
    record = record_of(session, structure_id=pk(structure))
    if record.audit_on is not None and record.audit_on <= today:
        record.audit_on, record.audit_booked = None, False
        session.add(record)
    session.flush()
    after = {"kind": kind.value, "held_on": held_on.isoformat(), "result": result.value, **counts}
    audit(
        session, actor_id=actor.id, action="audit.record", obj=outcome, structure_id=structure.id, after=after
    )
    session.commit()
    return outcome


def outcomes_of(session: Session, *, structure_id: int) -> list[AuditOutcome]:
    """The structure's recorded audits, newest first."""
    query = select(AuditOutcome).where(AuditOutcome.structure_id == structure_id)
    return list(session.exec(query.order_by(col(AuditOutcome.held_on).desc(), col(AuditOutcome.id).desc())))


@dataclass(frozen=True)
class Milestone:
    label: str
    on: date
    days_left: int

    @property
    def past(self) -> bool:
        return self.days_left < 0


MILESTONE_AUDIT = N_("Audit prévu")
MILESTONE_SURVEILLANCE = N_("Audit de surveillance (à %(months)s mois)")
MILESTONE_RENEWAL = N_("Fin de validité du certificat : audit de renouvellement")


def timeline(record: CertificationRecord, *, cycle: CycleDurations | None, today: date) -> list[Milestone]:
    """The cycle's dates in order: the planned audit, then surveillance and renewal from the certificate."""
    dated: list[tuple[str, date]] = []
    if record.audit_on is not None:
        dated.append((_(MILESTONE_AUDIT), record.audit_on))
    if record.certified_on is not None and cycle is not None:
        surveillance = months_before(record.certified_on, -cycle.surveillance_months)
        dated.append((_(MILESTONE_SURVEILLANCE) % {"months": cycle.surveillance_months}, surveillance))
    if record.valid_until is not None:
        dated.append((_(MILESTONE_RENEWAL), record.valid_until))
    return [Milestone(label, on, (on - today).days) for label, on in sorted(dated, key=lambda d: d[1])]


def next_milestone(milestones: list[Milestone]) -> Milestone | None:
    return next((m for m in milestones if not m.past), None)


def timeline_context(
    session: Session, *, catalog: Catalog, structure_id: int, today: date
) -> dict[str, object]:
    """What the timeline partial shows: the record, its milestones and the next one."""
    record = record_of(session, structure_id=structure_id)
    milestones = timeline(record, cycle=current_version(catalog).cycle, today=today)
    return {"record": record, "milestones": milestones, "next": next_milestone(milestones)}


def audit_deadline(record: CertificationRecord, *, version: CriteriaVersion) -> date | None:
    """The day gaps and actions are due when an audit is set: the lead time before it."""
    if record.audit_on is None:
        return None
    return record.audit_on - timedelta(days=version.scoring.audit_lead_days or 0)
