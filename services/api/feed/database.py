"""The feed's reads go straight to asyncpg: a feed poll is one small query when its body is cached,
and the ORM's per-request session would cost more than the rest of the request together.

In production the feed keeps a small pool of its own. When the app has a session factory injected
(``app.state.sessionmaker``, as the tests do), the feed reads through that factory's connection, so
it sees the same transaction as everything else."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import Request

from shared.feed_items import driver_connection
from shared.settings import get_settings


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool | None = getattr(request.app.state, "feed_pool", None)
    if pool is None:
        pool = await asyncpg.create_pool(
            asyncpg_dsn(get_settings().database_url), min_size=1, max_size=10, command_timeout=30
        )
        request.app.state.feed_pool = pool
    return pool


@asynccontextmanager
async def feed_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    maker = getattr(request.app.state, "sessionmaker", None)
    if maker is not None:
        async with maker() as session:
            yield await driver_connection(session)
        return
    pool = await _pool(request)
    async with pool.acquire() as connection:
        yield connection
