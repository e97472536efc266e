"""The feed's reads go straight to asyncpg: a feed poll is one small query when its body is cached,
and the ORM's per-request session would cost more than the rest of the request together.

In production the feed keeps a small pool of its own. When the app has a session factory injected
(``app.state.sessionmaker``, as the tests do), the feed reads through that factory's connection, so
it sees the same transaction as everything else."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.datastructures import State

from shared.feed_items import driver_connection
from shared.settings import get_settings


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class FeedConnection(asyncpg.Connection):  # type: ignore[misc]
    """The feed's reads set no session state, take no advisory locks and open no cursors, so a
    connection going back to the pool needs no reset query (a whole round trip per poll otherwise)."""

    def get_reset_query(self) -> str:
        return ""


async def feed_pool(state: State) -> asyncpg.Pool:
    pool: asyncpg.Pool | None = getattr(state, "feed_pool", None)
    if pool is not None:
        return pool
    lock: asyncio.Lock | None = getattr(state, "feed_pool_lock", None)
    if lock is None:
        lock = state.feed_pool_lock = asyncio.Lock()
    async with lock:
        pool = getattr(state, "feed_pool", None)
        if pool is None:
            pool = await asyncpg.create_pool(
                asyncpg_dsn(get_settings().database_url),
                min_size=1,
                max_size=10,
                command_timeout=30,
                connection_class=FeedConnection,
            )
            state.feed_pool = pool
    return pool


@asynccontextmanager
async def feed_connection(state: State) -> AsyncIterator[asyncpg.Connection]:
    maker = getattr(state, "sessionmaker", None)
    if maker is not None:
        async with maker() as session:
            yield await driver_connection(session)
        return
    pool = await feed_pool(state)
    async with pool.acquire() as connection:
        yield connection
