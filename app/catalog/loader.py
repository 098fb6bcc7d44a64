"""Read every criteria and questionnaire file, check each one and all of them together.

Layout under a catalog root:
    criteria/<referential>/<version>.yaml        one CriteriaVersion per file
    criteria/<referential>/releases.lock         SHA-256 of each released file (sha256sum format)
    criteria/<referential>/<version>.en.yaml     its texts in English (`app/catalog/translations.py`)
    questionnaires/<id>/<version>.yaml           one Questionnaire per file
    questionnaires/<id>/releases.lock

Every problem found is collected, then raised at once in a `CatalogError`: the caller either gets
a complete, consistent catalog or nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.catalog import checks
from app.catalog.models import CriteriaVersion, Questionnaire, Status
from app.catalog.service import Catalog

LOCK_NAME = "releases.lock"
EXAMPLES = "examples"  # questionnaires/examples/ holds example answers files, not a questionnaire
Model = TypeVar("Model", CriteriaVersion, Questionnaire)
_TRANSLATION = re.compile(r".+\.[a-z]{2}\.yaml")
_WITHDRAWN_LINE = re.compile(rb"^status:[ \t]*withdrawn[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one file, said in one line."""

    file: str
    message: str
    where: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = [self.file, self.where, self.field, self.message]
        return ": ".join(part for part in parts if part)


class CatalogError(Exception):
    """The catalog could not be loaded; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in problems))


MAX_FILE_BYTES = 2 * 1024 * 1024
"""A criteria or questionnaire file (the largest today: ~120 KB); larger ones are refused unread."""
MAX_NESTING = 32
"""Brackets and braces nested deeper are refused before parsing (the files use fewer than 10)."""
_OPENING, _CLOSING = frozenset("[{"), frozenset("]}")
_BRACKETS = re.compile(r"[\[\]{}]")

_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """A YAML loader that refuses duplicate keys instead of keeping the last one.

    libyaml's parser when PyYAML has it (several times faster: every app start reads the catalog and
    its translations), the same safe constructor either way.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_LOADED: dict[tuple[Path, str], Catalog] = {}
"""Catalogs already loaded in this process, by folder and the SHA-256 of all their files."""


def load_catalog(root: Path) -> Catalog:
    """Load and cross-check every file under `root`, or raise CatalogError listing all problems.

    Parsed once per process for the same files (`autodiag serve` checks the catalog, then the app
    it serves loads it): a second call with every file unchanged returns the same catalog.
    """
    files = sorted(
        path for kind in ("criteria", "questionnaires") for path in (root / kind).rglob("*") if path.is_file()
    )
    fingerprint = hashlib.sha256()
    for path in files:
        fingerprint.update(f"{path}\0{sha256(path.read_bytes())}\0".encode())
    key = (root, fingerprint.hexdigest())
    if key not in _LOADED:
        _LOADED[key] = _load_catalog(root)
    return _LOADED[key]


def _load_catalog(root: Path) -> Catalog:
    problems: list[Problem] = []
    unreadable: set[str] = set()
    criteria = _load_kind(root, "criteria", CriteriaVersion, problems, unreadable)
    questionnaires = _load_kind(root, "questionnaires", Questionnaire, problems, unreadable)
    for version, path, _ in criteria.values():
        problems += [Problem(path, *p) for p in checks.criteria_version(version)]
    known = {ref: version for ref, (version, _, _) in criteria.items()}
    for questionnaire, path, _ in questionnaires.values():
        if questionnaire.criteria not in unreadable:  # already reported; say it once
            problems += [Problem(path, *p) for p in checks.questionnaire(questionnaire, known)]
    if problems:
        raise CatalogError(problems)
    return Catalog(
        root=root,
        criteria={ref: version for ref, (version, _, _) in criteria.items()},
        criteria_hashes={ref: digest for ref, (_, _, digest) in criteria.items()},
        questionnaires={ref: q for ref, (q, _, _) in questionnaires.items()},
        questionnaire_hashes={ref: digest for ref, (_, _, digest) in questionnaires.items()},
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_lock(path: Path) -> dict[str, str]:
    """Read a releases.lock file: `<sha256>  <file name>` per line, `#` comments allowed."""
    entries: dict[str, str] = {}
    if not path.exists():
        return entries
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](\S+)", line.strip())
        if match is None:
            raise ValueError(f"line {number}: expected '<sha256>  <file name>'")
        entries[match.group(2)] = match.group(1)
    return entries


