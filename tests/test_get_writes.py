"""No GET writes: every page a signed-in owner, trainer or administrator opens leaves the database as it was.

Walks every GET route of the route table with the objects of `tests.test_isolation`'s world, and
records each INSERT, UPDATE or DELETE the database sees meanwhile. Reading under an auditor's
grant is audited on purpose (`audit_entry`); nothing else may be written.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.accounts import sessions
from tests import test_isolation
from tests.test_isolation import ADMIN, OWNERS, routes, sign_in

pytestmark = pytest.mark.sqlite_only
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b(?:\s+INTO|\s+FROM)?\s+\"?(\w+)", re.IGNORECASE)
world = test_isolation.world


def get_routes(app: FastAPI) -> list[str]:
    return sorted({route.path for route in routes(app) if "GET" in route.methods})


def test_no_get_route_writes_to_the_database(
    app: FastAPI, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session's last use is noted at most once a minute, by design (tests/accounts/test_sessions.py);
    # a walk that lasts over a minute on a loaded machine would record that one write.
    monkeypatch.setattr(sessions, "LAST_USE_PRECISION", timedelta(days=1))
    writes: list[tuple[str, str]] = []
    current = [""]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = WRITE.match(statement)
        if found and current[0] and found.group(2) != "audit_entry":
            writes.append((current[0], found.group(2)))

    event.listen(app.state.engine, "before_cursor_execute", record)
    visited = 0
    try:
        for person in (*OWNERS, ADMIN):
            with TestClient(app, follow_redirects=False) as client:
                sign_in(client, person)
                for path in get_routes(app):
                    if "{" in path and not set(re.findall(r"{(\w+)}", path)) <= set(world):
                        continue
                    current[0] = path
                    client.get(path.format(**world))
                    current[0] = ""
                    visited += 1
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    assert visited > 100
    assert sorted(set(writes)) == []
