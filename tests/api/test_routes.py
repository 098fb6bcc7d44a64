"""The API through HTTP: tokens and scopes, every operation, pagination, evidence, snapshots, audit."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlmodel import Session, col, func, select
from starlette.datastructures import State

from app.accounts.models import ApiToken, Role
from app.accounts.tokens import hash_token
from app.api.auth import RateLimiter
from app.api.routes import create_api
from app.config import Settings
from app.db import AuditEntry, utcnow
from app.errors import ServiceError
from app.main import create_app
from app.structures.models import AuditorGrant
from tests.api.helpers import ALL_SCOPES, World, bearer, seed, token_for
from tests.reports.helpers import member

EXAMPLE = Path(__file__).parents[2] / "questionnaires" / "examples" / "answers.yaml"
SCOPED = [
    ("/api/v1/referentials", "read:catalog"),
    ("/api/v1/referentials/x60-600/versions/1.0.0", "read:catalog"),
    ("/api/v1/referentials/x60-600/versions/1.0.0/criteria", "read:catalog"),
    ("/api/v1/questionnaires", "read:catalog"),
    ("/api/v1/questionnaires/express/versions/1.0.0", "read:catalog"),
    ("/api/v1/structures", "read:assessments"),
    ("/api/v1/structures/{structure_id}", "read:assessments"),
    ("/api/v1/structures/{structure_id}/assessments", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/answers", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/evidence", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/evidence/{evidence_id}/file", "read:evidence"),
    ("/api/v1/assessments/{submitted_id}/snapshots", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/snapshots/latest", "read:assessments"),
    ("/api/v1/snapshots/1/content", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/report.pdf", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/report.xlsx", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/answers.csv", "read:assessments"),
    ("/api/v1/assessments/{submitted_id}/gaps.csv", "read:assessments"),
]


@pytest.fixture
def world(app: FastAPI) -> World:
    return seed(app)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def url(path: str, world: World) -> str:
    return path.format(**vars(world))


def audits(app: FastAPI, action: str) -> list[AuditEntry]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_every_operation_answers_an_auditor_with_all_scopes(
    app: FastAPI, world: World, client: TestClient
) -> None:
    headers = bearer(token_for(app, world.auditor))
    for path, _ in SCOPED:
        assert client.get(url(path, world), headers=headers).status_code == 200, path


@pytest.mark.parametrize(("path", "scope"), SCOPED)
def test_a_token_without_the_scope_gets_403_in_json(
    app: FastAPI, world: World, client: TestClient, path: str, scope: str
) -> None:
    others = [s for s in ALL_SCOPES if s != scope]
    response = client.get(url(path, world), headers=bearer(token_for(app, world.auditor, others)))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert scope in response.json()["error"]["message"]


def test_missing_unknown_expired_and_revoked_tokens_get_401(
    app: FastAPI, world: World, client: TestClient
) -> None:
    expired, revoked = token_for(app, world.auditor), token_for(app, world.auditor)
    with Session(app.state.engine) as session:
        session.execute(
            update(ApiToken)
            .where(col(ApiToken.token_hash) == hash_token(expired))
            .values(expires_at=utcnow())
        )
        session.execute(
            update(ApiToken)
            .where(col(ApiToken.token_hash) == hash_token(revoked))
            .values(revoked_at=utcnow())
        )
        session.commit()
    for headers in (
        {},
        bearer("adm_nope"),
        bearer(expired),
        bearer(revoked),
        {"Authorization": "Basic eA=="},
    ):
        response = client.get("/api/v1/structures", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_is_stored_hashed_and_its_last_use_recorded_once_a_minute(
    app: FastAPI, world: World, client: TestClient
) -> None:
    secret = token_for(app, world.auditor)
    assert secret.startswith("adm_")
    assert len(secret) > 40
    with Session(app.state.engine) as session:
        token = session.exec(select(ApiToken)).one()
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in json.dumps(token.model_dump(mode="json"))
        assert token.last_used_at is None
    client.get("/api/v1/structures", headers=bearer(secret))
    with Session(app.state.engine) as session:
        first = session.exec(select(ApiToken)).one().last_used_at
    client.get("/api/v1/structures", headers=bearer(secret))
    with Session(app.state.engine) as session:
        assert first is not None
        assert session.exec(select(ApiToken)).one().last_used_at == first


def mid_minute(monkeypatch: pytest.MonkeyPatch, app: FastAPI) -> None:
    """Count `app`'s API requests at 30 s into the current minute: requests sent on a slow machine
    around a minute's end would otherwise fall in two windows, and the second counts from zero."""
    limiter = app.state.rate_limiter
    moment = time.time() // 60 * 60 + 30
    monkeypatch.setattr(limiter, "wait", functools.partial(RateLimiter.wait, limiter, now=moment))


