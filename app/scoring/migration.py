"""Carry answers to another version of the same referential: pure, like the rest of the core.

Each answer follows the criteria file's `replaced_by` / `merged_into` links to the active
criteria that take it over. What needs a second look, and what could not be carried, comes back
as a note: a code and its parameters, whose French sentence `text` gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from app.catalog.checks import successors
from app.catalog.models import CriteriaVersion
from app.scoring.codes import N_
from app.scoring.models import Answer

REVIEWED_FIELDS = ("requirement", "levels", "applies_if", "critical")
"""A criterion kept under its id whose one of these changed needs its answer reviewed."""


class Carry(StrEnum):
    """Why a carried answer needs review, or why an answer was dropped."""

    TAKEN_OVER = "taken_over"
    CHANGED = "changed"
    ABSENT = "absent"
    WITHDRAWN = "withdrawn"

    @property
    def msgid(self) -> str:
        return CARRY_MSGIDS[self]


CARRY_MSGIDS = {
    Carry.TAKEN_OVER: N_("repris de %(sources)s (critère remplacé ou fusionné dans %(version)s)"),
    Carry.CHANGED: N_("critère modifié dans %(version)s (%(fields)s)"),
    Carry.ABSENT: N_("absent de %(version)s"),
    Carry.WITHDRAWN: N_("retiré dans %(version)s sans successeur"),
}


class Note(NamedTuple):
    """What happened to one criterion's answer, as a code and the values its sentence names."""

    criterion: str
    code: Carry
    params: Mapping[str, str]

    @property
    def text(self) -> str:
        """The note in French, as the audit log records it."""
        return self.code.msgid % self.params


@dataclass(frozen=True, slots=True)
class Migration:
    """Answers carried to another criteria version, and what happened to each."""

    answers: dict[str, Answer]
    carried: tuple[str, ...]
    review_notes: tuple[Note, ...]
    dropped_notes: tuple[Note, ...]
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """For each migrated answer, the criteria of the old version it comes from."""

    @property
    def review(self) -> tuple[tuple[str, str], ...]:
        """Each carried answer to review, with why, in French."""
        return tuple((note.criterion, note.text) for note in self.review_notes)

    @property
    def dropped(self) -> tuple[tuple[str, str], ...]:
        """Each answer left behind, with why, in French."""
        return tuple((note.criterion, note.text) for note in self.dropped_notes)


def migrate_answers(
    from_version: CriteriaVersion, to_version: CriteriaVersion, answers: Mapping[str, Answer]
) -> Migration:
    """Carry answers to another version of the same referential, following the file's links.

    An answer to a criterion that is still active and unchanged is carried as is. One whose
    criterion changed, or was withdrawn with `replaced_by` / `merged_into`, moves to the active
    successors and needs review; when several answers land on one criterion the most cautious
    (lowest) level wins. Anything without an active successor is dropped, with the reason.
    """
    if from_version.referential != to_version.referential:
        raise ValueError(f"cannot migrate {from_version.ref} answers to {to_version.ref}")
    landed: dict[str, list[tuple[str, Answer]]] = {}
    dropped: list[Note] = []
    for old_id in sorted(answers):
        targets, why = _successors_in(to_version, old_id)
        if why is not None:
            dropped.append(why)
        for target in targets:
            landed.setdefault(target, []).append((old_id, answers[old_id]))
    carried: list[str] = []
    review: list[Note] = []
    for target in sorted(landed):
        note = _review_note(from_version, to_version, target, [old for old, _ in landed[target]])
        if note is None:
            carried.append(target)
        else:
            review.append(note)
    migrated = {target: _combine([answer for _, answer in landed[target]]) for target in sorted(landed)}
    sources = {target: tuple(old for old, _ in landed[target]) for target in sorted(landed)}
    return Migration(migrated, tuple(carried), tuple(review), tuple(dropped), sources)


def _successors_in(version: CriteriaVersion, criterion_id: str) -> tuple[list[str], Note | None]:
    """Active criteria that take over `criterion_id` in `version`, or none and why."""
    start = version.by_id.get(criterion_id)
    if start is None:
        return [], Note(criterion_id, Carry.ABSENT, {"version": version.ref})
    found: list[str] = []
    pending, seen = [start], set()
    while pending:
        current = pending.pop(0)
        if current.id in seen:
            continue
        seen.add(current.id)
        if current.status == "active":
            found.append(current.id)
        else:
            pending += [version.by_id[s] for s in successors(current) if s in version.by_id]
    return found, None if found else Note(criterion_id, Carry.WITHDRAWN, {"version": version.ref})


def _combine(answers: list[Answer]) -> Answer:
    """One answer from those landing on the same criterion: the lowest level, every piece of evidence."""
    if len(answers) == 1:
        return answers[0]
    levels = [a.level for a in answers if not a.not_applicable and a.level is not None]
    evidence = tuple(dict.fromkeys(piece for a in answers for piece in a.evidence))
    notes = " / ".join(dict.fromkeys(a.justification for a in answers if a.justification))
    if levels:
        return Answer(level=min(levels), justification=notes, evidence=evidence)
    if all(a.not_applicable for a in answers):
        return Answer(not_applicable=True, justification=notes, evidence=evidence)
    return Answer(justification=notes, evidence=evidence)


def _review_note(old: CriteriaVersion, new: CriteriaVersion, target: str, sources: list[str]) -> Note | None:
    """Why the answer landing on `target` needs review, or None when it is carried as is."""
    if sources != [target]:
        return Note(target, Carry.TAKEN_OVER, {"sources": ", ".join(sources), "version": new.ref})
    before, after = old.by_id.get(target), new.by_id[target]
    if before is None:
        return None
    changed = [f for f in REVIEWED_FIELDS if getattr(before, f) != getattr(after, f)]
    if not changed:
        return None
    return Note(target, Carry.CHANGED, {"version": new.ref, "fields": ", ".join(changed)})
