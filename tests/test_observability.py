"""What production watches and what travels light: request ids, JSON logs, metrics, gzip, static caching."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.observability import JsonFormatter
from app.web import IMMUTABLE

TOKEN = "jeton-de-supervision-assez-long"


@pytest.fixture
def watched(database_url: str, tmp_path: Path) -> FastAPI:
    settings = Settings(database_url=database_url, data_dir=tmp_path, environment="test", metrics_token=TOKEN)
    application = create_app(settings)
    yield application  # type: ignore[misc]
    application.state.engine.dispose()


def test_every_response_carries_a_request_id_and_keeps_a_sane_one_it_was_sent(app: FastAPI) -> None:
    client = TestClient(app)
    made = client.get("/connexion").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    kept = client.get("/connexion", headers={"X-Request-ID": "proxy-42.abc"})
    assert kept.headers["X-Request-ID"] == "proxy-42.abc"
    forged = client.get("/connexion", headers={"X-Request-ID": "a b\x01<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])


@pytest.mark.sqlite_only
def test_each_request_is_logged_as_one_json_line_with_its_id_and_route(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(app, follow_redirects=False)
    with caplog.at_level(logging.INFO, logger="autodiag.request"):
        response = client.get("/autoevaluations/12345", headers={"X-Request-ID": "suivi-1"})
    records = [record for record in caplog.records if record.name == "autodiag.request"]
    lines = [json.loads(JsonFormatter().format(record)) for record in records]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "suivi-1"
    assert line["route"] == "/autoevaluations/{assessment_id}"
    assert (line["method"], line["path"], line["status"]) == (
        "GET",
        "/autoevaluations/12345",
        response.status_code,
    )
    assert line["duration_ms"] >= 0


def test_metrics_need_the_token_and_count_requests_by_route_template(watched: FastAPI) -> None:
    client = TestClient(watched)
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    client.get("/api/v1/structures")  # 401: no token
    client.get("/healthz")
    page = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    text = page.text
    assert re.search(
        r'autodiag_http_requests_total\{method="GET",route="/api/v1/structures",status="401"\} \d', text
    )
    assert 'autodiag_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/healthz"}' in text
    for name in ("autodiag_autosave_conflicts_total", "autodiag_db_pool_checkout_seconds_count"):
        assert name in text
    assert "autodiag_mail_outbox_backlog 0.0" in text
    assert "autodiag_db_pool_in_use" in text


def test_without_a_metrics_token_there_is_no_metrics_endpoint(app: FastAPI) -> None:
    assert TestClient(app).get("/metrics").status_code == 404


@pytest.mark.sqlite_only
def test_html_above_a_kilobyte_is_gzipped_and_small_answers_are_not(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/connexion", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert "<form" in page.text  # decoded by the client as a browser would
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    plain = client.get("/connexion", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


@pytest.mark.sqlite_only
def test_static_files_have_versioned_addresses_cached_for_good(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/connexion").text
    addresses = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(addresses) == 4  # icon, stylesheet, htmx, autodiag.js
    for address in addresses:
        assert re.search(r"\?v=[0-9a-f]{12}$", address)
        assert client.get(address).headers["cache-control"] == IMMUTABLE
    unversioned = client.get("/static/app.css")
    assert unversioned.status_code == 200
    assert unversioned.headers.get("cache-control") != IMMUTABLE  # an old address must not stick a year


@pytest.mark.sqlite_only
def test_a_static_file_changed_on_disk_gets_a_new_address(tmp_path: Path, database_url: str) -> None:
    static = tmp_path / "static"
    static.mkdir()
    for name in ("app.css", "favicon.svg", "htmx-2.0.11.min.js", "autodiag.js"):
        (static / name).write_text("/* v1 */", encoding="utf-8")
    settings = Settings(database_url=database_url, data_dir=tmp_path, environment="test", static_dir=static)
    application = create_app(settings)
    try:
        client = TestClient(application)
        before = re.search(r'href="(/static/app.css[^"]*)"', client.get("/connexion").text).group(1)  # type: ignore[union-attr]
        (static / "app.css").write_text("/* v2, longer */", encoding="utf-8")
        after = re.search(r'href="(/static/app.css[^"]*)"', client.get("/connexion").text).group(1)  # type: ignore[union-attr]
        assert before != after
    finally:
        application.state.engine.dispose()
