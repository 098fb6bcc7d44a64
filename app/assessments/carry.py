"""Where a new assessment starts from, and what an earlier assessment's answers become in another
questionnaire: the plan a preview page shows, criterion by criterion, before anything is written.

What is copied is migrated between criteria versions through the criteria files' links (the
scoring core's `migrate_answers`) and marked `carried_over`: to be re-confirmed by the director,
one answer at a time or a whole section at once, before the assessment can be submitted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.forms import StartForm
from app.assessments.models import Answer, Assessment, EvidenceLink, LinkRow
from app.catalog.models import CriteriaVersion, Criterion, Questionnaire, Status
from app.catalog.service import Catalog
from app.db import pk
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.scoring import models as scoring
from app.scoring.migration import Carry, Migration, Note, migrate_answers
from app.structures.models import Structure

FIELD_LABELS = {
    "requirement": N_("exigence"),
    "levels": N_("description des niveaux"),
    "applies_if": N_("conditions d'application"),
    "critical": N_("criticité"),
}


class Outcome(StrEnum):
    """What becomes of one earlier answer in the new questionnaire."""

    CARRIED = "carried"
    REVIEW = "review"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Line:
    """One criterion of the plan: the target's id (the earlier one when dropped), where from, why."""

    criterion: str
    title: str
    sources: tuple[str, ...]
    outcome: Outcome
    reason: str
    evidence: int
    """Pieces of evidence linked to it that come along."""


