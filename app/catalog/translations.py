"""Translations of the catalog's texts: `<version>.<language>.yaml` beside each French file.

A released French file never changes (its SHA-256 is locked and recorded with every answer), so
its translation lives in a file of its own, which may be corrected at any time: it changes what a
page shows, never a score, a hash or a snapshot (those always use the French catalog). Every id in
a translation must exist in the version it translates; a text it leaves out is shown in French,
and `autodiag criteria validate` lists each such fallback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from app.catalog.loader import CatalogError, Problem, _display, _explain, read_yaml
from app.catalog.models import CriteriaVersion, Level, Questionnaire
from app.catalog.service import Catalog

TRANSLATED_LANGUAGES = ("en",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TitleText(_Strict):
    title: str | None = None
    description: str | None = None


class ScaleText(_Strict):
    label: str | None = None
    description: str | None = None


class FieldText(_Strict):
    label: str | None = None
    options: dict[str, str] = {}


class CriterionText(_Strict):
    title: str | None = None
    requirement: str | None = None
    guidance: str | None = None
    action: str | None = None
    expected_evidence: dict[str, str] = {}
    levels: dict[Level, str] = {}


class CriteriaTranslation(_Strict):
    translates: str
    language: str
    title: str | None = None
    provenance: str | None = None
    areas: dict[str, TitleText] = {}
    workshops: dict[str, TitleText] = {}
    scale: dict[Level, ScaleText] = {}
    profile_fields: dict[str, FieldText] = {}
    criteria: dict[str, CriterionText] = {}


class QuestionText(_Strict):
    text: str | None = None
    help: str | None = None


class SectionText(_Strict):
    title: str | None = None
    intro: str | None = None


class QuestionnaireTranslation(_Strict):
    translates: str
    language: str
    title: str | None = None
    description: str | None = None
    profile: dict[str, QuestionText] = {}
    sections: dict[str, SectionText] = {}
    questions: dict[str, QuestionText] = {}


def translation_path(root: Path, kind: str, ref: str, language: str) -> Path:
    name, version = ref.split("@")
    return root / kind / name / f"{version}.{language}.yaml"


def translate_catalog(catalog: Catalog, language: str) -> tuple[Catalog, list[Problem]]:
    """The catalog with its texts in `language`; CatalogError on a broken translation file.

    Also returns the fallbacks (texts left in French), for `autodiag criteria validate` to list.
    """
    problems: list[Problem] = []
    fallbacks: list[Problem] = []
    criteria = {}
    for ref, version in catalog.criteria.items():
        path = translation_path(catalog.root, "criteria", ref, language)
        found = _read(path, catalog.root, CriteriaTranslation, ref=ref, language=language, problems=problems)
        criteria[ref] = (
            version
            if found is None
            else _criteria(version, found, _display(catalog.root, path), problems, fallbacks)
        )
    questionnaires = {}
    for ref, questionnaire in catalog.questionnaires.items():
        path = translation_path(catalog.root, "questionnaires", ref, language)
        found = _read(
            path, catalog.root, QuestionnaireTranslation, ref=ref, language=language, problems=problems
        )
        questionnaires[ref] = (
            questionnaire
            if found is None
            else _questionnaire(questionnaire, found, _display(catalog.root, path), problems, fallbacks)
        )
    if problems:
        raise CatalogError(problems)
    translated = Catalog(
        root=catalog.root,
        criteria=criteria,
        criteria_hashes=catalog.criteria_hashes,
        questionnaires=questionnaires,
        questionnaire_hashes=catalog.questionnaire_hashes,
    )
    return translated, fallbacks


def _read(
    path: Path, root: Path, model: type[Any], *, ref: str, language: str, problems: list[Problem]
) -> Any:
    if not path.exists():
        return None
    shown = _display(root, path)
    try:
        raw = read_yaml(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        problems.append(Problem(shown, str(error)))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(shown, "expected a mapping at the top of the file"))
        return None
    try:
        found = model.model_validate(raw)
    except ValidationError as error:
        problems.extend(Problem(shown, *_explain(err, raw)) for err in error.errors())
        return None
    if found.translates != ref or found.language != language:
        problems.append(
            Problem(
                shown,
                f"says it translates {found.translates} into {found.language!r}, expected {ref} into {language!r}",
            )
        )
        return None
    return found


class _Texts:
    """Pick each text from the translation, or keep the French one and record the fallback."""

    def __init__(self, shown: str, fallbacks: list[Problem]) -> None:
        self.shown, self.fallbacks = shown, fallbacks

    def pick(self, translated: str | None, french: str, where: str, field: str) -> str:
        if translated and translated.strip():
            return translated.strip()
        if french:
            self.fallbacks.append(
                Problem(self.shown, "not translated: shown in French", where or None, field)
            )
        return french


def _unknown(shown: str, problems: list[Problem], kind: str, ids: object, known: object) -> None:
    for orphan in sorted(set(ids) - set(known), key=str):  # type: ignore[call-overload]
        problems.append(Problem(shown, f"no {kind} {orphan!r} in the version it translates"))


def _criteria(
    version: CriteriaVersion,
    found: CriteriaTranslation,
    shown: str,
    problems: list[Problem],
    fallbacks: list[Problem],
) -> CriteriaVersion:
    texts = _Texts(shown, fallbacks)
    _unknown(shown, problems, "area", found.areas, [a.id for a in version.areas])
    _unknown(shown, problems, "workshop", found.workshops, [w.id for w in version.workshops])
    _unknown(shown, problems, "scale level", found.scale, [s.level for s in version.scale])
    _unknown(shown, problems, "profile field", found.profile_fields, version.fields_by_id)
    _unknown(shown, problems, "criterion", found.criteria, version.by_id)
    areas = tuple(
        a.model_copy(
            update={
                "title": texts.pick(
                    found.areas.get(a.id, TitleText()).title, a.title, f"area {a.id}", "title"
                ),
                "description": texts.pick(
                    found.areas.get(a.id, TitleText()).description,
                    a.description,
                    f"area {a.id}",
                    "description",
                ),
            }
        )
        for a in version.areas
    )
    workshops = tuple(
        w.model_copy(
            update={
                "title": texts.pick(
                    found.workshops.get(w.id, TitleText()).title, w.title, f"workshop {w.id}", "title"
                ),
                "description": texts.pick(
                    found.workshops.get(w.id, TitleText()).description,
                    w.description,
                    f"workshop {w.id}",
                    "description",
                ),
            }
        )
        for w in version.workshops
    )
    scale = tuple(
        s.model_copy(
            update={
                "label": texts.pick(
                    found.scale.get(s.level, ScaleText()).label, s.label, f"level {s.level}", "label"
                ),
                "description": texts.pick(
                    found.scale.get(s.level, ScaleText()).description,
                    s.description,
                    f"level {s.level}",
                    "description",
                ),
            }
        )
        for s in version.scale
    )
    fields = []
    for f in version.profile_fields:
        field_text = found.profile_fields.get(f.id, FieldText())
        _unknown(shown, problems, f"option of {f.id}:", field_text.options, [o.value for o in f.options])
        options = tuple(
            o.model_copy(
                update={
                    "label": texts.pick(
                        field_text.options.get(o.value),
                        o.label,
                        f"profile field {f.id}",
                        f"options.{o.value}",
                    )
                }
            )
            for o in f.options
        )
        fields.append(
            f.model_copy(
                update={
                    "label": texts.pick(field_text.label, f.label, f"profile field {f.id}", "label"),
                    "options": options,
                }
            )
        )
    criteria = []
    for c in version.criteria:
        text = found.criteria.get(c.id, CriterionText())
        _unknown(
            shown,
            problems,
            f"expected evidence of {c.id}:",
            text.expected_evidence,
            [e.id for e in c.expected_evidence],
        )
        _unknown(shown, problems, f"level of {c.id}:", text.levels, c.levels)
        evidence = tuple(
            e.model_copy(
                update={
                    "label": texts.pick(
                        text.expected_evidence.get(e.id), e.label, c.id, f"expected_evidence.{e.id}"
                    )
                }
            )
            for e in c.expected_evidence
        )
        levels = {
            level: texts.pick(text.levels.get(level), words, c.id, f"levels.{level}")
            for level, words in c.levels.items()
        }
        update = {
            name: texts.pick(getattr(text, name), getattr(c, name), c.id, name)
            for name in ("title", "requirement", "guidance", "action")
        }
        criteria.append(c.model_copy(update=update | {"expected_evidence": evidence, "levels": levels}))
    return _rebuilt(
        version,
        {
            "title": texts.pick(found.title, version.title, "", "title"),
            "provenance": texts.pick(found.provenance, version.provenance, "", "provenance"),
            "areas": areas,
            "workshops": workshops,
            "scale": scale,
            "profile_fields": tuple(fields),
            "criteria": tuple(criteria),
        },
    )


def _questionnaire(
    questionnaire: Questionnaire,
    found: QuestionnaireTranslation,
    shown: str,
    problems: list[Problem],
    fallbacks: list[Problem],
) -> Questionnaire:
    texts = _Texts(shown, fallbacks)
    _unknown(shown, problems, "profile question", found.profile, [q.field for q in questionnaire.profile])
    _unknown(shown, problems, "section", found.sections, [s.id for s in questionnaire.sections])
    _unknown(shown, problems, "question", found.questions, questionnaire.criterion_ids)
    profile = tuple(
        q.model_copy(
            update={
                "text": texts.pick(
                    found.profile.get(q.field, QuestionText()).text,
                    q.text,
                    f"profile question {q.field}",
                    "text",
                ),
                "help": texts.pick(
                    found.profile.get(q.field, QuestionText()).help,
                    q.help,
                    f"profile question {q.field}",
                    "help",
                ),
            }
        )
        for q in questionnaire.profile
    )
    sections = []
    for s in questionnaire.sections:
        text = found.sections.get(s.id, SectionText())
        questions = tuple(
            q.model_copy(
                update={
                    "text": texts.pick(
                        found.questions.get(q.criterion, QuestionText()).text,
                        q.text,
                        f"question {q.criterion}",
                        "text",
                    ),
                    "help": texts.pick(
                        found.questions.get(q.criterion, QuestionText()).help,
                        q.help,
                        f"question {q.criterion}",
                        "help",
                    ),
                }
            )
            for q in s.questions
        )
        sections.append(
            s.model_copy(
                update={
                    "title": texts.pick(text.title, s.title, f"section {s.id}", "title"),
                    "intro": texts.pick(text.intro, s.intro, f"section {s.id}", "intro"),
                    "questions": questions,
                }
            )
        )
    return _rebuilt(
        questionnaire,
        {
            "title": texts.pick(found.title, questionnaire.title, "", "title"),
            "description": texts.pick(found.description, questionnaire.description, "", "description"),
            "profile": profile,
            "sections": tuple(sections),
        },
    )


Rebuilt = TypeVar("Rebuilt", CriteriaVersion, Questionnaire)


def _rebuilt(model: Rebuilt, update: dict[str, Any]) -> Rebuilt:
    """A copy of a version or questionnaire with new texts, built anew: `model_copy` would carry over
    its cached look-ups (`by_id`, `criterion_ids`), which point at the French objects."""
    return type(model).model_validate(
        {name: getattr(model, name) for name in type(model).model_fields} | update
    )
