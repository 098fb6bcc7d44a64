"""Translations of the catalog's texts: `<version>.<language>.yaml` beside each French file.

A released French file never changes (its SHA-256 is locked and recorded with every answer), so
its translation lives in a file of its own, which may be corrected at any time: it changes what a
page shows, never a score, a hash or a snapshot (those always use the French catalog). Every id in
a translation must exist in the version it translates; a text it leaves out is shown in French,
and `autodiag criteria validate` lists each such fallback.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from app.catalog.loader import CatalogError, Problem, _display, _explain, read_yaml
from app.catalog.models import (
    ChangelogEntry,
    CriteriaVersion,
    Criterion,
    Level,
    ProfileField,
    Questionnaire,
)
from app.catalog.service import Catalog
from app.locale import DEFAULT_LANGUAGE, LANGUAGES

TRANSLATED_LANGUAGES = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)
FALLBACK = "not translated: shown in French"
Texted = TypeVar("Texted", bound=BaseModel)


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


class FactText(_Strict):
    title: str | None = None
    text: str | None = None


class CriteriaTranslation(_Strict):
    translates: str
    language: str
    title: str | None = None
    provenance: str | None = None
    areas: dict[str, TitleText] = {}
    workshops: dict[str, TitleText] = {}
    scale: dict[Level, ScaleText] = {}
    profile_fields: dict[str, FieldText] = {}
    certification: dict[str, FactText] = {}
    changelog: dict[str, tuple[str, ...]] = {}
    """Each version's changes, in the order of the French list."""
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


def by_language(catalog: Catalog) -> dict[str, Catalog]:
    """The catalog in each interface language, French (as its files say) first; CatalogError if broken."""
    return {DEFAULT_LANGUAGE: catalog} | {
        code: translate_catalog(catalog, code)[0] for code in TRANSLATED_LANGUAGES
    }


