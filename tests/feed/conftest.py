"""Feed tests read in the same (rolled-back) transaction that writes. The feed generation is bumped by
deferred constraint triggers, which in production fire at commit; here they must fire at the end of
each statement, or a reader inside the transaction would never see the generation move. So this
suite's ``db_connection`` is the root one with ``SET CONSTRAINTS ALL IMMEDIATE``."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import get_engine


@pytest.fixture
async def db_connection(migrated_database: None) -> AsyncIterator[AsyncConnection]:
    async with get_engine().connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        try:
            yield connection
        finally:
            await transaction.rollback()
