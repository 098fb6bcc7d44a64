"""Consistency checks that a single pydantic model cannot express.

Each check yields `(message, where, field)` triples; the loader adds the file name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from app.catalog.models import (
    AllOf,
    AnyOf,
    Condition,
    CriteriaVersion,
    Criterion,
    Equals,
    Includes,
    ProfileField,
    Questionnaire,
    Status,
)

Found = tuple[str, str | None, str | None]


def criteria_version(version: CriteriaVersion) -> Iterator[Found]:
    """Check ids, replacement links and applicability conditions of one criteria version."""
    counts = Counter(criterion.id for criterion in version.criteria)
    for criterion_id, count in sorted(counts.items()):
        if count > 1:
            yield f"duplicate criterion id ({count} times)", criterion_id, "id"
    by_id = version.by_id
    for criterion in version.criteria:
        yield from _links(criterion, by_id)
        if criterion.blocking and version.scoring.generation < 2:
            yield "blocking needs scoring version 2.x (v1 rules ignore it)", criterion.id, "blocking"
        if criterion.applies_if is not None:
            for message in condition_problems(criterion.applies_if, version.fields_by_id):
                yield message, criterion.id, "applies_if"


def _links(criterion: Criterion, by_id: Mapping[str, Criterion]) -> Iterator[Found]:
    field = "merged_into" if criterion.merged_into else "replaced_by"
    unknown = [target for target in successors(criterion) if target not in by_id]
    for target in unknown:
        yield f"unknown criterion {target}", criterion.id, field
    if criterion.status == "withdrawn" and not unknown:
        problem = _dead_end([criterion.id], by_id, field)
        if problem:
            yield problem, criterion.id, field


def _dead_end(path: list[str], by_id: Mapping[str, Criterion], field: str) -> str | None:
    """Follow every successor from the end of `path`; say how a chain fails to reach an active one."""
    current = by_id[path[-1]]
    if current.status == "active":
        return None
    if not successors(current):
        if len(path) == 1:
            return None  # withdrawn on purpose with no successor: its answers are dropped
        chain = " → ".join(path)
        return f"broken {field} chain: {chain}, and {current.id} is withdrawn with no successor"
    for target in successors(current):
        if target in path:
            return f"{field} cycle: {' → '.join([*path, target])}"
        if target in by_id:  # an unknown target is reported for the criterion that names it
            problem = _dead_end([*path, target], by_id, field)
            if problem:
                return problem
    return None


def successors(criterion: Criterion) -> tuple[str, ...]:
    """The criteria that take over a withdrawn one, in order."""
    if criterion.merged_into:
        return (criterion.merged_into,)
    return criterion.replaced_by


def condition_problems(condition: Condition, fields: Mapping[str, ProfileField]) -> Iterator[str]:
    """Say what is wrong with a condition on the structure's profile."""
    if isinstance(condition, AnyOf | AllOf):
        parts = condition.any if isinstance(condition, AnyOf) else condition.all
        for part in parts:
            yield from condition_problems(part, fields)
        return
    field = fields.get(condition.field)
    if field is None:
        known = ", ".join(sorted(fields)) or "none"
        yield f"unknown profile field {condition.field!r} (known: {known})"
        return
    options = {option.value for option in field.options}
    if isinstance(condition, Includes):
        if field.kind != "multi":
            yield f"'includes' needs a multi field, and {field.id!r} is {field.kind}"
        elif condition.includes not in options:
            yield f"{condition.includes!r} is not an option of {field.id!r}"
    elif isinstance(condition, Equals):
        if field.kind == "boolean" and not isinstance(condition.equals, bool):
            yield f"{field.id!r} is boolean: compare it to true or false"
        elif field.kind != "boolean" and condition.equals not in options:
            yield f"{condition.equals!r} is not an option of {field.id!r}"
        elif field.kind == "multi":
            yield f"{field.id!r} is multi: use 'includes'"


def condition_fields(condition: Condition) -> Iterator[str]:
    """Every profile field a condition reads."""
    if isinstance(condition, AnyOf | AllOf):
        for part in condition.any if isinstance(condition, AnyOf) else condition.all:
            yield from condition_fields(part)
    else:
        yield condition.field


def questionnaire(q: Questionnaire, known: Mapping[str, CriteriaVersion]) -> Iterator[Found]:
    """Check a questionnaire against the criteria version it asks about."""
    version = known.get(q.criteria)
    if version is None:
        yield (
            f"unknown criteria version {q.criteria} (known: {', '.join(sorted(known)) or 'none'})",
            (None),
            "criteria",
        )
        return
    if q.status == Status.RELEASED and version.status != Status.RELEASED:
        yield (
            f"a released questionnaire must ask a released criteria version, and {q.criteria} is {version.status}",
            (None),
            "criteria",
        )
    yield from _questions(q, version)
    yield from _profile(q, version)


def _questions(q: Questionnaire, version: CriteriaVersion) -> Iterator[Found]:
    for section_id, count in Counter(s.id for s in q.sections).items():
        if count > 1:
            yield f"duplicate section id ({count} times)", f"section {section_id}", "id"
    for criterion_id, count in Counter(q.criterion_ids).items():
        if count > 1:
            yield f"criterion asked {count} times", f"question {criterion_id}", "criterion"
    for criterion_id in dict.fromkeys(q.criterion_ids):
        criterion = version.by_id.get(criterion_id)
        if criterion is None:
            yield f"unknown criterion in {version.ref}", f"question {criterion_id}", "criterion"
        elif criterion.status == "withdrawn":
            successor = ", ".join(successors(criterion))
            note = f"replaced by {successor}" if successor else "no successor"
            yield f"criterion is withdrawn in {version.ref} ({note})", f"question {criterion_id}", "criterion"
    if not q.partial:
        missing = [c.id for c in version.active if c.id not in set(q.criterion_ids)]
        if missing:
            yield (
                f"a complete questionnaire must ask every criterion; missing: {', '.join(missing)}",
                (None),
                "sections",
            )


def _profile(q: Questionnaire, version: CriteriaVersion) -> Iterator[Found]:
    asked = [p.field for p in q.profile]
    for field_id, count in Counter(asked).items():
        if count > 1:
            yield f"profile field asked {count} times", f"profile question {field_id}", "field"
    fields = version.fields_by_id
    asked_fields = {f: fields[f] for f in asked if f in fields}
    for question in q.profile:
        where = f"profile question {question.field}"
        if question.field not in fields:
            yield f"unknown profile field in {version.ref}", where, "field"
        if question.show_if is not None:
            for message in condition_problems(question.show_if, asked_fields):
                yield message.replace("profile field", "profile question"), where, "show_if"
            if question.field in set(condition_fields(question.show_if)):
                yield "a question cannot depend on itself", where, "show_if"
    needed: set[str] = set()
    for criterion_id in set(q.criterion_ids) & set(version.by_id):
        condition = version.by_id[criterion_id].applies_if
        needed |= set(condition_fields(condition)) if condition else set()
    for field_id in sorted(needed - set(asked)):
        yield f"criteria depend on profile field {field_id!r}, which is not asked", None, "profile"
