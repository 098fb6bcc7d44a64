"""The answers document: the format `autodiag score` reads and `POST /api/v1/score` takes.

    questionnaire: full            # or full@1.0.0
    profile: {type_structure: association, registres: [presence_proximite], ...}
    answers:
      DEO-01: {level: 3, justification: "...", evidence: ["Charte signée 2025"]}
      STR-12: {level: na, justification: "Pas de travail de nuit"}
    reference_date: 2026-06-30     # optional: evidence validity is counted to it (default: today)

`resolve` checks it against the catalog and returns what `score` needs; every problem is
reported at once, each naming the field it is about.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.catalog.loader import check_nesting, read_yaml
from app.catalog.models import CriteriaVersion, Questionnaire
from app.catalog.service import Catalog
from app.scoring.models import Answer, Evidence, ProfileValue, Result
from app.scoring.service import score

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Day = Annotated[date, Field(strict=False)]  # YAML reads a date, JSON a string


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EvidenceEntry(_Strict):
    title: Title
    covers: list[str] = Field(default_factory=list)
    document_date: Day | None = None


class AnswerEntry(_Strict):
    level: Literal[0, 1, 2, 3, "na"]
    justification: Annotated[str, StringConstraints(max_length=5000)] = ""
    evidence: list[Title | EvidenceEntry] = Field(default_factory=list)


class AnswersDocument(_Strict):
    questionnaire: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*(@\d+\.\d+\.\d+)?$")]
    profile: dict[str, bool | str | list[str]] = Field(default_factory=dict)
    answers: dict[str, AnswerEntry] = Field(default_factory=dict)
    reference_date: Day | None = None


@dataclass(frozen=True)
class ScoringRequest:
    version: CriteriaVersion
    questionnaire: Questionnaire
    profile: dict[str, ProfileValue]
    answers: dict[str, Answer]
    reference_date: date | None = None


def scored(request: ScoringRequest, *, today: date) -> Result:
    """Score a resolved document; a partial questionnaire scores only the criteria it asks.

    Evidence validity is counted to the document's `reference_date`, else to `today` (the caller's
    clock: the core reads none).
    """
    questionnaire = request.questionnaire
    scope = questionnaire.criterion_ids if questionnaire.partial else None
    return score(
        request.version,
        profile=request.profile,
        answers=request.answers,
        scope=scope,
        reference_date=request.reference_date or today,
    )


class AnswersError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


def parse_text(text: str, *, json_only: bool = False) -> Any:
    """Read a YAML or JSON document, refusing duplicate keys."""
    try:
        if json_only:
            check_nesting(text)
            return json.loads(text)
        return read_yaml(text)
    except json.JSONDecodeError as error:
        raise AnswersError(
            [f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from None
    except ValueError as error:
        raise AnswersError([str(error)]) from None
    except RecursionError:  # past `check_nesting`, when closing brackets hide in strings
        raise AnswersError(["nested too deeply"]) from None


def resolve(catalog: Catalog, data: Any) -> ScoringRequest:
    """Check an answers document against the catalog and turn it into scoring inputs."""
    if not isinstance(data, dict):
        raise AnswersError(["expected a mapping with questionnaire, profile and answers"])
    try:
        document = AnswersDocument.model_validate(data)
    except ValidationError as error:
        raise AnswersError([_explain(e) for e in error.errors()]) from None
    try:
        questionnaire = catalog.questionnaire(document.questionnaire)
    except LookupError as error:
        raise AnswersError([f"questionnaire: {error}"]) from None
    version = catalog.criteria_version(questionnaire.criteria)
    problems = [*_profile_problems(version, questionnaire, document)]
    problems += _answer_problems(version, questionnaire, document)
    if problems:
        raise AnswersError(problems)
    return ScoringRequest(
        version=version,
        questionnaire=questionnaire,
        profile=dict(document.profile),
        answers={cid: _answer(entry) for cid, entry in sorted(document.answers.items())},
        reference_date=document.reference_date,
    )


def _explain(error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("str", "EvidenceEntry")))
    message = str(error["msg"])
    if error["loc"][-1:] == ("level",):
        message = "must be 0, 1, 2, 3 or na"
    return f"{loc}: {message}" if loc else message


def _profile_problems(
    version: CriteriaVersion, questionnaire: Questionnaire, document: AnswersDocument
) -> Iterator[str]:
    asked = {p.field for p in questionnaire.profile}
    for field_id, value in sorted(document.profile.items()):
        field = version.fields_by_id.get(field_id)
        if field is None or field_id not in asked:
            yield f"profile.{field_id}: not a profile question of {questionnaire.ref} (known: {', '.join(sorted(asked))})"
            continue
        options = [option.value for option in field.options]
        if field.kind == "boolean" and not isinstance(value, bool):
            yield f"profile.{field_id}: must be true or false"
        elif field.kind == "choice" and value not in options:
            yield f"profile.{field_id}: must be one of {', '.join(options)}"
        elif field.kind == "multi" and (
            not isinstance(value, list) or any(item not in options for item in value)
        ):
            yield f"profile.{field_id}: must be a list of {', '.join(options)}"


def _answer_problems(
    version: CriteriaVersion, questionnaire: Questionnaire, document: AnswersDocument
) -> Iterator[str]:
    asked = set(questionnaire.criterion_ids)
    for criterion_id, entry in sorted(document.answers.items()):
        where = f"answers.{criterion_id}"
        if criterion_id not in asked:
            yield f"{where}: not a question of {questionnaire.ref}"
            continue
        criterion = version.by_id[criterion_id]
        if entry.level == "na" and not version.allows_na(criterion):
            kind = "a deontology" if criterion.area == "deontologie" else "a critical"
            yield (
                f"{where}.level: na is not allowed on {kind} criterion in {version.ref} "
                "(only the profile can make it not applicable): give a level 0 to 3"
            )
        elif entry.level == "na" and not entry.justification.strip():
            yield f"{where}.justification: required when level is na"
        expected = {e.id for e in criterion.expected_evidence}
        for index, piece in enumerate(entry.evidence):
            unknown = sorted(set(piece.covers) - expected) if isinstance(piece, EvidenceEntry) else []
            if unknown:
                yield (
                    f"{where}.evidence.{index}.covers: unknown expected evidence {', '.join(unknown)} "
                    f"(known: {', '.join(sorted(expected))})"
                )


def _answer(entry: AnswerEntry) -> Answer:
    evidence = tuple(
        Evidence(piece)
        if isinstance(piece, str)
        else Evidence(piece.title, frozenset(piece.covers), piece.document_date)
        for piece in entry.evidence
    )
    if entry.level == "na":
        return Answer(not_applicable=True, justification=entry.justification, evidence=evidence)
    return Answer(level=entry.level, justification=entry.justification, evidence=evidence)
