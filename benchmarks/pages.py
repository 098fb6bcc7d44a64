"""Serial, in-process CPU time of the pages that matter most, as ratios to a bare endpoint timed the same way.

    uv run python -m benchmarks.pages [--repeat 40]

One request at a time through Starlette's TestClient (no network, no concurrency), so the figures
say what the app itself spends per request (CPU time of the process, `time.process_time`, so a
busy machine changes them less than wall-clock time): the section page « Structuration interne »
(its first page of questions; its HTML size is printed too) and an
htmx autosave of the demo's half-filled assessment, in French and in English, and the API listing
of a submitted assessment's snapshots with the demo auditor's token. The baseline is a bare FastAPI
endpoint returning 1 KB of HTML through its own TestClient. Medians; no budget is asserted here
(shared/design.md §10 has them, measured on a served copy by benchmarks/http.py).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import demo
from app.accounts.models import Role, User
from app.accounts.tokens import create_token
from app.config import Settings
from app.main import create_app
from benchmarks.served import quiet_requests

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REVISION = re.compile(r'name="revision" value="(\d+)"')


def median_ms(request: Callable[[], object], repeat: int) -> float:
    request()  # warm caches and compiled templates
    times = []
    for _ in range(repeat):
        began = time.process_time()
        request()
        times.append(time.process_time() - began)
    return statistics.median(times) * 1000


def bare_client() -> TestClient:
    bare = FastAPI()
    body = "<p>" + "x" * 1017 + "</p>"

    @bare.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse(body)

    return TestClient(bare)


def signed_in(app: FastAPI, language: str) -> tuple[TestClient, str]:
    email, _name, _role, password = next(a for a in demo.ACCOUNTS if a[2] == Role.DIRECTOR)
    client = TestClient(app, headers={"Accept-Language": language})
    token = CSRF.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    client.post("/connexion", data={"email": email, "password": password, "csrf_token": token})
    return client, CSRF.search(client.get("/structures").text).group(1)  # type: ignore[union-attr]


def director_requests(client: TestClient, csrf: str) -> dict[str, Callable[[], object]]:
    structure = re.search(r"/structures/(\d+)", client.get("/structures").text).group(1)  # type: ignore[union-attr]
    found = re.search(r"/autoevaluations/(\d+)", client.get(f"/structures/{structure}").text)
    section = f"/autoevaluations/{found.group(1)}/sections/structuration"  # type: ignore[union-attr]
    html = client.get(section).text
    form = re.search(r'action="([^"]*/reponses/[A-Z]+-\d+)"', html)
    revision = [int(REVISION.search(html, form.end()).group(1))]  # type: ignore[union-attr]
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}

    def autosave() -> None:
        data = {"niveau": str(revision[0] % 4), "revision": str(revision[0])}
        response = client.post(form.group(1), headers=headers, data=data)  # type: ignore[union-attr]
        assert response.status_code == 200, response.status_code
        revision[0] = int(REVISION.search(response.text).group(1))  # type: ignore[union-attr]

    print(
        f"section page HTML ({client.headers['Accept-Language']})      {len(client.get(section).content) / 1000:6.1f} KB"
    )
    return {"section page": lambda: client.get(section), "autosave": autosave}


def api_listing(app: FastAPI) -> Callable[[], object]:
    with Session(app.state.engine) as session:
        auditor = session.exec(select(User).where(User.role == Role.AUDITOR)).one()
        _, secret = create_token(session, user=auditor, name="bench", scopes=["read:assessments"], days=1)
    api = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    structure = api.get("/api/v1/structures").json()["items"][0]["id"]
    assessment = api.get(f"/api/v1/structures/{structure}/assessments").json()["items"][0]["id"]
    return lambda: api.get(f"/api/v1/assessments/{assessment}/snapshots")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    quiet_requests()
    app = create_app(Settings(data_dir=tempfile.mkdtemp(), environment="test"))
    with Session(app.state.engine) as session:
        demo.seed(session, catalog=app.state.catalog, signer=app.state.signer)
    bare = bare_client()
    baseline = median_ms(lambda: bare.get("/"), args.repeat)
    print(f"bare endpoint (baseline)        {baseline:6.2f} ms CPU")
    for language in ("fr", "en"):  # one after the other: both write the same question
        client, csrf = signed_in(app, language)
        for name, request in director_requests(client, csrf).items():
            report(f"{name} ({language})", median_ms(request, args.repeat), baseline)
    report("API snapshot listing", median_ms(api_listing(app), args.repeat), baseline)


def report(name: str, spent: float, baseline: float) -> None:
    print(f"{name:<30} {spent:6.2f} ms = {spent / baseline:5.1f}× baseline")


if __name__ == "__main__":
    main()
