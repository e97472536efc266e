"""One feed request, from the key to the bytes: shared by the FastAPI endpoints and the lean ASGI path
(``services.api.feed.asgi``), so both answer byte for byte the same."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from starlette.datastructures import State

from services.api.errors import InvalidField
from services.api.feed import service
from services.api.feed.access import ORGANISATION_BOUND, decide, feed_access, presented_key
from services.api.feed.cache import MemoryCache, SharedCache
from services.api.feed.database import feed_connection
from services.api.feed.directory import feed_directory
from services.api.materials.weeks import valid_week
from services.api.security import parse_prefix
from shared.feed_items import InvalidCursor, Position
from shared.models.enums import Role
from shared.settings import get_settings


@dataclass(frozen=True)
class FeedReply:
    status: int
    headers: dict[str, str]
    body: bytes
    content_type: str | None


def caches(state: State) -> service.FeedCaches:
    found: service.FeedCaches | None = getattr(state, "feed_caches", None)
    if found is None:
        settings = get_settings()
        redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        found = service.FeedCaches(
            MemoryCache(settings.feed_memory_cache_entries), SharedCache(redis, settings.feed_cache_ttl_s)
        )
        state.feed_caches = found
    return found


def parse_query(week: str | None, cursor: str | None) -> tuple[str | None, Position | None]:
    if week is not None and cursor is not None:
        raise InvalidField("query.cursor", "give either week (a week's items) or cursor (changes), not both")
    position = None
    if cursor is not None:
        try:
            position = Position.decode(cursor)
        except InvalidCursor as exc:
            raise InvalidField("query.cursor", str(exc)) from exc
    if week is not None:
        try:
            valid_week(week)
        except ValueError as exc:
            raise InvalidField("query.week", str(exc)) from exc
    return week, position


async def serve_feed(
    state: State,
    headers: Mapping[str, str],
    fmt: str,
    week: str | None,
    cursor: str | None,
    limit: int,
    organisation_id: int | None,
) -> FeedReply:
    """The reply to one feed request; DomainErrors for bad keys and parameters."""
    week, position = parse_query(week, cursor)
    plaintext = presented_key(headers)
    now = datetime.now(UTC)
    directory = feed_directory(state)
    prefix = parse_prefix(plaintext)
    if (
        directory is not None
        and prefix is not None
        and (row := await directory.key_row(prefix)) is not None
        and Role(row["role"]) in ORGANISATION_BOUND
    ):
        # The common poll: key and generation from memory; the database only when the body is not cached.
        access = decide(row, plaintext, organisation_id)
        await directory.mark_used(access.key_id)
        query = service.FeedQuery(
            format=fmt, week=service.resolve_week(access, week, position, now), cursor=position, limit=limit
        )
        feed = caches(state).memory.get(service.cache_keys(access, query, now)[1])
        if feed is None:
            async with feed_connection(state) as connection:
                feed = await service.feed_body(caches(state), connection, access, query, now)
    else:
        async with feed_connection(state) as connection:
            access = await feed_access(connection, plaintext, organisation_id)
            query = service.FeedQuery(
                format=fmt,
                week=service.resolve_week(access, week, position, now),
                cursor=position,
                limit=limit,
            )
            feed = await service.feed_body(caches(state), connection, access, query, now)
    reply_headers = {
        "ETag": feed.etag,
        "Last-Modified": feed.last_modified_header,
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization, X-API-Key",
    }
    if service.not_modified(headers, feed):
        return FeedReply(304, reply_headers, b"", None)
    return FeedReply(200, reply_headers, feed.body, feed.content_type)
