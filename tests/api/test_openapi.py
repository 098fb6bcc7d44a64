"""The OpenAPI document: valid, complete, and the committed copy in sync with the code."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from app.api.routes import openapi_text
from app.config import PROJECT_ROOT

COMMITTED = PROJECT_ROOT / "examples" / "openapi.json"


def test_the_committed_openapi_document_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "refresh it with `uv run autodiag openapi --write`"
    )


def test_the_openapi_document_validates() -> None:
    validate(json.loads(openapi_text()))


def test_every_operation_has_a_tag_a_summary_and_json_errors() -> None:
    document = json.loads(openapi_text())
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) >= 16
    for operation in operations:
        assert operation["tags"]
        assert operation["summary"]
        for status, answer in operation["responses"].items():
            if status.startswith("4"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (
                    operation["summary"],
                    status,
                )
        if operation.get("security"):
            assert {"401", "403", "429"} <= set(operation["responses"])
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "examples" in document["components"]["schemas"]["StructureOut"]
