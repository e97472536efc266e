"""The API with a lean path for feed polls in front: ``uvicorn services.api.feed.asgi:app``.

A thousand systems polling every minute make feed polls most of the API's traffic, and FastAPI's
middleware, routing and parameter handling cost several times what the poll itself does (one indexed
query and a body from memory). This ASGI layer answers well-formed ``GET /api/v1/feed[/rss|/atom]``
polls itself, through the same ``serve_feed`` as the FastAPI endpoints (same bytes, same headers);
anything else — other paths, unusual parameters, and every error (bad key, bad week…) — goes to the
FastAPI app unchanged, which documents, validates and answers it as usual."""

from urllib.parse import parse_qsl

from prometheus_client import Counter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.app import app as api_app
from services.api.errors import DomainError
from services.api.feed.serving import serve_feed

FORMATS = {"/api/v1/feed": "json", "/api/v1/feed/rss": "rss", "/api/v1/feed/atom": "atom"}
PARAMETERS = {"week", "cursor", "limit", "organisation_id"}
FAST_POLLS = Counter("hub_api_feed_fast_polls_total", "Feed polls answered by the lean ASGI path", ["status"])


def _parameters(query_string: bytes) -> dict[str, str] | None:
    """The poll's parameters when they are plainly well-formed; None sends the request to FastAPI."""
    try:
        pairs = parse_qsl(
            query_string.decode("latin-1"), keep_blank_values=True, strict_parsing=bool(query_string)
        )
    except ValueError:
        return None
    values = dict(pairs)
    if len(values) != len(pairs) or not set(values) <= PARAMETERS:
        return None
    for name in ("limit", "organisation_id"):
        if name in values and not values[name].isdigit():
            return None
    if "limit" in values and not 1 <= int(values["limit"]) <= 500:
        return None
    return values


class FeedFastPath:
    def __init__(self, app: ASGIApp, state: object) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fmt = (
            FORMATS.get(scope.get("path", ""))
            if scope["type"] == "http" and scope["method"] == "GET"
            else None
        )
        values = None if fmt is None else _parameters(scope.get("query_string", b""))
        if fmt is None or values is None:
            await self.app(scope, receive, send)
            return
        try:
            reply = await serve_feed(
                self.state,  # type: ignore[arg-type]
                Headers(scope=scope),
                fmt,
                values.get("week"),
                values.get("cursor"),
                int(values.get("limit", "100")),
                int(values["organisation_id"]) if "organisation_id" in values else None,
            )
        except DomainError:
            await self.app(scope, receive, send)  # FastAPI renders every error the one documented way
            return
        headers = [(name.lower().encode(), value.encode()) for name, value in reply.headers.items()]
        if reply.content_type is not None:
            headers.append((b"content-type", reply.content_type.encode()))
        headers.append((b"content-length", str(len(reply.body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})
        FAST_POLLS.labels(str(reply.status)).inc()


def with_fast_feed(app: ASGIApp, state: object) -> FeedFastPath:
    return FeedFastPath(app, state)


app = with_fast_feed(api_app, api_app.state)