def test_past_the_rate_a_token_gets_429_with_retry_after(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(
        Settings(
            database_url=database_url, data_dir=tmp_path, environment="test", api_rate_limit_per_minute=3
        )
    )
    mid_minute(monkeypatch, app)
    world = seed(app)
    client, secret = TestClient(app), token_for(app, world.auditor)
    statuses = [client.get("/api/v1/keys").status_code for _ in range(5)]
    assert statuses == [200] * 5  # the public keys need no token, so are not counted
    answers = [client.get("/api/v1/structures", headers=bearer(secret)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert answers[-1].headers["Retry-After"] == "30"  # what remains of the minute
    other = token_for(app, world.director)
    assert client.get("/api/v1/structures", headers=bearer(other)).status_code == 200


def test_the_rate_is_shared_by_every_worker_on_the_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, environment="test", api_rate_limit_per_minute=4
    )
    first, second = create_app(settings), create_app(settings)  # two workers, one database
    mid_minute(monkeypatch, first)
    mid_minute(monkeypatch, second)
    try:
        secret = token_for(first, seed(first).auditor)
        workers = [TestClient(first), TestClient(second)]
        statuses = [
            workers[n % 2].get("/api/v1/structures", headers=bearer(secret)).status_code for n in range(6)
        ]
        assert statuses == [200, 200, 200, 200, 429, 429]  # four in all, not four each
    finally:
        second.state.engine.dispose()
        first.state.engine.dispose()


@pytest.mark.sqlite_only
def test_a_new_minute_counts_from_zero_again(app: FastAPI, world: World) -> None:
    token_for(app, world.auditor), token_for(app, world.director)
    with Session(app.state.engine) as session:
        one, other = session.exec(select(ApiToken.id).order_by(col(ApiToken.id))).all()
    limiter, minute, engine = RateLimiter(2), 1_800_000_000 // 60 * 60, app.state.engine
    assert [limiter.wait(engine, one, minute + 1.0) for _ in range(3)] == [0, 0, 59]  # type: ignore[arg-type]
    assert limiter.wait(engine, other, minute + 30.0) == 0  # type: ignore[arg-type]  (each token its own)
    assert limiter.wait(engine, one, minute + 60.0) == 0  # type: ignore[arg-type]


def test_structures_and_assessments_list_submitted_ones_only(
    app: FastAPI, world: World, client: TestClient
) -> None:
    for user in (world.auditor, world.director):
        headers = bearer(token_for(app, user))
        structures = client.get("/api/v1/structures", headers=headers).json()
        assert [s["id"] for s in structures["items"]] == [world.structure_id]
        listed = client.get(f"/api/v1/structures/{world.structure_id}/assessments", headers=headers).json()
        assert [a["id"] for a in listed["items"]] == [world.submitted_id]
        assert client.get(f"/api/v1/assessments/{world.draft_id}", headers=headers).status_code == 404


def test_pages_follow_next_in_a_stable_order(app: FastAPI, world: World, client: TestClient) -> None:
    admin, _ = member(app, "admin@example.org", role=Role.ADMIN)
    for number in range(4):
        member(app, f"d{number}@example.org", structure_name=f"Structure {number}")
    headers, seen, page = bearer(token_for(app, admin)), [], "/api/v1/structures?limit=2"
    while page:
        answer = client.get(page, headers=headers).json()
        assert len(answer["items"]) <= 2
        seen += [s["id"] for s in answer["items"]]
        page = answer["next"]
    assert seen == sorted(seen)
    assert len(seen) == 5
    criteria, page = [], "/api/v1/referentials/x60-600/versions/1.0.0/criteria?limit=30"
    while page:
        answer = client.get(page, headers=headers).json()
        criteria += [c["id"] for c in answer["items"]]
        page = answer["next"]
    assert criteria == sorted(criteria)
    assert len(criteria) == len(set(criteria)) > 60


def test_bad_parameters_get_422_naming_the_field(app: FastAPI, world: World, client: TestClient) -> None:
    headers = bearer(token_for(app, world.auditor))
    for path, field in (
        ("/api/v1/structures?limit=0", "query.limit"),
        ("/api/v1/structures?limit=1000", "query.limit"),
        ("/api/v1/structures?after=x", "query.after"),
        ("/api/v1/assessments/99999999999", "path.assessment_id"),
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 422, path
        assert [p["field"] for p in response.json()["error"]["problems"]] == [field]


def test_an_assessment_shows_its_result_answers_and_evidence(
    app: FastAPI, world: World, client: TestClient
) -> None:
    headers = bearer(token_for(app, world.auditor))
    detail = client.get(f"/api/v1/assessments/{world.submitted_id}", headers=headers).json()
    assert detail["status"] == "submitted"
    assert detail["result"]["partial"] is True
    assert detail["result"]["verdict"] in {"pret", "presque_pret", "pas_pret"}
    answers = client.get(
        f"/api/v1/assessments/{world.submitted_id}/answers?limit=100", headers=headers
    ).json()
    assert {a["level"] for a in answers["items"]} == {2}
    assert answers["items"][0]["evidence"] == [{"id": world.evidence_id, "covers": []}]
    pieces = client.get(f"/api/v1/assessments/{world.submitted_id}/evidence", headers=headers).json()["items"]
    assert [p["id"] for p in pieces] == [world.evidence_id]
    assert pieces[0]["file_url"].endswith(f"/evidence/{world.evidence_id}/file")


def test_evidence_downloads_as_an_attachment_with_its_hash(
    app: FastAPI, world: World, client: TestClient
) -> None:
    headers = bearer(token_for(app, world.auditor))
    response = client.get(
        f"/api/v1/assessments/{world.submitted_id}/evidence/{world.evidence_id}/file", headers=headers
    )
    assert response.status_code == 200
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Type"] == "application/pdf"
    elsewhere = client.get(f"/api/v1/assessments/{world.submitted_id}/evidence/999/file", headers=headers)
    assert elsewhere.status_code == 404


def test_snapshot_bytes_verify_with_the_published_key(app: FastAPI, world: World, client: TestClient) -> None:
    headers = bearer(token_for(app, world.auditor))
    latest = client.get(f"/api/v1/assessments/{world.submitted_id}/snapshots/latest", headers=headers).json()
    listed = client.get(f"/api/v1/assessments/{world.submitted_id}/snapshots", headers=headers).json()[
        "items"
    ]
    assert listed == [latest]
    content = client.get(latest["content_url"].removeprefix(""), headers=headers)
    assert content.headers["X-Snapshot-Signature"] == latest["signature"]
    assert (
        hashlib.sha256(content.content).hexdigest()
        == latest["sha256"]
        == content.headers["X-Snapshot-SHA256"]
    )
    keys = client.get("/.well-known/autodiag-snapshot-keys.json").json()
    assert keys == client.get("/api/v1/keys").json()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys["keys"][0]["public_key"]))
    key.verify(base64.b64decode(latest["signature"]), content.content)  # raises if it does not verify
    assert json.loads(content.content)["assessment"]["id"] == world.submitted_id


def test_a_snapshot_listing_reads_the_grant_once_and_the_snapshots_from_their_index(
    app: FastAPI, world: World, client: TestClient
) -> None:
    """Auditor's listing: the token; the rate count; the assessment with its structure and the
    auditor's membership; the running grants (once, for the access and for the audit entry); the
    audit entry; the page of snapshots, read from the covering index (not through each row's JSON)."""
    headers = bearer(token_for(app, world.auditor))
    client.get(f"/api/v1/assessments/{world.submitted_id}/snapshots", headers=headers)  # token's last use
    statements: list[tuple[str, Any]] = []

    def executing(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(app.state.engine, "before_cursor_execute", executing)
    try:
        response = client.get(f"/api/v1/assessments/{world.submitted_id}/snapshots", headers=headers)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", executing)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1
    sql = [statement for statement, _ in statements]
    assert len([s for s in sql if "FROM auditor_grant" in s]) == 1, sql
    assert len([s for s in sql if not s.startswith(("BEGIN", "COMMIT"))]) <= 7, sql
    listing, parameters = next((s, p) for s, p in statements if s.startswith("SELECT snapshot.id"))
    assert "canonical_json" not in listing
    if app.state.engine.dialect.name == "sqlite":
        with app.state.engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {listing}", parameters).all()
        assert any("COVERING INDEX ix_snapshot_listed" in row[-1] for row in plan), plan


def test_score_answers_like_the_cli(app: FastAPI, world: World, client: TestClient) -> None:
    import yaml

    from app.scoring.answers import parse_text, resolve, scored

    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    headers = bearer(token_for(app, world.auditor, ["read:catalog"]))
    response = client.post("/api/v1/score", json=document, headers=headers)
    request = resolve(app.state.catalog, parse_text(EXAMPLE.read_text(encoding="utf-8")))
    today = datetime.now(UTC).date()
    expected = {"questionnaire": request.questionnaire.ref, **scored(request, today=today).as_dict()}
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(expected))


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"{not json", ["body"]),
        (b"[]", ["body"]),
        (
            json.dumps({"questionnaire": "full", "answers": {"DEO-01": {"level": 7}}}).encode(),
            ["answers.DEO-01.level"],
        ),
        (json.dumps({"questionnaire": "nope"}).encode(), ["questionnaire"]),
        (
            json.dumps(
                {"questionnaire": "full@1.1.0", "answers": {"DEO-03": {"level": "na", "justification": "x"}}}
            ).encode(),
            ["answers.DEO-03.level"],
        ),
        (
            json.dumps(
                {"questionnaire": "express", "answers": {"ZZZ-01": {"level": 1}}, "profile": {"x": True}}
            ).encode(),
            ["profile.x"],
        ),
    ],
)
def test_score_refuses_a_bad_document_naming_each_field(
    app: FastAPI, world: World, client: TestClient, body: bytes, fields: list[str]
) -> None:
    headers = bearer(token_for(app, world.auditor, ["read:catalog"])) | {"Content-Type": "application/json"}
    response = client.post("/api/v1/score", content=body, headers=headers)
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["error"]["problems"]][: len(fields)] == fields


