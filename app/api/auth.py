"""Who calls the API (a personal token, `accounts.tokens.authenticate_token`), scopes, rate limits, JSON errors.

Checks run in this order: a valid token (else 401), the token's rate (else 429), the scope the
operation needs (else 403); only then are the parameters read (422) and the object looked up (404).
The API's own refusals raise `ApiError`; a service's `app.errors.ServiceError`, an HTTP error and
invalid parameters reach the same handler, `json_error`, and read the same.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, bindparam, case, literal
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.models import ApiRateWindow, ApiToken, Scope, User
from app.accounts.tokens import authenticate_token
from app.api.models import ErrorResponse
from app.db import SessionDep
from app.errors import ServiceError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    429: "rate_limited",
}
MESSAGES = {
    401: "A valid API token is required: send `Authorization: Bearer <token>`.",
    403: "This token lacks the scope this operation needs.",
    404: "Not found, or not visible to this token.",
    422: "Some parameters are invalid: see `problems`.",
    429: "Too many requests for this token: wait for `Retry-After` seconds.",
}


class ApiError(Exception):
    """The API's own refusal, answered as `{"error": {"code", "message", "problems"}}`.

    Unlike `ServiceError` it carries response headers (`WWW-Authenticate`, `Retry-After`) and its
    problems as a list: one field of a scored document may have several.
    """

    def __init__(
        self,
        status: int,
        message: str = "",
        *,
        problems: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status, self.message = status, message or MESSAGES.get(status, "Error.")
        self.problems, self.headers = problems or [], headers or {}
        super().__init__(self.message)


def error_response(
    status: int, message: str, *, problems: list[dict[str, str]] | None = None
) -> JSONResponse:
    body = {"error": {"code": CODES.get(status, "error"), "message": message, "problems": problems or []}}
    return JSONResponse(body, status)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of an operation (OpenAPI `responses`)."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        documented[status] = {"model": ErrorResponse, "description": MESSAGES.get(status, CODES[status])}
        if status == 401:
            documented[status]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == 429:
            wait = {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer"}}
            documented[status]["headers"] = {"Retry-After": wait}
    return documented


READ = errors(401, 403, 422, 429)
READ_ONE = errors(401, 403, 404, 422, 429)


class RateLimiter:
    """`per_minute` requests a minute per API token, counted in the database by every worker.

    A fixed window: each token's row holds its current minute and the requests made in it, raised
    by one atomic upsert per request (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, in a
    transaction of its own, so no request holds the count while it runs). Past the limit, the
    wait is what remains of the minute. At a minute's turn a token may make up to twice the
    limit within a few seconds, never more.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.upserts: dict[str, Any] = {}

    def wait(self, engine: Engine, key: int, now: float | None = None) -> int:
        """Count one request of token `key` in `engine`'s database: 0 if allowed, else the seconds to wait."""
        now = time.time() if now is None else now
        window = int(now // 60 * 60)
        dialect = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
        upsert = self.upserts.get(dialect)
        if upsert is None:
            upsert = self.upserts.setdefault(dialect, _upsert(dialect))
        with engine.begin() as connection:
            requests = connection.execute(upsert, {"token_id": key, "window": window}).scalar_one()
        if requests <= self.per_minute:
            return 0
        return max(1, math.ceil(window + 60 - now))


def _upsert(dialect: str) -> Any:
    """The count's upsert, built once per dialect (building it cost more than running it).

    The dialect is imported here: the PostgreSQL dialect package costs start-up time on SQLite
    deployments, and whichever dialect the engine uses is already loaded."""
    insert: Any  # either dialect's INSERT … ON CONFLICT
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table: Any = ApiRateWindow.__table__  # type: ignore[attr-defined]
    window = bindparam("window", type_=table.c.window_start.type)
    counted = insert(table).values(token_id=bindparam("token_id"), window_start=window, requests=1)
    return counted.on_conflict_do_update(
        index_elements=[table.c.token_id],
        set_={
            "window_start": window,
            "requests": case((table.c.window_start == window, table.c.requests + 1), else_=literal(1)),
        },
    ).returning(table.c.requests)


@dataclass(frozen=True)
class Caller:
    user: User
    token: ApiToken


bearer = HTTPBearer(auto_error=False, description="A personal API token (`adm_…`).")


def caller(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The token's user; 401 for a missing, unknown, expired or revoked token, 429 past its rate."""
    found = authenticate_token(session, secret=credentials.credentials) if credentials else None
    if found is None:
        message = MESSAGES[401] if credentials is None else "Unknown, expired or revoked API token."
        raise ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})
    token, user = found
    wait = request.app.state.rate_limiter.wait(request.app.state.engine, token.id)
    if wait:
        raise ApiError(429, headers={"Retry-After": str(wait)})
    return Caller(user, token)


def requires(scope: Scope) -> Any:
    async def scoped(found: Annotated[Caller, Depends(caller)]) -> Caller:  # no I/O: no thread
        if scope.value not in found.token.scope_set:
            raise ApiError(403, f"This token lacks the scope `{scope.value}`.")
        return found

    return Depends(scoped)


CatalogReader = Annotated[Caller, requires(Scope.CATALOG)]
AssessmentReader = Annotated[Caller, requires(Scope.ASSESSMENTS)]
EvidenceReader = Annotated[Caller, requires(Scope.EVIDENCE)]


def add_error_handlers(api: FastAPI) -> None:
    """Answer every error of the API with the JSON error body, never an HTML page."""
    for kind in (ApiError, ServiceError, StarletteHTTPException, RequestValidationError):
        api.add_exception_handler(kind, json_error)


async def json_error(_request: Request, error: Exception) -> Response:
    """The one handler of the API's errors: the JSON error body, with the error's headers."""
    refused = as_api_error(error)
    response = error_response(refused.status, refused.message, problems=refused.problems)
    response.headers.update(refused.headers)
    return response


def as_api_error(error: Exception) -> ApiError:
    """The API's refusal `error` stands for: its own, a service's, an HTTP error, or invalid parameters."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ServiceError):
        problems = [{"field": field, "message": message} for field, message in error.problems.items()]
        return ApiError(error.status, error.message, problems=problems)
    if isinstance(error, StarletteHTTPException):
        message = MESSAGES.get(error.status_code) or str(error.detail)
        return ApiError(error.status_code, message, headers=dict(error.headers or {}))
    assert isinstance(error, RequestValidationError)
    problems = [
        {"field": ".".join(str(part) for part in problem["loc"]), "message": str(problem["msg"])}
        for problem in error.errors()
    ]
    return ApiError(422, MESSAGES[422], problems=problems)
