"""The format of `questionnaires/`: which criteria a questionnaire asks, in which sections."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated

from pydantic import Field, StringConstraints

from app.catalog.base import SEMVER, Condition, CriterionId, Slug, Status, Strict, Text, Version


class ProfileQuestion(Strict):
    field: Slug
    text: Text
    help: str = ""
    show_if: Condition | None = None


class Question(Strict):
    criterion: CriterionId
    text: Text
    help: str = ""


class Section(Strict):
    id: Slug
    title: Text
    intro: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)


CriteriaRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*@" + SEMVER.pattern[1:])]


class Questionnaire(Strict):
    id: Slug
    version: Version
    title: Text
    description: Text
    status: Status
    partial: bool = Field(
        description="True when it asks only part of the criteria: its results are an estimate."
    )
    criteria: CriteriaRef = Field(description="The criteria version asked, as referential@version.")
    profile: tuple[ProfileQuestion, ...] = ()
    sections: tuple[Section, ...] = Field(min_length=1)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @cached_property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(q.criterion for s in self.sections for q in s.questions)
