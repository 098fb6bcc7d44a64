"""The loaded catalog: look-ups, the shipped x60-600 content, the committed JSON Schemas."""

from __future__ import annotations

import json
from collections import Counter

import jsonschema
import pytest
import yaml

from app.catalog.models import AREA_IDS, WORKSHOP_IDS
from app.catalog.service import Catalog, json_schemas
from app.config import PROJECT_ROOT


@pytest.mark.parametrize("path", sorted(json_schemas()))
def test_committed_json_schema_matches_the_models(path: str) -> None:
    committed = (PROJECT_ROOT / path).read_text(encoding="utf-8")
    assert committed == json_schemas()[path], "run `uv run autodiag criteria schema --write`"


def test_shipped_files_validate_against_the_committed_schemas(catalog: Catalog) -> None:
    schemas = {path: json.loads(text) for path, text in json_schemas().items()}
    for ref in catalog.criteria:
        name, version = ref.split("@")
        data = yaml.safe_load((PROJECT_ROOT / "criteria" / name / f"{version}.yaml").read_text("utf-8"))
        data["published"] = str(data["published"])
        jsonschema.validate(data, schemas["criteria/criteria.schema.json"])
    for ref in catalog.questionnaires:
        name, version = ref.split("@")
        data = yaml.safe_load((PROJECT_ROOT / "questionnaires" / name / f"{version}.yaml").read_text("utf-8"))
        jsonschema.validate(data, schemas["questionnaires/questionnaire.schema.json"])


def test_bare_names_resolve_to_the_latest_released_version(mini_catalog: Catalog) -> None:
    assert mini_catalog.criteria_version("mini").version == "1.0.0"  # 1.1.0 is a draft
    assert mini_catalog.criteria_version("mini@1.1.0").status == "draft"
    assert mini_catalog.questionnaire("mini-full").ref == "mini-full@1.0.0"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("mini@3.0.0", "unknown criteria version mini@3.0.0 (known: mini@1.0.0, mini@1.1.0)"),
        ("autre", "no released criteria version named 'autre'"),
    ],
)
def test_unknown_versions_are_named(mini_catalog: Catalog, ref: str, message: str) -> None:
    with pytest.raises(LookupError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        mini_catalog.criteria_version(ref)


def test_referentials_list_versions_newest_first(mini_catalog: Catalog) -> None:
    assert [v.version for v in mini_catalog.referentials()["mini"]] == ["1.1.0", "1.0.0"]
    assert [q.id for q in mini_catalog.questionnaires_for("mini@1.0.0")] == ["mini-full", "mini-express"]


def test_x60_600_covers_the_four_areas_and_the_four_workshops(catalog: Catalog) -> None:
    version = catalog.criteria_version("x60-600@1.0.0")
    assert 50 <= len(version.active) <= 80
    assert set(Counter(c.area for c in version.active)) == set(AREA_IDS)
    assert set(Counter(c.workshop for c in version.active)) == set(WORKSHOP_IDS)
    assert all(c.sources and c.expected_evidence and c.action for c in version.active)
    assert {c.confidence.value for c in version.active} == {"H", "M", "L"}


def test_x60_600_encodes_the_eight_intervention_registers(catalog: Catalog) -> None:
    version = catalog.criteria_version("x60-600@1.0.0")
    registers = {o.value for o in version.fields_by_id["registres"].options}
    assert len(registers) == 8
    conditioned = {
        c.applies_if.includes
        for c in version.active
        if c.applies_if is not None and getattr(c.applies_if, "field", None) == "registres"
    }
    assert conditioned == registers


def test_express_asks_about_twenty_critical_criteria_and_says_it_is_partial(catalog: Catalog) -> None:
    express = catalog.questionnaire("express")
    version = catalog.criteria_version(express.criteria)
    assert express.partial
    assert 15 <= len(express.criterion_ids) <= 25
    assert all(version.by_id[cid].critical for cid in express.criterion_ids)
    assert "partiel" in express.description.lower()


def test_full_asks_every_criterion_in_sections_by_area(catalog: Catalog) -> None:
    full = catalog.questionnaire("full")
    version = catalog.criteria_version(full.criteria)
    assert not full.partial
    assert sorted(full.criterion_ids) == sorted(c.id for c in version.active)
    assert [s.id for s in full.sections] == list(AREA_IDS)
