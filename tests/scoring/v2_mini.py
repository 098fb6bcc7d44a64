"""The `mini` referential under scoring v2, built in memory for hand-computed examples.

Criteria (weights): DEO-01 critical deontology (2), DEO-02 deontology (1), PRO-01 critical with a
12-month annual review among its required evidence (3), PRO-02 critical but inferred, confidence L,
registre b only (1), STR-01 critical, confidence M, at night only (2), EVA-01 critical and blocking,
no evidence required (1), EVA-02 the one criterion that may be answered N/A (1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.catalog.models import CriteriaVersion

MINI = Path(__file__).parent.parent / "fixtures" / "catalog" / "criteria" / "mini" / "1.0.0.yaml"
V2_SCORING = {
    "version": "2.0",
    "ready": {"max_major": 0, "max_gaps": 1},
    "almost_ready": {"max_major": 1, "max_gaps": 3},
    "not_applicable": "where_allowed",
    "evidence": "required_items",
    "major_confidence": ["H", "M"],
    "blocking_areas": ["deontologie"],
    "partial_best": "estimation_favorable",
    "counts": "separate",
}


def mini_v2_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["version"], data["status"] = "2.0.0", "draft"
    data["scoring"] |= V2_SCORING
    by_id = {c["id"]: c for c in data["criteria"]}
    by_id["DEO-01"]["expected_evidence"][1]["required"] = False
    by_id["PRO-01"]["expected_evidence"].append(
        {"id": "bilan", "label": "Bilan annuel", "validity_months": 12}
    )
    by_id["PRO-02"] |= {"critical": True, "confidence": "L"}
    by_id["STR-01"] |= {"critical": True}
    by_id["EVA-01"] |= {"blocking": True}
    data["criteria"].append(
        {
            "id": "EVA-02",
            "area": "evaluation",
            "workshop": "utilite_sociale",
            "title": "Enquête",
            "requirement": "Une enquête a lieu.",
            "guidance": "Résultats.",
            "expected_evidence": [{"id": "enquete", "label": "Résultats d'enquête"}],
            "action": "Mener une enquête.",
            "weight": 1,
            "sources": ["test"],
            "confidence": "M",
        }
    )
    return data


def mini_v2() -> CriteriaVersion:
    return CriteriaVersion.model_validate(mini_v2_data())
