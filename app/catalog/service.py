"""The loaded catalog: look-ups by reference, version comparison, and the committed JSON Schemas."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from app.catalog.checks import successors
from app.catalog.models import (
    AllOf,
    AnyOf,
    Condition,
    CriteriaVersion,
    Criterion,
    Fact,
    Includes,
    ProfileField,
    Questionnaire,
    Status,
)
from app.locale import gettext as _

Picked = TypeVar("Picked", CriteriaVersion, Questionnaire)
Keyed = TypeVar("Keyed", ProfileField, Fact)

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "criteria/criteria.schema.json": CriteriaVersion,
    "questionnaires/questionnaire.schema.json": Questionnaire,
}
DIFFED_FIELDS = tuple(
    name for name in Criterion.model_fields if name not in {"id", "status", "replaced_by", "merged_into"}
)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class Catalog:
    """Every criteria version and questionnaire, keyed by `name@version`, with file hashes."""

    root: Path
    criteria: dict[str, CriteriaVersion]
    criteria_hashes: dict[str, str]
    questionnaires: dict[str, Questionnaire]
    questionnaire_hashes: dict[str, str]
    untranslated: frozenset[str] = frozenset()
    """In a translated catalog, `"<ref> <id>"` of each criterion or question shown partly in French."""

    def criteria_version(self, ref: str) -> CriteriaVersion:
        """Find `referential@version`, or the latest released version for a bare referential."""
        return _pick(self.criteria, ref, "criteria version")

    def questionnaire(self, ref: str) -> Questionnaire:
        """Find `id@version`, or the latest released version for a bare id."""
        return _pick(self.questionnaires, ref, "questionnaire")

    def referentials(self) -> dict[str, list[CriteriaVersion]]:
        """Versions of each referential, newest first."""
        grouped: dict[str, list[CriteriaVersion]] = {}
        for version in sorted(self.criteria.values(), key=lambda v: version_key(v.version), reverse=True):
            grouped.setdefault(version.referential, []).append(version)
        return dict(sorted(grouped.items()))

    def startable(self) -> list[Questionnaire]:
        """The latest released version of each questionnaire, the full one first."""
        ids = {q.id for q in self.questionnaires.values() if q.status == "released"}
        return sorted((self.questionnaire(i) for i in ids), key=lambda q: (q.partial, q.title))

    def questionnaires_for(self, criteria_ref: str) -> list[Questionnaire]:
        return sorted(
            (q for q in self.questionnaires.values() if q.criteria == criteria_ref),
            key=lambda q: (q.partial, q.id, version_key(q.version)),
        )


def _pick(items: dict[str, Picked], ref: str, kind: str) -> Picked:
    if "@" in ref:
        if ref in items:
            return items[ref]
        raise LookupError(f"unknown {kind} {ref} (known: {', '.join(sorted(items)) or 'none'})")
    released = [
        item for key, item in items.items() if key.split("@")[0] == ref and item.status == Status.RELEASED
    ]
    if not released:
        raise LookupError(f"no released {kind} named {ref!r} (known: {', '.join(sorted(items)) or 'none'})")
    return max(released, key=lambda item: version_key(item.version))


@dataclass(frozen=True)
class CriteriaDiff:
    """What changed between two versions of one referential."""

    old: str
    new: str
    added: list[str]
    withdrawn: list[tuple[str, tuple[str, ...]]]
    changed: dict[str, list[str]]
    scoring_changed: list[str]
    profile_changed: dict[str, str] = field(default_factory=dict)
    """Profile fields added, removed or changed: {field id: "added" | "removed" | "changed"}."""
    certification_changed: dict[str, str] = field(default_factory=dict)
    changelog: list[str] = field(default_factory=list)
    """What the new version's changelog says it changed."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "added": self.added,
            "withdrawn": [{"criterion": c, "successors": list(s)} for c, s in self.withdrawn],
            "changed": self.changed,
            "scoring_changed": self.scoring_changed,
            "profile_changed": self.profile_changed,
            "certification_changed": self.certification_changed,
            "changelog": self.changelog,
        }


def diff(old: CriteriaVersion, new: CriteriaVersion) -> CriteriaDiff:
    """Compare two versions: criteria added, withdrawn (with successors), fields changed, scoring."""
    old_active = {c.id: c for c in old.active}
    added = [c.id for c in new.active if c.id not in old_active]
    withdrawn = [
        (c.id, successors(c)) for c in new.criteria if c.status == "withdrawn" and c.id in old_active
    ]
    withdrawn += [(cid, ()) for cid in old_active if cid not in new.by_id]
    changed: dict[str, list[str]] = {}
    for criterion in new.active:
        before = old_active.get(criterion.id)
        if before is not None:
            fields = [f for f in DIFFED_FIELDS if getattr(before, f) != getattr(criterion, f)]
            if fields:
                changed[criterion.id] = fields
    scoring_old, scoring_new = old.scoring.model_dump(), new.scoring.model_dump()
    scoring_changed = [k for k in scoring_new if scoring_old.get(k) != scoring_new[k]]
    logged = [line for entry in new.changelog if entry.version == new.version for line in entry.changes]
    return CriteriaDiff(
        old.ref,
        new.ref,
        added,
        sorted(withdrawn),
        changed,
        scoring_changed,
        _compared(old.profile_fields, new.profile_fields),
        _compared(old.certification, new.certification),
        logged,
    )


def _compared(old: Sequence[Keyed], new: Sequence[Keyed]) -> dict[str, str]:
    """Items of two lists keyed by id: which were added, removed or changed."""
    before, after = {item.id: item for item in old}, {item.id: item for item in new}
    found = {key: "removed" for key in before if key not in after}
    for key, item in after.items():
        if key not in before:
            found[key] = "added"
        elif before[key] != item:
            found[key] = "changed"
    return dict(sorted(found.items()))


def json_schemas() -> dict[str, str]:
    """The JSON Schema text of each file format, keyed by its committed path."""
    return {
        path: json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for path, model in SCHEMA_FILES.items()
    }


def describe_condition(
    condition: Condition, fields: Mapping[str, ProfileField], *, nested: bool = False
) -> str:
    """Put a profile condition into words, with the field and option labels of the criteria file."""
    if isinstance(condition, AnyOf | AllOf):
        parts, joiner = (
            (condition.any, _(" ou ")) if isinstance(condition, AnyOf) else (condition.all, _(" et "))
        )
        text = joiner.join(describe_condition(part, fields, nested=True) for part in parts)
        return f"({text})" if nested and len(parts) > 1 else text
    field = fields[condition.field]
    if isinstance(condition, Includes):
        option = _option_label(field, condition.includes)
        return _("« %(field)s » comprend « %(option)s »") % {"field": field.label, "option": option}
    if isinstance(condition.equals, bool):
        answer = _("oui") if condition.equals else _("non")
        return _("« %(field)s » : %(answer)s") % {"field": field.label, "answer": answer}
    option = _option_label(field, condition.equals)
    return _("« %(field)s » est « %(option)s »") % {"field": field.label, "option": option}


def _option_label(field: ProfileField, value: str) -> str:
    return next((option.label for option in field.options if option.value == value), value)
