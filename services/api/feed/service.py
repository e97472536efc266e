"""Serving a feed: find the body in the caches by (organisation, format, query, feed generation, link
period), render it on a miss, and answer conditional requests."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import asyncpg

from services.api.feed.access import FeedAccess
from services.api.feed.cache import CachedFeed, MemoryCache, SharedCache, strong_etag
from services.api.feed.render import RENDERERS, FeedSnapshot
from shared import feed_items
from shared.calendar import week_label
from shared.feed_items import LinkSigner, Position
from shared.feed_links import link_expiry, link_period
from shared.settings import get_settings

log = logging.getLogger("hub.api.feed")

FEED_PATHS = {"json": "/api/v1/feed", "rss": "/api/v1/feed/rss", "atom": "/api/v1/feed/atom"}


@dataclass(frozen=True)
class FeedQuery:
    format: str
    week: str | None  # None with a cursor: changes since the cursor
    cursor: Position | None
    limit: int

    def cache_part(self) -> str:
        scope = f"c{self.cursor.xid}.{self.cursor.seq}" if self.cursor else f"w{self.week}"
        return f"{self.format}:{scope}:{self.limit}"


def resolve_week(access: FeedAccess, week: str | None, cursor: Position | None, now: datetime) -> str | None:
    if cursor is not None:
        return None
    return week or week_label(now, access.timezone)


def self_url(query: FeedQuery, access: FeedAccess) -> str:
    params: dict[str, str | int] = {"organisation_id": access.organisation_id}
    if query.cursor is not None:
        params["cursor"] = query.cursor.encode()
    elif query.week:
        params["week"] = query.week
    params["limit"] = query.limit
    return f"{get_settings().public_base_url.rstrip('/')}{FEED_PATHS[query.format]}?{urlencode(params)}"


async def build_snapshot(
    connection: asyncpg.Connection, access: FeedAccess, query: FeedQuery, now: datetime
) -> tuple[FeedSnapshot, bool]:
    """The feed's content and whether it may be cached (not while committed changes it would include
    still wait behind a running transaction)."""
    settings = get_settings()
    topics = await feed_items.topic_filter(connection, access.organisation_id)
    links = LinkSigner(
        settings.public_base_url,
        settings.resolved_feed_signing_key(),
        link_expiry(now, settings.feed_link_period_s),
    )
    if query.cursor is not None:
        rows = await feed_items.changed_items(connection, topics, query.cursor, query.limit + 1)
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        next_position = feed_items.position_of(rows[-1]) if rows else query.cursor
        cacheable = not await feed_items.changes_withheld_after(connection, query.cursor)
    else:
        assert query.week is not None
        rows = await feed_items.week_items(connection, topics, query.week, query.limit + 1)
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        next_position = await feed_items.head_position(connection)
        cacheable = not await feed_items.changes_withheld_after(connection, next_position)
    media = await feed_items.media_by_material(connection, [row["id"] for row in rows])
    snapshot = FeedSnapshot(
        organisation={
            "id": access.organisation_id,
            "name": access.organisation_name,
            "timezone": access.timezone,
        },
        subscribed=topics.subscribed,
        week=query.week,
        cursor=query.cursor.encode() if query.cursor is not None else None,
        next_cursor=next_position.encode(),
        has_more=has_more,
        items=[feed_items.item_document(row, media[row["id"]], links) for row in rows],
        self_url=self_url(query, access),
    )
    return snapshot, cacheable


class FeedCaches:
    """The process's memory cache and the shared Redis cache."""

    def __init__(self, memory: MemoryCache, shared: SharedCache) -> None:
        self.memory = memory
        self.shared = shared


def cache_keys(access: FeedAccess, query: FeedQuery, now: datetime) -> tuple[str, str]:
    """(this feed's key, the key of its body at this generation and link period)."""
    settings = get_settings()
    feed_key = f"hub:feed:{access.epoch}:{access.organisation_id}:{query.cache_part()}"
    return feed_key, f"{feed_key}:g{access.generation}:p{link_period(now, settings.feed_link_period_s)}"


async def feed_body(
    caches: FeedCaches, connection: asyncpg.Connection, access: FeedAccess, query: FeedQuery, now: datetime
) -> CachedFeed:
    feed_key, key = cache_keys(access, query, now)
    cached = caches.memory.get(key)
    if cached is not None:
        return cached
    cached = await caches.shared.get(key)
    if cached is not None:
        caches.memory.put(key, cached)
        return cached
    snapshot, cacheable = await build_snapshot(connection, access, query, now)
    render, content_type = RENDERERS[query.format]
    body = render(snapshot)
    etag = strong_etag(body)
    last_modified = await caches.shared.first_rendered(feed_key, etag, now)
    cached = CachedFeed(etag=etag, last_modified=last_modified, content_type=content_type, body=body)
    if cacheable:
        caches.memory.put(key, cached)
        await caches.shared.put(key, cached)
    log.info(
        "feed.rendered organisation_id=%s format=%s items=%s cached=%s",
        access.organisation_id,
        query.format,
        len(snapshot.items),
        cacheable,
    )
    return cached


def not_modified(headers: Mapping[str, str], feed: CachedFeed) -> bool:
    """If-None-Match (weak comparison, as RFC 9110 asks for GET) wins over If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or feed.etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return feed.last_modified <= since
    return False
