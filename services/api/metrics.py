"""Prometheus metrics for the API: requests by route template and status, and their latency."""

import time
import uuid
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.audit import request_id_var

try:  # FastAPI >= 0.160 keeps the matched route's full template here.
    from fastapi.routing import _get_scope_effective_route_context as _effective_route_context
except ImportError:  # pragma: no cover - older FastAPI put the full route in scope["route"]

    def _effective_route_context(scope: Scope) -> Any | None:
        return None


REQUESTS = Counter("hub_api_requests_total", "API requests", ["method", "route", "status"])
LATENCY = Histogram(
    "hub_api_request_seconds",
    "API request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/api/v1/organisations/{organisation_id}``), so metrics
    are labelled by route, not by URL. FastAPI keeps included routes apart from their prefixes and
    exposes the full template only through its route context (checked by a test, version pinned)."""
    context = _effective_route_context(scope)
    template = getattr(context, "path_format", None)
    if template:
        return str(template)
    return str(getattr(scope.get("route"), "path", None) or "unmatched")


class RequestContextMiddleware:
    """Pure ASGI middleware: request id (echoed as X-Request-ID) and metrics, without buffering bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = incoming or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = route_template(scope)
            method = scope.get("method", "")
            REQUESTS.labels(method, template, str(status_code)).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - started)
            request_id_var.reset(token)


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
