"""The page handlers: a refusal no route showed in its form, an unknown page."""

from __future__ import annotations

import html

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.errors import ServiceError


def test_a_service_error_no_route_catches_is_an_error_page_with_its_status_and_message(app: FastAPI) -> None:
    @app.get("/essai/refus")
    def refuse() -> None:
        raise ServiceError("Cette version de l'autoévaluation est déjà validée.", status=409)

    response = TestClient(app).get("/essai/refus")
    assert response.status_code == 409
    page = html.unescape(response.text)
    assert "Erreur 409" in page
    assert "Cette version de l'autoévaluation est déjà validée." in page
    assert "<html" in response.text  # a whole page, not FastAPI's JSON


def test_an_unknown_page_is_a_404_page_and_an_unknown_api_path_the_apis_json(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/nulle-part")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    unknown = client.get("/api/nulle-part")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"]
