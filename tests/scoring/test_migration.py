"""Carrying answers across versions through the files' replaced_by / merged_into links."""

from __future__ import annotations

import pytest

from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.scoring.migration import Carry, Note, migrate_answers
from app.scoring.models import Answer, Evidence

PROOF = (Evidence("Procédure nuit"),)


@pytest.fixture
def versions(mini_catalog: Catalog) -> tuple[CriteriaVersion, CriteriaVersion]:
    return mini_catalog.criteria_version("mini@1.0.0"), mini_catalog.criteria_version("mini@1.1.0")


def test_unchanged_criteria_are_carried_as_they_are(
    versions: tuple[CriteriaVersion, CriteriaVersion],
) -> None:
    answer = Answer(level=3, evidence=(Evidence("Charte"),))
    migration = migrate_answers(*versions, {"DEO-01": answer})
    assert migration.carried == ("DEO-01",)
    assert migration.answers == {"DEO-01": answer}
    assert migration.review == ()
    assert migration.dropped == ()


def test_a_changed_requirement_is_carried_but_needs_review(
    versions: tuple[CriteriaVersion, CriteriaVersion],
) -> None:
    migration = migrate_answers(*versions, {"PRO-01": Answer(level=2)})
    assert migration.answers["PRO-01"] == Answer(level=2)
    assert migration.review == (("PRO-01", "critère modifié dans mini@1.1.0 (requirement)"),)
    assert migration.review_notes == (
        Note("PRO-01", Carry.CHANGED, {"version": "mini@1.1.0", "fields": "requirement"}),
    )


def test_a_replaced_criterion_moves_to_its_successor_for_review(
    versions: tuple[CriteriaVersion, CriteriaVersion],
) -> None:
    migration = migrate_answers(*versions, {"DEO-02": Answer(level=1, justification="mensuel")})
    assert migration.answers == {"DEO-03": Answer(level=1, justification="mensuel")}
    assert migration.review[0][0] == "DEO-03"
    assert "repris de DEO-02" in migration.review[0][1]


def test_merged_criteria_keep_the_most_cautious_level_and_all_evidence(
    versions: tuple[CriteriaVersion, CriteriaVersion],
) -> None:
    answers = {
        "PRO-02": Answer(level=3, evidence=(Evidence("Procédure B"),)),
        "STR-01": Answer(level=1, evidence=PROOF, justification="en cours"),
    }
    migration = migrate_answers(*versions, answers)
    merged = migration.answers["STR-02"]
    assert merged.level == 1
    assert merged.evidence == (Evidence("Procédure B"), *PROOF)
    assert migration.sources == {"STR-02": ("PRO-02", "STR-01")}
    assert migration.review == (
        ("STR-02", "repris de PRO-02, STR-01 (critère remplacé ou fusionné dans mini@1.1.0)"),
    )
    assert migration.review_notes[0].code is Carry.TAKEN_OVER
    assert migration.review_notes[0].params == {"sources": "PRO-02, STR-01", "version": "mini@1.1.0"}


def test_a_criterion_withdrawn_without_successor_is_dropped_with_the_reason(
    versions: tuple[CriteriaVersion, CriteriaVersion],
) -> None:
    migration = migrate_answers(*versions, {"EVA-01": Answer(level=3)})
    assert migration.answers == {}
    assert migration.dropped == (("EVA-01", "retiré dans mini@1.1.0 sans successeur"),)
    assert migration.dropped_notes == (Note("EVA-01", Carry.WITHDRAWN, {"version": "mini@1.1.0"}),)


def test_an_answer_to_a_criterion_the_new_version_lacks_is_dropped_as_absent(
    versions: tuple[CriteriaVersion, CriteriaVersion],
) -> None:
    migration = migrate_answers(*versions, {"XXX-99": Answer(level=3)})
    assert migration.dropped_notes == (Note("XXX-99", Carry.ABSENT, {"version": "mini@1.1.0"}),)
    assert migration.dropped == (("XXX-99", "absent de mini@1.1.0"),)


def test_merging_not_applicable_answers_stays_not_applicable(
    versions: tuple[CriteriaVersion, CriteriaVersion],
) -> None:
    answers = {
        "PRO-02": Answer(not_applicable=True, justification="pas de registre B"),
        "STR-01": Answer(not_applicable=True, justification="pas de nuit"),
    }
    merged = migrate_answers(*versions, answers).answers["STR-02"]
    assert merged.not_applicable
    assert merged.justification == "pas de registre B / pas de nuit"


def test_answers_cannot_cross_referentials(
    versions: tuple[CriteriaVersion, CriteriaVersion], catalog: Catalog
) -> None:
    with pytest.raises(ValueError, match="cannot migrate"):
        migrate_answers(versions[0], catalog.criteria_version("x60-600"), {})


def test_real_referential_answers_follow_a_v1_1_built_from_it(catalog: Catalog) -> None:
    """A v1.1 of x60-600 (built here, never released) withdraws the first criterion into a new one."""
    v1 = catalog.criteria_version("x60-600@1.0.0")
    data = v1.model_dump(exclude_defaults=True)
    data.update(version="1.1.0", status="draft")
    first = data["criteria"][0]
    successor = {**first, "id": first["id"][:4] + "90", "title": first["title"] + " (révisé)"}
    first.update(status="withdrawn", replaced_by=[successor["id"]])
    data["criteria"] = [*data["criteria"], successor]
    v11 = CriteriaVersion.model_validate(data)
    others = {c.id: Answer(level=2) for c in v1.active[1:4]}
    migration = migrate_answers(v1, v11, {first["id"]: Answer(level=3), **others})
    assert migration.answers[successor["id"]] == Answer(level=3)
    assert [cid for cid, _ in migration.review] == [successor["id"]]
    assert set(migration.carried) == set(others)
