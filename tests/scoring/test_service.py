"""Hand-computed examples on the six-criterion `mini` referential (tests/fixtures/catalog)."""

from __future__ import annotations

import pytest

from app.catalog.models import CriteriaVersion
from app.scoring.codes import Action, Finding, Reason, Verdict
from app.scoring.models import Answer, Evidence
from app.scoring.plan import holds
from app.scoring.service import score

NIGHT_PROFILE = {"registres": ["a"], "nuit": True}
EXAMPLE = {
    "DEO-01": Answer(level=3, evidence=(Evidence("Charte 2025", frozenset({"charte"})),)),
    "DEO-02": Answer(level=1),
    "PRO-01": Answer(level=1, evidence=(Evidence("Fiches"),)),
    "STR-01": Answer(level=3),
    "EVA-01": Answer(not_applicable=True, justification="Structure créée cette année"),
}


def findings(result: object) -> dict[str, Finding]:
    return {r.criterion: r.finding for r in result.criteria}  # type: ignore[attr-defined]


def test_example_findings_follow_levels_criticality_and_profile(mini: CriteriaVersion) -> None:
    result = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE)
    assert findings(result) == {
        "DEO-01": Finding.CONFORME,
        "DEO-02": Finding.ECART_MINEUR,
        "PRO-01": Finding.ECART_MAJEUR,
        "PRO-02": Finding.NON_APPLICABLE,  # registre b not practised
        "STR-01": Finding.ECART_MINEUR,  # 3 declared without evidence, capped to 2
        "EVA-01": Finding.NON_APPLICABLE,
    }


def test_example_area_scores_are_weighted_means_of_effective_levels(mini: CriteriaVersion) -> None:
    result = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE)
    areas = {a.area: a.score for a in result.areas}
    # deontologie: (2×3 + 1×1) / (3×3) = 77.8 ; processus: 3×1 / (3×3) = 33.3
    # structuration: 2×2 (capped) / (2×3) = 66.7 ; evaluation: only N/A, nothing to score
    assert areas == {"deontologie": 77.8, "processus": 33.3, "structuration": 66.7, "evaluation": None}


def test_example_verdict_counts_one_major_and_two_minors(mini: CriteriaVersion) -> None:
    result = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE)
    assert (result.majors, result.minors) == (1, 2)
    assert result.verdict is Verdict.PRESQUE_PRET  # ready tolerates 0 major; almost tolerates 1
    assert (result.progress.answered, result.progress.applicable) == (5, 5)
    assert result.progress.percent == 100


def test_example_gaps_are_ordered_by_severity_then_weight_times_distance(mini: CriteriaVersion) -> None:
    gaps = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE).gaps
    # PRO-01 is major; DEO-02 (1 × 2) and STR-01 (2 × 1) tie, so file order decides.
    assert [(g.criterion, g.priority, g.severity, g.deadline_days) for g in gaps] == [
        ("PRO-01", 1, Finding.ECART_MAJEUR, 90),
        ("DEO-02", 2, Finding.ECART_MINEUR, 180),
        ("STR-01", 3, Finding.ECART_MINEUR, 180),
    ]
    assert gaps[0].action == "Formaliser la méthode."
    assert (gaps[0].action_code, gaps[0].criterion_action) == (Action.CRITERION, "Formaliser la méthode.")
    assert gaps[0].workshop == "gestion_activite"


def test_evidence_cap_says_why_and_asks_for_the_missing_proof(mini: CriteriaVersion) -> None:
    result = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE)
    night = next(r for r in result.criteria if r.criterion == "STR-01")
    assert (night.level, night.effective_level, night.capped) == (3, 2, True)
    assert "déclaré, non prouvé" in night.reason
    assert (night.reason_code, night.reason_params) == (Reason.UNPROVEN, {"level": 3, "cap": 2})
    gap = next(g for g in result.gaps if g.criterion == "STR-01")
    assert gap.missing_evidence == ("Procédure de nuit",)
    assert gap.action == "Joindre les preuves attendues : Procédure de nuit."
    assert (gap.action_code, gap.action_params) == (Action.ATTACH_EVIDENCE, {"evidence": "Procédure de nuit"})