def translate_catalog(catalog: Catalog, language: str) -> tuple[Catalog, list[Problem]]:
    """The catalog with its texts in `language`; CatalogError on a broken translation file.

    Also returns the fallbacks (texts left in French), for `autodiag criteria validate` to list.
    """
    problems: list[Problem] = []
    fallbacks: list[Problem] = []
    untranslated: set[str] = set()
    criteria = {}
    for ref, version in catalog.criteria.items():
        path = translation_path(catalog.root, "criteria", ref, language)
        found = _read(path, catalog.root, CriteriaTranslation, ref=ref, language=language, problems=problems)
        texts = _Texts(_display(catalog.root, path), fallbacks, ref, untranslated)
        criteria[ref] = version if found is None else _criteria(version, found, texts, problems)
    questionnaires = {}
    for ref, questionnaire in catalog.questionnaires.items():
        path = translation_path(catalog.root, "questionnaires", ref, language)
        found = _read(
            path, catalog.root, QuestionnaireTranslation, ref=ref, language=language, problems=problems
        )
        texts = _Texts(_display(catalog.root, path), fallbacks, ref, untranslated)
        questionnaires[ref] = (
            questionnaire if found is None else _questionnaire(questionnaire, found, texts, problems)
        )
    if problems:
        raise CatalogError(problems)
    translated = Catalog(
        root=catalog.root,
        criteria=criteria,
        criteria_hashes=catalog.criteria_hashes,
        questionnaires=questionnaires,
        questionnaire_hashes=catalog.questionnaire_hashes,
        untranslated=frozenset(untranslated),
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

    def __init__(self, shown: str, fallbacks: list[Problem], ref: str, untranslated: set[str]) -> None:
        self.shown, self.fallbacks, self.ref, self.untranslated = shown, fallbacks, ref, untranslated

    def pick(self, translated: str | None, french: str, where: str, field: str) -> str:
        if translated and translated.strip():
            return translated.strip()
        if french:
            self.fallbacks.append(Problem(self.shown, FALLBACK, where or None, field))
            self.untranslated.add(f"{self.ref} {where.removeprefix('question ')}".strip())
        return french

    def copy(self, model: Texted, text: BaseModel | None, names: tuple[str, ...], where: str) -> Texted:
        """`model` with each of its `names` fields taken from `text` where it has one."""
        picked = {n: self.pick(getattr(text, n, None), getattr(model, n), where, n) for n in names}
        return model.model_copy(update=picked)


def _unknown(
    shown: str, problems: list[Problem], kind: str, ids: Iterable[Any], known: Iterable[Any]
) -> None:
    for orphan in sorted(set(ids) - set(known), key=str):
        problems.append(Problem(shown, f"no {kind} {orphan!r} in the version it translates"))


def _criteria(
    version: CriteriaVersion, found: CriteriaTranslation, texts: _Texts, problems: list[Problem]
) -> CriteriaVersion:
    shown = texts.shown
    _unknown(shown, problems, "area", found.areas, [a.id for a in version.areas])
    _unknown(shown, problems, "workshop", found.workshops, [w.id for w in version.workshops])
    _unknown(shown, problems, "scale level", found.scale, [s.level for s in version.scale])
    _unknown(shown, problems, "profile field", found.profile_fields, version.fields_by_id)
    _unknown(shown, problems, "criterion", found.criteria, version.by_id)
    _unknown(
        shown, problems, "certification fact", found.certification, [f.id for f in version.certification]
    )
    _unknown(shown, problems, "changelog version", found.changelog, [e.version for e in version.changelog])
    described = ("title", "description")
    return _rebuilt(
        version,
        {
            "title": texts.pick(found.title, version.title, "", "title"),
            "provenance": texts.pick(found.provenance, version.provenance, "", "provenance"),
            "areas": tuple(
                texts.copy(a, found.areas.get(a.id), described, f"area {a.id}") for a in version.areas
            ),
            "workshops": tuple(
                texts.copy(w, found.workshops.get(w.id), described, f"workshop {w.id}")
                for w in version.workshops
            ),
            "scale": tuple(
                texts.copy(s, found.scale.get(s.level), ("label", "description"), f"level {s.level}")
                for s in version.scale
            ),
            "profile_fields": tuple(
                _field(f, found.profile_fields.get(f.id), texts, problems) for f in version.profile_fields
            ),
            "certification": tuple(
                texts.copy(f, found.certification.get(f.id), ("title", "text"), f"certification {f.id}")
                for f in version.certification
            ),
            "changelog": tuple(_changes(e, found.changelog.get(e.version), texts) for e in version.changelog),
            "criteria": tuple(
                _criterion(c, found.criteria.get(c.id), texts, problems) for c in version.criteria
            ),
        },
    )


def _changes(entry: ChangelogEntry, text: tuple[str, ...] | None, texts: _Texts) -> ChangelogEntry:
    """A changelog entry in the translation's words when it gives one per French line."""
    if text is not None and len(text) == len(entry.changes):
        return entry.model_copy(update={"changes": tuple(t.strip() for t in text)})
    texts.pick(None, entry.changes[0], f"changelog {entry.version}", "changes")
    return entry


def _field(
    field: ProfileField, text: FieldText | None, texts: _Texts, problems: list[Problem]
) -> ProfileField:
    text = text or FieldText()
    where = f"profile field {field.id}"
    _unknown(texts.shown, problems, f"option of {field.id}:", text.options, [o.value for o in field.options])
    options = tuple(
        o.model_copy(
            update={"label": texts.pick(text.options.get(o.value), o.label, where, f"options.{o.value}")}
        )
        for o in field.options
    )
    return texts.copy(field, text, ("label",), where).model_copy(update={"options": options})


def _criterion(
    criterion: Criterion, text: CriterionText | None, texts: _Texts, problems: list[Problem]
) -> Criterion:
    text, cid = text or CriterionText(), criterion.id
    evidence_ids = [e.id for e in criterion.expected_evidence]
    _unknown(texts.shown, problems, f"expected evidence of {cid}:", text.expected_evidence, evidence_ids)
    _unknown(texts.shown, problems, f"level of {cid}:", text.levels, criterion.levels)
    evidence = tuple(
        e.model_copy(
            update={
                "label": texts.pick(
                    text.expected_evidence.get(e.id), e.label, cid, f"expected_evidence.{e.id}"
                )
            }
        )
        for e in criterion.expected_evidence
    )
    levels = {
        n: texts.pick(text.levels.get(n), words, cid, f"levels.{n}") for n, words in criterion.levels.items()
    }
    translated = texts.copy(criterion, text, ("title", "requirement", "guidance", "action"), cid)
    return translated.model_copy(update={"expected_evidence": evidence, "levels": levels})


def _questionnaire(
    questionnaire: Questionnaire, found: QuestionnaireTranslation, texts: _Texts, problems: list[Problem]
) -> Questionnaire:
    shown = texts.shown
    _unknown(shown, problems, "profile question", found.profile, [q.field for q in questionnaire.profile])
    _unknown(shown, problems, "section", found.sections, [s.id for s in questionnaire.sections])
    _unknown(shown, problems, "question", found.questions, questionnaire.criterion_ids)
    asked = ("text", "help")
    sections = tuple(
        texts.copy(s, found.sections.get(s.id), ("title", "intro"), f"section {s.id}").model_copy(
            update={
                "questions": tuple(
                    texts.copy(q, found.questions.get(q.criterion), asked, f"question {q.criterion}")
                    for q in s.questions
                )
            }
        )
        for s in questionnaire.sections
    )
    return _rebuilt(
        questionnaire,
        {
            "title": texts.pick(found.title, questionnaire.title, "", "title"),
            "description": texts.pick(found.description, questionnaire.description, "", "description"),
            "profile": tuple(
                texts.copy(q, found.profile.get(q.field), asked, f"profile question {q.field}")
                for q in questionnaire.profile
            ),
            "sections": sections,
        },
    )


Rebuilt = TypeVar("Rebuilt", CriteriaVersion, Questionnaire)


def _rebuilt(model: Rebuilt, update: dict[str, Any]) -> Rebuilt:
    """A copy of a version or questionnaire with new texts, built anew: `model_copy` would carry over
    its cached look-ups (`by_id`, `criterion_ids`), which point at the French objects."""
    return type(model).model_validate(
        {name: getattr(model, name) for name in type(model).model_fields} | update
    )