def _load_kind(
    root: Path, kind: str, model: type[Model], problems: list[Problem], unreadable: set[str]
) -> dict[str, tuple[Model, str, str]]:
    """Load every file of one kind: {ref: (parsed model, display path, sha256)}."""
    loaded: dict[str, tuple[Model, str, str]] = {}
    base = root / kind
    if not base.is_dir():
        problems.append(Problem(kind, f"folder not found under {root}"))
        return loaded
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and p.name != EXAMPLES):
        lock_path = folder / LOCK_NAME
        try:
            lock = read_lock(lock_path)
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(Problem(_display(root, lock_path), str(error)))
            lock = {}
        for path in _version_files(folder, root, problems):
            shown = _display(root, path)
            if path.stat().st_size > MAX_FILE_BYTES:
                problems.append(
                    Problem(shown, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: refused unread")
                )
                unreadable.add(f"{folder.name}@{path.stem}")
                continue
            data = path.read_bytes()
            parsed = _parse(model, data, shown, problems)
            if parsed is None:
                unreadable.add(f"{folder.name}@{path.stem}")
                continue
            owner = parsed.referential if isinstance(parsed, CriteriaVersion) else parsed.id
            misnamed = [Problem(shown, m, field=f) for f, m in _naming(parsed, owner, folder, path)]
            problems += misnamed + [
                Problem(shown, m, field="status") for m in _lock(parsed, data, path, lock)
            ]
            if misnamed:
                unreadable.add(f"{folder.name}@{path.stem}")
            else:
                loaded[parsed.ref] = (parsed, shown, sha256(data))
        for name in sorted(set(lock) - {p.name for p in folder.glob("*.yaml")}):
            problems.append(
                Problem(
                    _display(root, lock_path),
                    f"lists {name}, which is missing: a released version is never deleted "
                    "(mark it withdrawn instead)",
                )
            )
    return loaded


def _version_files(folder: Path, root: Path, problems: list[Problem]) -> Iterator[Path]:
    for path in sorted(folder.iterdir()):
        if _TRANSLATION.fullmatch(path.name):
            continue  # a translation of a version's texts: app/catalog/translations.py
        if path.suffix == ".yaml":
            yield path
        elif path.name != LOCK_NAME and not path.name.startswith("."):
            problems.append(Problem(_display(root, path), "unexpected file: versions are <version>.yaml"))


def check_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Refuse (ValueError, with the line) brackets nested deeper than `limit`, before any parser recurses.

    Brackets inside quoted strings count too (skipping strings costs more than the parse itself):
    stricter than the parser only for a text with dozens of unmatched brackets in one string.
    """
    depth = 0
    for token in _BRACKETS.finditer(text):
        char = token.group()
        if char in _OPENING:
            depth += 1
            if depth > limit:
                line = text.count("\n", 0, token.start()) + 1
                raise ValueError(f"nested deeper than {limit} levels at line {line}")
        elif char in _CLOSING:
            depth = max(0, depth - 1)


def read_yaml(text: str) -> Any:
    """Parse YAML (or JSON) safely, refusing duplicate keys; ValueError says where it failed."""
    check_nesting(text)
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"invalid YAML{where}: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ValueError(f"invalid YAML: {error}") from None
    except RecursionError:  # indentation nested too deep for the parser: no real file comes close
        raise ValueError("invalid YAML: nested too deeply") from None


def _parse(model: type[Model], data: bytes, shown: str, problems: list[Problem]) -> Model | None:
    try:
        raw = read_yaml(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        problems.append(Problem(shown, f"not UTF-8 text (byte {error.start})"))
        return None
    except ValueError as error:
        problems.append(Problem(shown, str(error)))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(shown, "expected a mapping at the top of the file"))
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems += [Problem(shown, *_explain(err, raw)) for err in error.errors()]
        return None


def _explain(error: Any, raw: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """Turn a pydantic error into (message, where, field), naming the criterion or question."""
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    where, rest = None, loc
    if len(loc) >= 2 and loc[0] == "criteria" and loc[1].isdigit():
        where, rest = _item_name(raw, ["criteria", int(loc[1])], "id"), loc[2:]
    elif len(loc) >= 4 and loc[0] == "sections" and loc[2] == "questions" and loc[3].isdigit():
        path: list[str | int] = ["sections", int(loc[1]), "questions", int(loc[3])]
        where, rest = _item_name(raw, path, "criterion", prefix="question "), loc[4:]
    elif len(loc) >= 2 and loc[0] == "profile" and loc[1].isdigit():
        where, rest = _item_name(raw, ["profile", int(loc[1])], "field", "profile question "), loc[2:]
    return message, where, ".".join(rest) or None


def _item_name(raw: Any, path: list[str | int], key: str, prefix: str = "") -> str:
    node = raw
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return ".".join(map(str, path))
    name = node.get(key) if isinstance(node, dict) else None
    return f"{prefix}{name}" if isinstance(name, str) else f"{prefix}#{path[-1]}"


def _naming(model: BaseModel, owner: str, folder: Path, path: Path) -> Iterator[tuple[str, str]]:
    if owner != folder.name:
        kind = "referential" if isinstance(model, CriteriaVersion) else "id"
        yield kind, f"is {owner!r} but the folder is {folder.name!r}"
    version = getattr(model, "version", "")
    if f"{version}.yaml" != path.name:
        yield "version", f"is {version!r} but the file is named {path.name!r}"


def _lock(model: Model, data: bytes, path: Path, lock: dict[str, str]) -> Iterator[str]:
    """Check a file against its lock entry; the one change allowed is released → withdrawn."""
    locked = lock.get(path.name)
    if model.status == Status.DRAFT:
        if locked is not None:
            yield f"is draft but {LOCK_NAME} lists it as released"
        return
    if locked is None:
        if model.status == Status.RELEASED:
            yield (
                f"is released but has no entry in {LOCK_NAME}: "
                f"record it with `autodiag criteria release {path.parent.name}@{path.stem}`"
            )
        return
    as_released = _WITHDRAWN_LINE.sub(b"status: released", data, count=1)
    if sha256(data) != locked and sha256(as_released) != locked:
        yield (
            f"released file changed (sha256 {sha256(data)[:12]}…, {LOCK_NAME} has {locked[:12]}…): "
            "a released version never changes; publish a new version instead"
        )


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