@dataclass(frozen=True)
class Plan:
    """The earlier answers as they would land in `questionnaire`, and what the audit log records."""

    source: Assessment
    origin: CriteriaVersion
    questionnaire: Questionnaire
    version: CriteriaVersion
    migration: Migration
    asked: frozenset[str]
    lines: tuple[Line, ...]
    comments: dict[str, str]
    """The source's comment on each criterion it answered."""

    def comment(self, sources: tuple[str, ...]) -> str:
        """The comment of an answer landing from `sources`: theirs, joined."""
        return " / ".join(self.comments[s] for s in sources if self.comments.get(s))

    def count(self, outcome: Outcome | str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    def landing(self) -> Iterable[tuple[str, scoring.Answer, tuple[str, ...], bool]]:
        """Each answer written: target criterion, answer, earlier criteria, whether it needs review."""
        review = {note.criterion for note in self.migration.review_notes}
        for criterion_id, answer in self.migration.answers.items():
            if criterion_id in self.asked:
                yield criterion_id, answer, self.migration.sources[criterion_id], criterion_id in review

    def recorded(self) -> dict[str, Any]:
        """What the audit entry keeps: where from, what to review, what was dropped (in French), and
        what the questionnaire does not ask."""
        return {
            "carried_from": self.source.id,
            "review": dict(self.migration.review),
            "dropped": dict(self.migration.dropped),
            "not_asked": sorted(set(self.migration.answers) - self.asked),
        }


def starting_point(
    session: Session, *, catalog: Catalog, structure: Structure, form: StartForm
) -> tuple[Questionnaire, Assessment | None]:
    """The latest released version of the questionnaire the form names by its bare id, and the
    structure's earlier assessment (`depuis`, if given) whose answers the new one starts from."""
    questionnaire_id, previous_id = form.questionnaire, form.depuis
    try:
        chosen = catalog.questionnaire(questionnaire_id) if "@" not in questionnaire_id else None
    except LookupError:
        chosen = None
    if chosen is None or chosen.status != Status.RELEASED:
        raise ServiceError(_("Choisissez le questionnaire complet ou le questionnaire express."))
    if not previous_id:
        return chosen, None
    previous = session.get(Assessment, int(previous_id)) if re.fullmatch(r"\d{1,9}", previous_id) else None
    if previous is None or previous.structure_id != structure.id:
        raise ServiceError(_("L'autoévaluation de départ n'existe pas pour cette structure."))
    if catalog.criteria[previous.criteria_ref].referential != chosen.criteria.split("@")[0]:
        raise ServiceError(
            _("L'autoévaluation de départ suit un autre référentiel : rien ne peut en être repris.")
        )
    return chosen, previous


def default_start(session: Session, *, structure: Structure) -> StartForm | None:
    """Start again the questionnaire of the structure's latest assessment (the latest submitted one
    if any), from it; None when the structure has none."""
    query = select(Assessment).where(Assessment.structure_id == structure.id)
    latest = session.exec(
        query.order_by(col(Assessment.submitted_at).is_(None), col(Assessment.id).desc())
    ).first()
    if latest is None:
        return None
    return StartForm(questionnaire=latest.questionnaire_ref.split("@")[0], depuis=str(latest.id))


def plan(session: Session, *, catalog: Catalog, source: Assessment, to: Questionnaire) -> Plan:
    """What `source`'s answers become in `to`: carried as they are, to review, or dropped, and why."""
    old, new = catalog.criteria[source.criteria_ref], catalog.criteria[to.criteria]
    answers = {
        a.criterion_id: a for a in session.exec(select(Answer).where(Answer.assessment_id == source.id))
    }
    inputs = {cid: scoring.Answer(a.level, a.not_applicable, a.justification) for cid, a in answers.items()}
    migration = migrate_answers(old, new, inputs)
    linked = links_by_criterion(session, source)
    asked = frozenset(to.criterion_ids)
    notes = {note.criterion: note for note in migration.review_notes}
    lines = [
        _line(
            target,
            version=new,
            questionnaire=to,
            migration=migration,
            notes=notes,
            linked=linked,
            same_version=old.ref == new.ref,
        )
        for target in sorted(migration.answers, key=_order(to))
    ]
    for note in migration.dropped_notes:
        title = old.by_id[note.criterion].title if note.criterion in old.by_id else note.criterion
        reason = _(note.code.msgid) % note.params  # the core's words start lower case
        reason = reason[:1].upper() + reason[1:] + "."
        lines.append(Line(note.criterion, title, (note.criterion,), Outcome.DROPPED, reason, 0))
    comments = {cid: a.comment for cid, a in answers.items()}
    return Plan(source, old, to, new, migration, asked, tuple(lines), comments)


def _line(
    target: str,
    *,
    version: CriteriaVersion,
    questionnaire: Questionnaire,
    migration: Migration,
    notes: dict[str, Note],
    linked: dict[str, list[LinkRow]],
    same_version: bool,
) -> Line:
    """The plan's line for an answer landing on `target`."""
    sources, title = migration.sources[target], version.by_id[target].title
    pieces = len({link.evidence_id for s in sources for link in linked.get(s, [])})
    if target not in questionnaire.criterion_ids:
        reason = _("Non posé par le questionnaire « %(title)s ».") % {"title": questionnaire.title}
        return Line(target, title, sources, Outcome.DROPPED, reason, 0)
    if target in notes:
        return Line(
            target, title, sources, Outcome.REVIEW, _review_reason(notes[target], version, sources), pieces
        )
    reason = _("Même critère, même version.") if same_version else _("Même critère, inchangé.")
    return Line(target, title, sources, Outcome.CARRIED, reason, pieces)


def _order(questionnaire: Questionnaire) -> Any:
    """Sort criteria in the order the questionnaire asks them, those it does not ask last."""
    position = {cid: n for n, cid in enumerate(questionnaire.criterion_ids)}
    return lambda cid: (position.get(cid, len(position)), cid)


def _review_reason(note: Note, version: CriteriaVersion, sources: tuple[str, ...]) -> str:
    """Why an answer needs review, naming replacements and mergers as the criteria file does."""
    values = {"sources": ", ".join(sources), "version": version.version}
    if note.code is Carry.CHANGED:
        fields = ", ".join(_(FIELD_LABELS.get(f, f)) for f in note.params["fields"].split(", "))
        return _("Critère modifié dans la version %(version)s : %(fields)s.") % {**values, "fields": fields}
    if any(version.by_id[s].merged_into for s in sources if s in version.by_id):
        return (
            _(
                "Fusion de %(sources)s dans ce critère (version %(version)s) : la réponse la plus prudente est reprise."
            )
            % values
        )
    return _("Remplace %(sources)s (version %(version)s).") % values


def links_by_criterion(session: Session, assessment: Assessment) -> dict[str, list[LinkRow]]:
    """The assessment's evidence links, by criterion, as plain rows."""
    found: dict[str, list[LinkRow]] = {}
    query = select(EvidenceLink).where(EvidenceLink.assessment_id == assessment.id)
    for link in session.exec(query.order_by(col(EvidenceLink.id))):
        row = LinkRow(pk(link), link.criterion_id, link.evidence_id, link.covers, link.carried_over)
        found.setdefault(link.criterion_id, []).append(row)
    return found


def carry_over(
    session: Session, *, catalog: Catalog, previous: Assessment, to: Assessment, user: User
) -> Plan:
    """Copy answers and evidence links into `to`, migrated through the criteria files' links when needed;
    every answer copied is to re-confirm. Returns the plan followed."""
    followed = plan(session, catalog=catalog, source=previous, to=catalog.questionnaire(to.questionnaire_ref))
    for criterion_id, answer, sources, _review in followed.landing():
        session.add(
            Answer(
                assessment_id=pk(to),
                criterion_id=criterion_id,
                level=answer.level,
                not_applicable=answer.not_applicable,
                justification=answer.justification,
                comment=followed.comment(sources),
                carried_over=True,
                updated_by=pk(user),
            )
        )
    linked = links_by_criterion(session, previous)
    carry_links(session, catalog=catalog, plan=followed, to=to, linked=linked, keep=set())
    return followed


def carry_links(
    session: Session,
    *,
    catalog: Catalog,
    plan: Plan,
    to: Assessment,
    linked: dict[str, list[LinkRow]],
    keep: set[str],
) -> None:
    """Link each landing answer to every piece that supported the answers it comes from, keeping the
    expected-evidence items each piece covers where the new criterion expects them too. Links of the
    criteria in `keep` keep their « carried over » mark as it was; `linked`: the source's links."""
    old = catalog.criteria[plan.source.criteria_ref]
    for criterion_id, _answer, sources, _review in plan.landing():
        covers: dict[int, set[str]] = {}
        flags: dict[int, bool] = {}
        for source in sources:
            for link in linked.get(source, []):
                mapped = mapped_covers(old.by_id.get(source), plan.version.by_id[criterion_id], link.covers)
                covers.setdefault(link.evidence_id, set()).update(mapped)
                flags[link.evidence_id] = link.carried_over if criterion_id in keep else True
        for evidence_id, items in covers.items():
            session.add(
                EvidenceLink(
                    assessment_id=pk(to),
                    criterion_id=criterion_id,
                    evidence_id=evidence_id,
                    covers=",".join(sorted(items)),
                    carried_over=flags[evidence_id],
                )
            )


def mapped_covers(before: Criterion | None, after: Criterion, covers: str) -> set[str]:
    """The expected-evidence items of `after` that a piece covering `covers` of `before` still covers:
    an item of the same id, or else of the same label."""
    ids = {item.id for item in after.expected_evidence}
    by_label = {item.label: item.id for item in after.expected_evidence}
    labels = {item.id: item.label for item in before.expected_evidence} if before else {}
    kept = set()
    for item in filter(None, covers.split(",")):
        if item in ids:
            kept.add(item)
        elif labels.get(item) in by_label:
            kept.add(by_label[labels[item]])
    return kept


def to_reconfirm(questionnaire: Questionnaire, answers: Iterable[Any]) -> list[str]:
    """The criteria whose carried answer is not re-confirmed yet, in the questionnaire's order."""
    carried = {a.criterion_id for a in answers if a.carried_over}
    return [cid for cid in questionnaire.criterion_ids if cid in carried]
