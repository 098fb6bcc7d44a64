"""What production can watch: a request id on every request and log line, JSON logs, Prometheus metrics.

`RequestObserver` (a plain ASGI middleware) takes the request's `X-Request-ID` (or makes one),
answers it back, logs one JSON line per request and counts it by route template. `/metrics`
(`metrics_endpoint`) serves the figures in Prometheus' text format to whoever sends the
`AUTODIAG_METRICS_TOKEN` as a bearer token; without a token configured it does not exist (404).
Each worker process keeps its own figures; Prometheus adds them up across the targets it scrapes.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
log = logging.getLogger("autodiag.request")

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "autodiag_http_requests", "HTTP requests answered.", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "autodiag_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
    registry=REGISTRY,
)
AUTOSAVE_CONFLICTS = Counter(
    "autodiag_autosave_conflicts", "Answers refused as stale (409): someone wrote first.", registry=REGISTRY
)
POOL_WAIT = Histogram(
    "autodiag_db_pool_checkout_seconds",
    "Time to get a database connection from the pool (its tail is time spent waiting for one).",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
    registry=REGISTRY,
)
POOL_IN_USE = Gauge("autodiag_db_pool_in_use", "Database connections checked out now.", registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("autodiag_mail_outbox_backlog", "E-mails waiting to be sent.", registry=REGISTRY)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging() -> None:
    """Send the app's logs (`autodiag.*`) to standard error as JSON lines, once per process."""
    logger = logging.getLogger("autodiag")
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


class RequestObserver:
    """Give each HTTP request an id (`X-Request-ID`), time it, count it and log it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = sent if _ACCEPTED_ID.fullmatch(sent) else uuid.uuid4().hex
        token, began, status = request_id.set(rid), time.perf_counter(), [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            spent, route = time.perf_counter() - began, route_template(scope)
            REQUESTS.labels(scope["method"], route, str(status[0])).inc()
            LATENCY.labels(scope["method"], route).observe(spent)
            fields = {"request_id": rid, "method": scope["method"], "path": scope["path"], "route": route}
            fields["status"] = status[0]
            log.info("request", extra={"fields": fields | {"duration_ms": round(spent * 1000, 2)}})
            request_id.reset(token)


def route_template(scope: Scope) -> str:
    """The path template the request matched (`/autoevaluations/{assessment_id}`): ids would make a
    label per object."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    mounted = scope.get("root_path", "")
    return f"{mounted}{path}" if mounted and not path.startswith(mounted) else path


def watch_pool(engine: Engine) -> None:
    """Time every checkout of `engine`'s pool (`POOL_WAIT`) and count the connections in use."""
    pool: Any = engine.pool
    checkout = pool.connect

    def timed_checkout() -> Any:
        began = time.perf_counter()
        try:
            return checkout()
        finally:
            POOL_WAIT.observe(time.perf_counter() - began)

    pool.connect = timed_checkout
    POOL_IN_USE.set_function(lambda: float(pool.checkedout()))


def watch_outbox(count: Callable[[], int]) -> None:
    """Read the outbox backlog (`count`: a query) each time the metrics are read."""
    OUTBOX_BACKLOG.set_function(lambda: float(count()))


def metrics_endpoint(token: str) -> Callable[[Request], Response]:
    """`/metrics` for whoever sends `Authorization: Bearer <token>`; 404 to anyone else, as if it did not exist."""

    def metrics(request: Request) -> Response:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token or not secrets.compare_digest(sent.encode(), token.encode()):
            return Response(status_code=404)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return metrics