def test_reads_under_a_grant_are_audited_with_the_grant(
    app: FastAPI, world: World, client: TestClient
) -> None:
    assert len(audits(app, "grant.create")) == 1
    headers = bearer(token_for(app, world.auditor))
    client.get(f"/api/v1/assessments/{world.submitted_id}", headers=headers)
    client.get(f"/api/v1/assessments/{world.submitted_id}/evidence/{world.evidence_id}/file", headers=headers)
    client.get("/api/v1/snapshots/1/content", headers=headers)
    entries = audits(app, "api.read")
    with Session(app.state.engine) as session:
        grant_id = session.exec(select(AuditorGrant.id)).one()
    assert [(e.object_type, e.structure_id, e.after["grant"]) for e in entries] == [  # type: ignore[index]
        ("assessment", world.structure_id, grant_id),
        ("evidence", world.structure_id, grant_id),
        ("snapshot", world.structure_id, grant_id),
    ]
    client.get("/api/v1/structures", headers=bearer(token_for(app, world.director)))
    assert len(audits(app, "api.read")) == 3  # a director's own reads are not under a grant


def test_without_a_running_grant_the_structure_does_not_exist(
    app: FastAPI, world: World, client: TestClient
) -> None:
    headers = bearer(token_for(app, world.auditor))
    assert client.get(f"/api/v1/structures/{world.structure_id}", headers=headers).status_code == 200
    with Session(app.state.engine) as session:
        session.execute(update(AuditorGrant).values(expires_on=(utcnow() - timedelta(days=1)).date()))
        session.commit()
    for path, _ in SCOPED[5:]:
        response = client.get(url(path, world), headers=headers)
        expected = 200 if path == "/api/v1/structures" else 404
        assert response.status_code == expected, path
    assert client.get("/api/v1/structures", headers=headers).json()["items"] == []
    with Session(app.state.engine) as session:
        session.execute(update(AuditorGrant).values(expires_on=utcnow().date(), revoked_at=utcnow()))
        session.commit()
    assert client.get(f"/api/v1/structures/{world.structure_id}", headers=headers).status_code == 404


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DIRECTOR, Role.TRAINER])
def test_no_api_operation_reaches_another_structure(
    app: FastAPI, world: World, client: TestClient, role: Role
) -> None:
    outsider, _ = member(
        app,
        f"outsider-{role.value}@example.org",
        role=role,
        structure_name="Sud" if role == Role.DIRECTOR else "",
    )
    headers = bearer(token_for(app, outsider))
    with Session(app.state.engine) as session:
        before = session.exec(select(func.count()).select_from(AuditEntry)).one()
    answers = {path: client.get(url(path, world), headers=headers).status_code for path, _ in SCOPED[6:]}
    assert set(answers.values()) == {404}, answers
    assert world.structure_id not in [
        s["id"] for s in client.get("/api/v1/structures", headers=headers).json()["items"]
    ]
    with Session(app.state.engine) as session:
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == before


def test_a_service_error_is_answered_with_the_json_error() -> None:
    api = create_api(State({"settings": Settings()}))

    @api.get("/refused")
    def refused() -> None:
        raise ServiceError("This name is taken.", status=409, field="name")

    response = TestClient(api).get("/refused")
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "conflict",
            "message": "This name is taken.",
            "problems": [{"field": "name", "message": "This name is taken."}],
        }
    }
