"""Hand-computed examples of each scoring v2 rule on `mini` under v2 (tests/scoring/v2_mini.py).

Reference date 2026-06-30 throughout; PRO-01's « Bilan annuel » is valid for 12 months, so a
review dated on or after 2025-06-30 counts and an older one is « périmée ».
"""

from __future__ import annotations

from datetime import date

import pytest

from app.catalog.models import CriteriaVersion
from app.scoring.codes import Finding, Reason, Verdict
from app.scoring.evidence import months_before
from app.scoring.models import Answer, Evidence
from app.scoring.service import score
from tests.scoring.v2_mini import mini_v2

DAY = date(2026, 6, 30)
PROFILE = {"registres": ["a", "b"], "nuit": True}


def proof(*covers: str, dated: date | None = date(2026, 1, 15)) -> tuple[Evidence, ...]:
    return (Evidence("Dossier", frozenset(covers), dated),)


GOOD = {
    "DEO-01": Answer(level=3, evidence=proof("charte")),
    "DEO-02": Answer(level=3, evidence=proof("presence")),
    "PRO-01": Answer(level=3, evidence=proof("fiches", "bilan")),
    "PRO-02": Answer(level=3, evidence=proof("procedure-b")),
    "STR-01": Answer(level=3, evidence=proof("procedure-nuit")),
    "EVA-01": Answer(level=3),
    "EVA-02": Answer(level=3, evidence=proof("enquete")),
}


@pytest.fixture(scope="module")
def v2() -> CriteriaVersion:
    return mini_v2()


def scored(v2: CriteriaVersion, scope: tuple[str, ...] | None = None, **changes: Answer) -> object:
    return score(v2, profile=PROFILE, answers=GOOD | changes, scope=scope, reference_date=DAY)


def finding(result: object, cid: str) -> tuple[Finding, Reason]:
    r = next(r for r in result.criteria if r.criterion == cid)  # type: ignore[attr-defined]
    return r.finding, r.reason_code


def test_everything_proven_and_valid_is_ready(v2: CriteriaVersion) -> None:
    result = scored(v2)
    assert result.verdict is Verdict.PRET  # type: ignore[attr-defined]
    assert (result.majors, result.minors, result.unanswered, result.blocking) == (0, 0, 0, ())  # type: ignore[attr-defined]
    assert result.scoring_version == "2.0"  # type: ignore[attr-defined]


def test_not_applicable_is_refused_on_deontology_and_critical_criteria_only(v2: CriteriaVersion) -> None:
    na = Answer(not_applicable=True, justification="Pas chez nous")
    result = scored(v2, **{"DEO-02": na, "PRO-01": na, "EVA-02": na})
    assert finding(result, "DEO-02") == (Finding.NON_RENSEIGNE, Reason.NOT_APPLICABLE_REFUSED)
    assert finding(result, "PRO-01") == (Finding.NON_RENSEIGNE, Reason.NOT_APPLICABLE_REFUSED)
    assert finding(result, "EVA-02") == (Finding.NON_APPLICABLE, Reason.DECLARED_NOT_APPLICABLE)
    # DEO-02 refused weighs as at level 0 (minor, not critical); PRO-01 critical at 0: major, blocking
    assert (result.majors, result.minors, result.unanswered) == (0, 0, 2)  # type: ignore[attr-defined]
    assert result.blocking == ("PRO-01",)  # type: ignore[attr-defined]
    assert result.verdict is Verdict.PRESQUE_PRET  # type: ignore[attr-defined]


def test_one_major_gap_never_gives_ready_and_is_listed_as_blocking(v2: CriteriaVersion) -> None:
    result = scored(v2, **{"PRO-01": Answer(level=1)})
    assert finding(result, "PRO-01") == (Finding.ECART_MAJEUR, Reason.CRITICAL_TOO_LOW)
    assert (result.majors, result.minors) == (1, 0)  # type: ignore[attr-defined]
    # ready tolerates no major at all (v2); almost_ready tolerates one
    assert result.verdict is Verdict.PRESQUE_PRET  # type: ignore[attr-defined]
    assert result.blocking == ("PRO-01",)  # type: ignore[attr-defined]
    assert [g.blocking for g in result.gaps] == [True]  # type: ignore[attr-defined]


def test_two_major_gaps_give_not_ready(v2: CriteriaVersion) -> None:
    result = scored(v2, **{"PRO-01": Answer(level=0), "STR-01": Answer(level=1)})
    assert result.majors == 2  # type: ignore[attr-defined]
    assert result.verdict is Verdict.PAS_PRET  # type: ignore[attr-defined]
    assert result.blocking == ("PRO-01", "STR-01")  # type: ignore[attr-defined]  (weight 3 × 3, then 2 × 2)


def test_one_major_gap_on_deontology_gives_not_ready(v2: CriteriaVersion) -> None:
    result = scored(v2, **{"DEO-01": Answer(level=0)})
    assert (result.majors, result.minors) == (1, 0)  # type: ignore[attr-defined]
    assert result.verdict is Verdict.PAS_PRET  # type: ignore[attr-defined]


def test_one_major_gap_on_a_blocking_criterion_gives_not_ready(v2: CriteriaVersion) -> None:
    result = scored(v2, **{"EVA-01": Answer(level=1)})
    assert result.verdict is Verdict.PAS_PRET  # type: ignore[attr-defined]
    assert result.blocking == ("EVA-01",)  # type: ignore[attr-defined]