def test_missing_evidence_lists_expected_items_not_covered(mini: CriteriaVersion) -> None:
    result = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE)
    charter = next(r for r in result.criteria if r.criterion == "DEO-01")
    assert charter.missing_evidence == ("Registre des signatures",)


def test_evidence_titled_like_an_expected_item_covers_it(mini: CriteriaVersion) -> None:
    answers = {"DEO-01": Answer(level=2, evidence=(Evidence("registre des signatures"), Evidence("charte")))}
    result = score(mini, profile={}, answers=answers)
    assert next(r for r in result.criteria if r.criterion == "DEO-01").missing_evidence == ()


def test_nothing_answered_is_not_ready_and_every_applicable_criterion_is_a_gap(
    mini: CriteriaVersion,
) -> None:
    result = score(mini, profile={}, answers={})
    assert set(findings(result).values()) == {Finding.NON_RENSEIGNE}
    assert (result.majors, result.minors) == (3, 3)  # critical unanswered count as major
    assert result.verdict is Verdict.PAS_PRET
    assert (result.progress.answered, result.progress.applicable, result.progress.percent) == (0, 6, 0)
    assert {a.score for a in result.areas} == {0.0}
    assert [g.severity for g in result.gaps] == [Finding.NON_RENSEIGNE] * 6
    # weight × distance: PRO-01 3×3, DEO-01 2×3, STR-01 2×3, then the weight-1 criteria
    assert [g.criterion for g in result.gaps] == ["PRO-01", "DEO-01", "STR-01", "DEO-02", "PRO-02", "EVA-01"]
    assert result.gaps[1].missing_evidence == ("Charte signée", "Registre des signatures")


def test_not_applicable_without_justification_is_not_accepted(mini: CriteriaVersion) -> None:
    result = score(mini, profile={}, answers={"EVA-01": Answer(not_applicable=True, justification="  ")})
    eva = next(r for r in result.criteria if r.criterion == "EVA-01")
    assert eva.finding is Finding.NON_RENSEIGNE
    assert "sans justification" in eva.reason
    assert eva.reason_code is Reason.UNJUSTIFIED_NOT_APPLICABLE


def test_each_result_says_why_as_a_code_whose_french_sentence_takes_its_parameters(
    mini: CriteriaVersion,
) -> None:
    criteria = {r.criterion: r for r in score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE).criteria}
    said = {cid: (r.reason_code, dict(r.reason_params), r.reason) for cid, r in criteria.items()}
    assert said == {
        "DEO-01": (
            Reason.LEVEL_REACHED,
            {"level": 3, "label": "En place et formalisé"},
            "Niveau 3 (En place et formalisé)",
        ),
        "DEO-02": (
            Reason.BELOW_TARGET,
            {"level": 1, "label": "En projet", "target": 3},
            "Niveau 1 (En projet) sur 3 attendu",
        ),
        "PRO-01": (
            Reason.CRITICAL_TOO_LOW,
            {"level": 1, "label": "En projet"},
            "Critère critique au niveau 1 (En projet)",
        ),
        "PRO-02": (Reason.OUT_OF_PROFILE, {}, "Ne s'applique pas au profil de la structure"),
        "STR-01": (
            Reason.UNPROVEN,
            {"level": 3, "cap": 2},
            "Déclaré au niveau 3 sans preuve jointe : plafonné au niveau 2 (déclaré, non prouvé)",
        ),
        "EVA-01": (
            Reason.DECLARED_NOT_APPLICABLE,
            {"justification": "Structure créée cette année"},
            "Non applicable : Structure créée cette année",
        ),
    }


