"""Test setup shared by every suite: a separate PostgreSQL database (dropped, created and migrated
once per run), a Redis database of its own, and an httpx client on the ASGI app whose every test
runs inside an outer transaction that is rolled back."""

import base64
import os
import tempfile
from collections.abc import AsyncIterator

import pytest

_DATA_DIR = tempfile.mkdtemp(prefix="hub-test-")
TEST_DATABASE_URL = os.environ.get(
    "HUB_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/hub_test"
)
os.environ.update(
    {
        "HUB_ENVIRONMENT": "test",
        "HUB_DATABASE_URL": TEST_DATABASE_URL,
        "HUB_REDIS_URL": os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "HUB_DATA_DIR": _DATA_DIR,
        "HUB_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"t" * 32).decode(),
    }
)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

import httpx  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker  # noqa: E402
from sqlmodel.ext.asyncio.session import AsyncSession  # noqa: E402

from shared.db import get_engine  # noqa: E402
from tests.database import recreate_test_database  # noqa: E402


@pytest.fixture(scope="session")
def migrated_database() -> None:
    recreate_test_database(TEST_DATABASE_URL)


@pytest.fixture
async def db_connection(migrated_database: None) -> AsyncIterator[AsyncConnection]:
    async with get_engine().connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(db_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session inside the test's outer transaction; its commits become savepoints."""
    maker = async_sessionmaker(
        bind=db_connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    async with maker() as db_session:
        yield db_session


@pytest.fixture
async def client(db_connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    from services.api.app import create_app

    app = create_app()
    app.state.sessionmaker = async_sessionmaker(
        bind=db_connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http
