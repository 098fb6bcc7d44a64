"""Every kind of broken criteria or questionnaire file is refused, named in one line, all at once."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.catalog.loader import CatalogError, load_catalog

FIXTURE = Path(__file__).parent.parent / "fixtures" / "catalog"
CRITERIA = "criteria/mini/1.0.0.yaml"
FULL = "questionnaires/mini-full/1.0.0.yaml"
EXPRESS = "questionnaires/mini-express/1.0.0.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "catalog")
    return tmp_path / "catalog"


def read(root: Path, relative: str) -> dict[str, Any]:
    return yaml.safe_load((root / relative).read_text(encoding="utf-8"))


def write(root: Path, relative: str, content: dict[str, Any] | str | bytes, *, relock: bool = True) -> None:
    """Replace a file; relock it so the only problem left is the one under test."""
    path = root / relative
    if isinstance(content, dict):
        content = yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if relock:
        lock = path.parent / "releases.lock"
        lines = [line for line in lock.read_text().splitlines() if not line.endswith(path.name)]
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")
        lock.write_text("\n".join(lines) + "\n")


def problems(root: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    return [str(p) for p in caught.value.problems]


def edit_criterion(index: int, **changes: Any) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        data = read(root, CRITERIA)
        data["criteria"][index].update(changes)
        write(root, CRITERIA, data)

    return apply


def edit_file(relative: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        data = read(root, relative)
        change(data)
        write(root, relative, data)

    return apply


def text_file(relative: str, text: str | bytes) -> Callable[[Path], None]:
    return lambda root: write(root, relative, text)


CASES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "invalid YAML",
        text_file(CRITERIA, "referential: mini\ncriteria: [\n"),
        "criteria/mini/1.0.0.yaml: invalid YAML at line 3, column 1",
    ),
    (
        "duplicate YAML key",
        text_file(CRITERIA, "referential: mini\nreferential: other\n"),
        "criteria/mini/1.0.0.yaml: invalid YAML at line 2, column 1: duplicate key 'referential'",
    ),
    (
        "not a mapping",
        text_file(CRITERIA, "- just\n- a list\n"),
        "criteria/mini/1.0.0.yaml: expected a mapping at the top of the file",
    ),
    ("not UTF-8", text_file(CRITERIA, b"title: \xe9t\xe9\n"), "criteria/mini/1.0.0.yaml: not UTF-8 text"),
    (
        "duplicate criterion id",
        edit_criterion(1, id="DEO-01"),
        "criteria/mini/1.0.0.yaml: DEO-01: id: duplicate criterion id (2 times)",
    ),
    (
        "unknown area",
        edit_criterion(2, area="gouvernance"),
        "criteria/mini/1.0.0.yaml: PRO-01: area: Input should be",
    ),
    (
        "unknown workshop",
        edit_criterion(2, workshop="atelier_5"),
        "criteria/mini/1.0.0.yaml: PRO-01: workshop: Input should be",
    ),
    (
        "weight zero",
        edit_criterion(0, weight=0),
        "criteria/mini/1.0.0.yaml: DEO-01: weight: Input should be greater than 0",
    ),
    (
        "negative weight",
        edit_criterion(3, weight=-1),
        "criteria/mini/1.0.0.yaml: PRO-02: weight: Input should be greater than 0",
    ),
    (
        "misspelt field",
        edit_criterion(0, guidence="x"),
        "criteria/mini/1.0.0.yaml: DEO-01: guidence: Extra inputs are not permitted",
    ),
    (
        "missing field",
        edit_criterion(0, title=None),
        "criteria/mini/1.0.0.yaml: DEO-01: title: Input should be a valid string",
    ),
    (
        "bad confidence",
        edit_criterion(0, confidence="X"),
        "criteria/mini/1.0.0.yaml: DEO-01: confidence: Input should be 'H', 'M' or 'L'",
    ),
    (
        "bad criterion id",
        edit_criterion(0, id="deo 1"),
        "criteria/mini/1.0.0.yaml: deo 1: id: String should match pattern",
    ),
    (
        "bad version string",
        edit_file(CRITERIA, lambda d: d.update(version="1.0")),
        "criteria/mini/1.0.0.yaml: version: String should match pattern",
    ),
    (
        "version does not match file name",
        edit_file(CRITERIA, lambda d: d.update(version="1.0.1")),
        "criteria/mini/1.0.0.yaml: version: is '1.0.1' but the file is named '1.0.0.yaml'",
    ),
    (
        "unknown replaced_by target",
        edit_criterion(5, status="withdrawn", replaced_by=["EVA-09"]),
        "criteria/mini/1.0.0.yaml: EVA-01: replaced_by: unknown criterion EVA-09",
    ),
    (
        "replaced_by cycle",
        lambda root: (
            edit_criterion(4, status="withdrawn", replaced_by=["EVA-01"])(root),
            edit_criterion(5, status="withdrawn", replaced_by=["STR-01"])(root),
        ),
        "STR-01: replaced_by: replaced_by cycle: STR-01 → EVA-01 → STR-01",
    ),
    (
        "broken chain",
        lambda root: (
            edit_criterion(4, status="withdrawn", merged_into="EVA-01")(root),
            edit_criterion(5, status="withdrawn")(root),
        ),
        "STR-01: merged_into: broken merged_into chain: STR-01 → EVA-01, and EVA-01 is withdrawn with no successor",
    ),
    (
        "link on an active criterion",
        edit_criterion(0, replaced_by=["DEO-02"]),
        "DEO-01: only a withdrawn criterion may have replaced_by or merged_into",
    ),
    (
        "applies_if on unknown field",
        edit_criterion(3, applies_if={"field": "ville", "equals": True}),
        "PRO-02: applies_if: unknown profile field 'ville' (known: nuit, registres)",
    ),
    (
        "applies_if with unknown option",
        edit_criterion(3, applies_if={"field": "registres", "includes": "z"}),
        "PRO-02: applies_if: 'z' is not an option of 'registres'",
    ),
    (
        "malformed condition",
        edit_criterion(3, applies_if={"field": "nuit", "is": True}),
        "PRO-02: applies_if: a condition is {field, equals}",
    ),
    (
        "areas incomplete",
        edit_file(CRITERIA, lambda d: d["areas"].pop()),
        "criteria/mini/1.0.0.yaml: areas must define exactly deontologie, processus, structuration, evaluation",
    ),
    (
        "scale out of order",
        edit_file(CRITERIA, lambda d: d["scale"].reverse()),
        "scale must list levels 0, 1, 2, 3 in order",
    ),
    (
        "incoherent scoring",
        edit_file(CRITERIA, lambda d: d["scoring"].update(evidence_cap_level=3)),
        "scoring: evidence_cap_level must be below target_level",
    ),
    (
        "question on a missing criterion",
        edit_file(EXPRESS, lambda d: d["sections"][0]["questions"][0].update(criterion="DEO-77")),
        "questionnaires/mini-express/1.0.0.yaml: question DEO-77: criterion: unknown criterion in mini@1.0.0",
    ),
    (
        "question asked twice",
        edit_file(EXPRESS, lambda d: d["sections"][0]["questions"][1].update(criterion="DEO-01")),
        "questionnaires/mini-express/1.0.0.yaml: question DEO-01: criterion: criterion asked 2 times",
    ),
    (
        "complete questionnaire missing a criterion",
        edit_file(FULL, lambda d: d["sections"][0]["questions"].pop()),
        "questionnaires/mini-full/1.0.0.yaml: sections: a complete questionnaire must ask every criterion; missing: EVA-01",
    ),
    (
        "unknown criteria version",
        edit_file(EXPRESS, lambda d: d.update(criteria="mini@9.0.0")),
        "questionnaires/mini-express/1.0.0.yaml: criteria: unknown criteria version mini@9.0.0 (known: mini@1.0.0, mini@1.1.0)",
    ),
    (
        "released questionnaire on a draft version",
        edit_file(EXPRESS, lambda d: d.update(criteria="mini@1.1.0")),
        "criteria: a released questionnaire must ask a released criteria version, and mini@1.1.0 is draft",
    ),
    (
        "show_if naming an unknown question",
        edit_file(FULL, lambda d: d["profile"][1].update(show_if={"field": "taille", "equals": True})),
        "questionnaires/mini-full/1.0.0.yaml: profile question registres: show_if: unknown profile question 'taille'",
    ),
    (
        "profile question on unknown field",
        edit_file(FULL, lambda d: d["profile"].append({"field": "taille", "text": "?"})),
        "questionnaires/mini-full/1.0.0.yaml: profile question taille: field: unknown profile field in mini@1.0.0",
    ),
    (
        "profile field needed but not asked",
        edit_file(FULL, lambda d: d["profile"].pop()),
        "questionnaires/mini-full/1.0.0.yaml: profile: criteria depend on profile field 'registres', which is not asked",
    ),
    (
        "folder and id disagree",
        edit_file(FULL, lambda d: d.update(id="other")),
        "questionnaires/mini-full/1.0.0.yaml: id: is 'other' but the folder is 'mini-full'",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_catalog_is_refused_with_a_one_line_message(
    root: Path, mutate: Callable[[Path], None], expected: str
) -> None:
    mutate(root)
    found = problems(root)
    assert any(expected in line for line in found), found
    assert all("\n" not in line for line in found)


def test_a_changed_released_file_must_become_a_new_version(root: Path) -> None:
    path = root / CRITERIA
    path.write_text(
        path.read_text(encoding="utf-8").replace("Une charte existe.", "Une charte existe !"), "utf-8"
    )
    (line,) = problems(root)
    assert line.startswith("criteria/mini/1.0.0.yaml: status: released file changed")
    assert line.endswith("a released version never changes; publish a new version instead")


def test_a_released_file_may_only_turn_withdrawn(root: Path, tmp_path: Path) -> None:
    path = root / "questionnaires/mini-express/1.0.0.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: released", "status: withdrawn"), "utf-8"
    )
    catalog = load_catalog(root)
    assert catalog.questionnaires["mini-express@1.0.0"].status == "withdrawn"


def test_a_released_file_needs_a_lock_entry(root: Path) -> None:
    (root / "questionnaires/mini-express/releases.lock").write_text("# nothing released\n")
    (line,) = problems(root)
    assert line == (
        "questionnaires/mini-express/1.0.0.yaml: status: is released but has no entry in releases.lock: "
        "record it with `autodiag criteria release mini-express@1.0.0`"
    )


def test_a_locked_release_cannot_disappear(root: Path) -> None:
    (root / EXPRESS).unlink()
    found = problems(root)
    assert found == [
        "questionnaires/mini-express/releases.lock: lists 1.0.0.yaml, which is missing: "
        "a released version is never deleted (mark it withdrawn instead)"
    ]


def test_a_malformed_lock_file_is_named(root: Path) -> None:
    (root / "criteria/mini/releases.lock").write_text("not a hash  1.0.0.yaml\n")
    found = problems(root)
    assert "criteria/mini/releases.lock: line 1: expected '<sha256>  <file name>'" in found


def test_every_problem_is_reported_at_once(root: Path) -> None:
    edit_criterion(0, weight=0)(root)
    edit_file(FULL, lambda d: d.update(id="other"))(root)
    (root / "criteria/mini/notes.txt").write_text("hello")
    found = problems(root)
    assert found == [
        "criteria/mini/1.0.0.yaml: DEO-01: weight: Input should be greater than 0",
        "criteria/mini/notes.txt: unexpected file: versions are <version>.yaml",
        "questionnaires/mini-full/1.0.0.yaml: id: is 'other' but the folder is 'mini-full'",
    ]


def test_the_real_catalog_loads(catalog: object) -> None:
    assert catalog is not None


def test_a_valid_catalog_loads_with_hashes(root: Path) -> None:
    catalog = load_catalog(root)
    assert sorted(catalog.criteria) == ["mini@1.0.0", "mini@1.1.0"]
    expected = hashlib.sha256((root / CRITERIA).read_bytes()).hexdigest()
    assert catalog.criteria_hashes["mini@1.0.0"] == expected


MORE_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "includes on a boolean field",
        edit_criterion(3, applies_if={"field": "nuit", "includes": "a"}),
        "PRO-02: applies_if: 'includes' needs a multi field, and 'nuit' is boolean",
    ),
    (
        "boolean compared to a word",
        edit_criterion(3, applies_if={"field": "nuit", "equals": "oui"}),
        "PRO-02: applies_if: 'nuit' is boolean: compare it to true or false",
    ),
    (
        "equals on a multi field",
        edit_criterion(3, applies_if={"field": "registres", "equals": "a"}),
        "PRO-02: applies_if: 'registres' is multi: use 'includes'",
    ),
    (
        "nested condition problem",
        edit_criterion(
            3, applies_if={"any": [{"field": "nuit", "equals": True}, {"field": "ville", "equals": True}]}
        ),
        "PRO-02: applies_if: unknown profile field 'ville'",
    ),
    (
        "second successor leads to a cycle",
        lambda root: (
            edit_criterion(1, status="withdrawn", replaced_by=["DEO-01", "STR-01"])(root),
            edit_criterion(4, status="withdrawn", replaced_by=["DEO-02"])(root),
        ),
        "DEO-02: replaced_by: replaced_by cycle: DEO-02 → STR-01 → DEO-02",
    ),
    (
        "duplicate section",
        edit_file(
            FULL,
            lambda d: d["sections"].append(
                dict(d["sections"][0], questions=[{"criterion": "DEO-01", "text": "x"}])
            ),
        ),
        "questionnaires/mini-full/1.0.0.yaml: section tout: id: duplicate section id (2 times)",
    ),
    (
        "profile question asked twice",
        edit_file(FULL, lambda d: d["profile"].append(d["profile"][0])),
        "questionnaires/mini-full/1.0.0.yaml: profile question nuit: field: profile field asked 2 times",
    ),
    (
        "show_if on itself",
        edit_file(FULL, lambda d: d["profile"][0].update(show_if={"field": "nuit", "equals": True})),
        "profile question nuit: show_if: a question cannot depend on itself",
    ),
    (
        "boolean field with options",
        edit_file(CRITERIA, lambda d: d["profile_fields"][1].update(options=[{"value": "x", "label": "X"}])),
        "profile_fields.1: a boolean field takes no options",
    ),
    (
        "choice field without options",
        edit_file(CRITERIA, lambda d: d["profile_fields"][0].update(options=[])),
        "profile_fields.0: a multi field needs options",
    ),
    (
        "released without date",
        edit_file(CRITERIA, lambda d: d.pop("published")),
        "a released version needs a published date",
    ),
    (
        "lenient verdict stricter than ready",
        edit_file(CRITERIA, lambda d: d["scoring"]["ready"].update(max_gaps=9)),
        "scoring: ready must not tolerate more gaps than almost_ready",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in MORE_CASES], ids=[c[0] for c in MORE_CASES])
def test_more_malformations_are_named(root: Path, mutate: Callable[[Path], None], expected: str) -> None:
    mutate(root)
    found = problems(root)
    assert any(expected in line for line in found), found


def test_a_criterion_withdrawn_without_successor_is_allowed(root: Path) -> None:
    edit_criterion(5, status="withdrawn")(root)
    edit_file(FULL, lambda d: d["sections"][0]["questions"].pop())(root)
    edit_file(EXPRESS, lambda d: d["sections"][0]["questions"].pop())(root)
    assert "EVA-01" not in {c.id for c in load_catalog(root).criteria_version("mini").active}


def v2_scoring(data: dict[str, Any], **changes: Any) -> None:
    data["scoring"].update(version="2.0", **changes)


SCORING_V2_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "N/A allowed on a deontology criterion",
        edit_criterion(1, na_allowed=True),
        "criteria/mini/1.0.0.yaml: DEO-02: na_allowed: true is refused on a deontology criterion: "
        "only the profile (applies_if) can make it not applicable",
    ),
    (
        "N/A allowed on a critical criterion",
        edit_criterion(2, na_allowed=True),
        "criteria/mini/1.0.0.yaml: PRO-01: na_allowed: true is refused on a critical criterion",
    ),
    (
        "blocking under v1 rules",
        edit_criterion(3, blocking=True),
        "criteria/mini/1.0.0.yaml: PRO-02: blocking: blocking needs scoring version 2.x (v1 rules ignore it)",
    ),
    (
        "v2 rules under scoring version 1",
        edit_file(CRITERIA, lambda d: d["scoring"].update(evidence="required_items")),
        "criteria/mini/1.0.0.yaml: scoring: evidence: scoring v2 rules need scoring version 2.x",
    ),
    (
        "unknown scoring generation",
        edit_file(CRITERIA, lambda d: d["scoring"].update(version="3.0")),
        "criteria/mini/1.0.0.yaml: scoring: unknown scoring rules version 3.0 (known: 1.x, 2.x)",
    ),
    (
        "v2 ready tolerating a major",
        edit_file(CRITERIA, lambda d: v2_scoring(d, ready={"max_major": 1, "max_gaps": 1})),
        "criteria/mini/1.0.0.yaml: scoring: scoring v2: a major gap never allows « prêt » (ready.max_major must be 0)",
    ),
    (
        "unknown v2 evidence rule",
        edit_file(CRITERIA, lambda d: v2_scoring(d, evidence="some_pieces")),
        "criteria/mini/1.0.0.yaml: scoring.evidence: Input should be 'any_piece' or 'required_items'",
    ),
    (
        "validity of zero months",
        edit_file(CRITERIA, lambda d: d["criteria"][2]["expected_evidence"][0].update(validity_months=0)),
        "criteria/mini/1.0.0.yaml: PRO-01: expected_evidence.0.validity_months: Input should be greater than or equal to 1",
    ),
    (
        "required that is not a boolean",
        edit_file(CRITERIA, lambda d: d["criteria"][0]["expected_evidence"][0].update(required="souvent")),
        "criteria/mini/1.0.0.yaml: DEO-01: expected_evidence.0.required: Input should be a valid boolean",
    ),
    (
        "option confidence without sources",
        edit_file(CRITERIA, lambda d: d["profile_fields"][0]["options"][0].update(confidence="M")),
        "criteria/mini/1.0.0.yaml: profile_fields.0.options.0: an option with a confidence needs its sources",
    ),
    (
        "certification fact without sources",
        edit_file(
            CRITERIA,
            lambda d: d.update(
                certification=[
                    {"id": "cycle", "title": "Cycle", "text": "4 ans", "sources": [], "confidence": "H"}
                ]
            ),
        ),
        "criteria/mini/1.0.0.yaml: certification.0.sources: Tuple should have at least 1 item",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in SCORING_V2_CASES], ids=[c[0] for c in SCORING_V2_CASES]
)
def test_bad_scoring_v2_fields_are_named_with_file_and_path(
    root: Path, mutate: Callable[[Path], None], expected: str
) -> None:
    mutate(root)
    found = problems(root)
    assert any(expected in line for line in found), found


def test_v2_fields_load_with_their_defaults(root: Path) -> None:
    edit_file(CRITERIA, lambda d: v2_scoring(d, not_applicable="where_allowed"))(root)
    edit_criterion(3, blocking=True, na_allowed=False)(root)
    version = load_catalog(root).criteria_version("mini@1.0.0")
    assert version.scoring.generation == 2
    assert version.scoring.evidence == "any_piece"  # every v2 rule left out keeps v1's behaviour
    deo, pro2 = version.by_id["DEO-01"], version.by_id["PRO-02"]
    assert (deo.allows_na, pro2.allows_na, pro2.blocking) == (False, False, True)
    assert version.by_id["STR-01"].allows_na  # neither deontology nor critical
    assert all(e.required and e.validity_months is None for e in deo.expected_evidence)
