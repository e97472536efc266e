"""Per API process: the feed generation and the feed keys already looked up, kept current by
PostgreSQL notifications, so a poll whose body is cached costs no database round trip at all.

The migration's triggers ``NOTIFY hub_feed`` when a transaction that changed a feed body commits (the
generation grows) and when a key is revoked, deleted or re-bound. Any notification, a lost listener
connection, or ``feed_directory_recheck_s`` without one, empties the directory: the next poll of each
key reads the key and the generation again. Only organisation-bound keys (``feed``, ``operator``)
are kept; others are looked up on every request."""

import asyncio
import logging
import time
from typing import Any

import asyncpg
from starlette.datastructures import State

from services.api.feed.access import ACCESS, ORGANISATION_BOUND, TOUCH
from services.api.feed.database import asyncpg_dsn, feed_pool
from shared.models.enums import Role
from shared.settings import get_settings

log = logging.getLogger("hub.api.feed")
CHANNEL = "hub_feed"
TOUCH_EVERY_S = 60.0


class FeedDirectory:
    def __init__(self, state: State, recheck_s: float) -> None:
        self.state = state
        self.recheck_s = recheck_s
        self.rows: dict[str, asyncpg.Record] = {}
        self.touched: dict[int, float] = {}
        self.version = 0
        self.listener: asyncpg.Connection | None = None
        self.emptied_at = time.monotonic()
        self.lock = asyncio.Lock()
        self._forgotten = asyncio.Event()

    def forget(self, *_: Any) -> None:
        self.version += 1
        self.rows.clear()
        self.emptied_at = time.monotonic()
        self._forgotten.set()
        self._forgotten = asyncio.Event()

    async def wait_past(self, version: int) -> None:
        """Until the directory has been emptied after ``version`` (a notification arrived, say)."""
        while self.version <= version:
            await self._forgotten.wait()

    async def _listen(self) -> None:
        if self.listener is not None and not self.listener.is_closed():
            return
        async with self.lock:
            if self.listener is not None and not self.listener.is_closed():
                return
            self.forget()
            listener = await asyncpg.connect(asyncpg_dsn(get_settings().database_url))
            listener.add_termination_listener(self._lost)
            await listener.add_listener(CHANNEL, self.forget)
            self.listener = listener
            self.forget()  # whatever was read before the listener was in place may predate a change

    def _lost(self, *_: Any) -> None:
        log.warning("feed.directory_listener_lost")
        self.listener = None
        self.forget()

    async def key_row(self, prefix: str) -> asyncpg.Record | None:
        """The key's access row (organisation, generation…), from memory when it is known current."""
        await self._listen()
        if time.monotonic() - self.emptied_at > self.recheck_s:
            self.forget()
        row = self.rows.get(prefix)
        if row is not None:
            return row
        version = self.version
        pool = await feed_pool(self.state)
        async with pool.acquire() as connection:
            row = await connection.fetchrow(ACCESS, prefix, None)
        # A notification that arrived while we read may describe a change this row predates.
        if row is not None and version == self.version and Role(row["role"]) in ORGANISATION_BOUND:
            self.rows[prefix] = row
        return row

    async def mark_used(self, key_id: int) -> None:
        now = time.monotonic()
        if now - self.touched.get(key_id, 0.0) < TOUCH_EVERY_S:
            return
        self.touched[key_id] = now
        pool = await feed_pool(self.state)
        async with pool.acquire() as connection:
            await connection.execute(TOUCH, key_id)

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.close()


def feed_directory(state: State) -> FeedDirectory | None:
    """The process's directory; None when the app reads through an injected session factory (tests
    that run inside one transaction, where notifications never come)."""
    if getattr(state, "sessionmaker", None) is not None:
        return None
    directory: FeedDirectory | None = getattr(state, "feed_directory", None)
    if directory is None:
        directory = FeedDirectory(state, get_settings().feed_directory_recheck_s)
        state.feed_directory = directory
    return directory