def test_a_partial_questionnaire_at_best_gives_a_favourable_estimate(v2: CriteriaVersion) -> None:
    result = scored(v2, scope=("DEO-01", "PRO-01", "EVA-01"))
    assert result.partial  # type: ignore[attr-defined]
    assert result.verdict is Verdict.ESTIMATION_FAVORABLE  # type: ignore[attr-defined]
    assert result.verdict.label == "Estimation favorable — à confirmer par le questionnaire complet"  # type: ignore[attr-defined]
    worse = scored(v2, scope=("DEO-01", "PRO-01", "EVA-01"), **{"PRO-01": Answer(level=1)})
    assert worse.verdict is Verdict.PRESQUE_PRET  # type: ignore[attr-defined]


def test_level_3_needs_every_required_item_covered(v2: CriteriaVersion) -> None:
    # DEO-01: only the optional « Registre des signatures » is covered, the required charter is not
    result = scored(v2, **{"DEO-01": Answer(level=3, evidence=proof("registre"))})
    assert finding(result, "DEO-01") == (Finding.ECART_MINEUR, Reason.UNPROVEN)  # capped at 2: not major
    r = next(r for r in result.criteria if r.criterion == "DEO-01")  # type: ignore[attr-defined]
    assert (r.effective_level, r.capped, r.missing_evidence) == (2, True, ("Charte signée",))
    covered = scored(v2, **{"DEO-01": Answer(level=3, evidence=proof("charte"))})
    assert finding(covered, "DEO-01") == (Finding.CONFORME, Reason.LEVEL_REACHED)


def test_partial_cover_caps_the_level_and_names_what_is_missing(v2: CriteriaVersion) -> None:
    result = scored(v2, **{"PRO-01": Answer(level=3, evidence=proof("fiches"))})
    r = next(r for r in result.criteria if r.criterion == "PRO-01")  # type: ignore[attr-defined]
    assert (r.finding, r.reason_code, r.effective_level) == (Finding.ECART_MINEUR, Reason.PARTLY_PROVEN, 2)
    assert r.missing_evidence == ("Bilan annuel",)
    assert (
        r.reason == "Déclaré au niveau 3, preuves incomplètes : plafonné au niveau 2 ; manque : Bilan annuel"
    )
    assert result.verdict is Verdict.PRET  # type: ignore[attr-defined]  (one minor gap: ready allows 1)


def test_evidence_older_than_its_validity_is_out_of_date_with_its_date(v2: CriteriaVersion) -> None:
    old = (
        Evidence("Fiches", frozenset({"fiches"})),
        Evidence("Bilan 2024", frozenset({"bilan"}), date(2025, 6, 29)),
    )
    result = scored(v2, **{"PRO-01": Answer(level=3, evidence=old)})
    r = next(r for r in result.criteria if r.criterion == "PRO-01")  # type: ignore[attr-defined]
    assert (r.reason_code, r.effective_level, r.missing_evidence) == (
        Reason.EXPIRED_EVIDENCE,
        2,
        ("Bilan annuel",),
    )
    assert r.reason == (
        "Déclaré au niveau 3, plafonné au niveau 2 : preuve périmée pour « Bilan annuel » "
        "(document du 2025-06-29, validité 12 mois)"
    )
    on_the_day = (old[0], Evidence("Bilan 2025", frozenset({"bilan"}), date(2025, 6, 30)))
    assert (
        finding(scored(v2, **{"PRO-01": Answer(level=3, evidence=on_the_day)}), "PRO-01")[0]
        is Finding.CONFORME
    )


def test_undated_evidence_does_not_prove_an_item_with_a_validity(v2: CriteriaVersion) -> None:
    undated = proof("fiches", "bilan", dated=None)
    result = scored(v2, **{"PRO-01": Answer(level=3, evidence=undated)})
    assert finding(result, "PRO-01") == (Finding.ECART_MINEUR, Reason.UNDATED_EVIDENCE)
    # without a reference date nothing expires: the core reads no clock
    no_day = score(v2, profile=PROFILE, answers=GOOD | {"PRO-01": Answer(level=3, evidence=undated)})
    assert finding(no_day, "PRO-01")[0] is Finding.CONFORME


def test_an_inferred_critical_criterion_is_at_most_a_minor_gap_and_says_so(v2: CriteriaVersion) -> None:
    result = scored(v2, **{"PRO-02": Answer(level=0)})
    assert finding(result, "PRO-02") == (Finding.ECART_MINEUR, Reason.CRITICAL_INFERRED)
    (gap,) = result.gaps  # type: ignore[attr-defined]
    assert (gap.confidence, gap.blocking) == ("L", False)
    assert result.as_dict()["gaps"][0]["confidence"] == "L"  # type: ignore[attr-defined]
    assert result.verdict is Verdict.PRET  # type: ignore[attr-defined]  (one minor gap)


def test_counts_give_majors_minors_and_unanswered_apart(v2: CriteriaVersion) -> None:
    answers = {k: v for k, v in GOOD.items() if k not in {"STR-01", "EVA-02"}}
    answers["DEO-02"] = Answer(level=2, evidence=proof("presence"))
    result = score(v2, profile=PROFILE, answers=answers, reference_date=DAY)
    assert (result.majors, result.minors, result.unanswered) == (0, 1, 2)
    assert result.as_dict()["counts"] == {"ecart_majeur": 0, "ecart_mineur": 1, "non_renseigne": 2}
    # the verdict weighs STR-01 (critical, unanswered) as at level 0: a major gap, so not ready
    assert result.blocking == ("STR-01",)
    assert result.verdict is Verdict.PRESQUE_PRET


def test_months_before_keeps_the_day_or_the_last_day_of_a_shorter_month() -> None:
    assert months_before(date(2026, 6, 30), 12) == date(2025, 6, 30)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 3) == date(2025, 10, 15)