def test_an_unanswered_criterion_asks_to_be_answered(mini: CriteriaVersion) -> None:
    gap = score(mini, profile={}, answers={}).gaps[0]
    assert (gap.reason_code, gap.reason) == (Reason.UNANSWERED, "Non renseigné")
    assert (gap.action_code, gap.action_params) == (Action.ANSWER, {})
    assert gap.action == "Renseigner ce critère : niveau atteint, ou non applicable avec une justification."
    assert gap.criterion_action == "Formaliser la méthode."  # still there, for a page that shows both


def test_criterion_without_required_evidence_is_not_capped(mini: CriteriaVersion) -> None:
    result = score(mini, profile={}, answers={"EVA-01": Answer(level=3)})
    assert findings(result)["EVA-01"] is Finding.CONFORME


def test_everything_in_place_is_ready(mini: CriteriaVersion) -> None:
    proof = (Evidence("preuve"),)
    answers = {c.id: Answer(level=3, evidence=proof) for c in mini.active}
    result = score(mini, profile={"registres": ["a", "b"], "nuit": False}, answers=answers)
    assert result.verdict is Verdict.PRET
    assert result.gaps == ()
    assert findings(result)["STR-01"] is Finding.NON_APPLICABLE
    scores = {a.area: a.score for a in result.areas}
    assert scores == {"deontologie": 100.0, "processus": 100.0, "structuration": None, "evaluation": 100.0}


def test_partial_scope_scores_only_the_asked_criteria(mini: CriteriaVersion) -> None:
    result = score(mini, profile={}, answers={}, scope={"DEO-01", "PRO-01"})
    assert result.partial
    assert [r.criterion for r in result.criteria] == ["DEO-01", "PRO-01"]
    assert {a.area: a.score for a in result.areas}["evaluation"] is None


@pytest.mark.parametrize(
    ("condition", "profile", "expected"),
    [
        ({"field": "nuit", "equals": True}, {"nuit": True}, True),
        ({"field": "nuit", "equals": True}, {"nuit": False}, False),
        ({"field": "nuit", "equals": True}, {}, True),  # not yet known: asked, to be safe
        ({"field": "registres", "includes": "b"}, {"registres": ["a"]}, False),
        (
            {"any": [{"field": "nuit", "equals": True}, {"field": "registres", "includes": "b"}]},
            {"nuit": False, "registres": ["b"]},
            True,
        ),
        (
            {"all": [{"field": "nuit", "equals": True}, {"field": "registres", "includes": "b"}]},
            {"nuit": True, "registres": ["a"]},
            False,
        ),
    ],
)
def test_applicability_conditions(
    condition: dict[str, object], profile: dict[str, object], expected: bool
) -> None:
    from pydantic import TypeAdapter

    from app.catalog.models import Condition

    parsed = TypeAdapter(Condition).validate_python(condition)
    assert holds(parsed, profile) is expected  # type: ignore[arg-type]


def test_result_as_dict_has_the_documented_shape(mini: CriteriaVersion) -> None:
    data = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE).as_dict()
    assert {"verdict", "progress", "areas", "gaps"} <= set(data)
    assert set(data["areas"]) == {"deontologie", "processus", "structuration", "evaluation"}
    assert set(data["gaps"][0]) >= {
        "criterion",
        "severity",
        "workshop",
        "priority",
        "deadline_days",
        "missing_evidence",
        "action",
    }
    assert data["verdict"] == "presque_pret"


def test_gaps_group_under_the_four_workshops_in_order(mini: CriteriaVersion) -> None:
    result = score(mini, profile=NIGHT_PROFILE, answers=EXAMPLE)
    grouped = result.gaps_by_workshop([w.id for w in mini.workshops])
    assert list(grouped) == ["politique_qualite", "gestion_activite", "formation_equipes", "utilite_sociale"]
    assert [g.criterion for g in grouped["formation_equipes"]] == ["DEO-02", "STR-01"]
    assert grouped["politique_qualite"] == []
