from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from sandbox.testing import RunningSandbox, running_sandbox
from shared.settings import get_settings
from tests.distributor.harness import Workers, environment_for_workers, reset_database


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
async def clean(migrated_database: None, sandbox: RunningSandbox) -> AsyncIterator[None]:
    """Empty database tables, an empty queue and no faults: each scenario starts from nothing."""
    await reset_database()
    redis = Redis.from_url(get_settings().redis_url)
    await redis.flushdb()
    await redis.aclose()
    await sandbox.acontrol.clear_faults()
    yield


@pytest.fixture
def workers(sandbox: RunningSandbox, clean: None) -> Iterator[Workers]:
    running = Workers(environment_for_workers(sandbox))
    running.start_scheduler()
    yield running
    running.kill_all()
    running.stop_scheduler()
