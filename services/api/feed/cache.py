"""Rendered feed bodies, cached twice: in this process's memory (a bounded LRU) and in Redis (shared by
every API process). Both are keyed by the database's feed generation, which grows in the same
transaction as any write that can change a body — so an entry is never stale, it just stops being
asked for; Redis entries expire after ``feed_cache_ttl_s`` only to bound memory.

``Last-Modified`` is the first time *these exact bytes* were rendered for this feed (remembered in
Redis by ETag), so a change elsewhere that leaves this feed's bytes alone keeps it, and
``If-Modified-Since`` keeps answering 304."""

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("hub.api.feed")
LAST_MODIFIED_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class CachedFeed:
    etag: str  # with its quotes: '"…"'
    last_modified: datetime
    content_type: str
    body: bytes

    @property
    def last_modified_header(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)

    def pack(self) -> bytes:
        head = f"{self.etag}\n{int(self.last_modified.timestamp())}\n{self.content_type}\n".encode()
        return head + self.body

    @classmethod
    def unpack(cls, blob: bytes) -> "CachedFeed":
        etag, stamp, content_type, body = blob.split(b"\n", 3)
        return cls(etag.decode(), datetime.fromtimestamp(int(stamp), UTC), content_type.decode(), body)


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


class MemoryCache:
    """A small LRU of rendered bodies for this process."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._items: OrderedDict[str, CachedFeed] = OrderedDict()

    def get(self, key: str) -> CachedFeed | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, item: CachedFeed) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.entries:
            self._items.popitem(last=False)


class SharedCache:
    """Redis, when it answers; a feed is still served (rendered) when it does not."""

    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def get(self, key: str) -> CachedFeed | None:
        try:
            blob = await self.redis.get(key)
        except RedisError as exc:
            log.warning("feed.cache_unavailable error=%s", type(exc).__name__)
            return None
        return None if blob is None else CachedFeed.unpack(blob)

    async def put(self, key: str, item: CachedFeed) -> None:
        try:
            await self.redis.set(key, item.pack(), ex=self.ttl_s)
        except RedisError as exc:
            log.warning("feed.cache_unavailable error=%s", type(exc).__name__)

    async def first_rendered(self, feed_key: str, etag: str, now: datetime) -> datetime:
        """When these bytes were first rendered for this feed (``now`` if never, or if Redis is away)."""
        key = f"{feed_key}:lm:{etag.strip(chr(34))}"
        stamp = int(now.timestamp())
        try:
            await self.redis.set(key, stamp, nx=True, ex=LAST_MODIFIED_TTL_S)
            stored = await self.redis.get(key)
        except RedisError:
            stored = None
        return datetime.fromtimestamp(int(stored) if stored else stamp, UTC)
