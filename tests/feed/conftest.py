"""Feed tests read in the same (rolled-back) transaction that writes. The feed generation is bumped by
deferred constraint triggers, which in production fire at commit; here they must fire at the end of
each statement, or a reader inside the transaction would never see the generation move. So this
suite's ``db_connection`` is the root one with ``SET CONSTRAINTS ALL IMMEDIATE``."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from shared.db import get_engine
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
async def db_connection(migrated_database: None) -> AsyncIterator[AsyncConnection]:
    async with get_engine().connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def production_client(migrated_database: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production runs it: no injected session, the feed's own asyncpg pool, real commits."""
    from services.api.app import create_app

    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        yield http
    directory = getattr(app.state, "feed_directory", None)
    if directory is not None:
        await directory.close()
    pool = getattr(app.state, "feed_pool", None)
    if pool is not None:
        await pool.close()


@pytest.fixture
async def committing(migrated_database: None) -> AsyncIterator[list[AsyncConnection]]:
    """Connections outside the test's rolled-back transaction; whatever they commit is removed after."""
    engine = create_async_engine(TEST_DATABASE_URL)
    connections: list[AsyncConnection] = []

    async def cleanup() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM material WHERE 'concurrent-cursor' = ANY(topics)"))
            await connection.execute(text("DELETE FROM organisation WHERE name LIKE 'concurrent-cursor-%'"))

    await cleanup()
    try:
        for _ in range(2):
            connections.append(await engine.connect())
        yield connections
    finally:
        for connection in connections:
            await connection.close()
        await cleanup()
        await engine.dispose()
