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
    await reset_database()  # committed rows must not leak into suites that expect an empty week


@pytest.fixture
def workers(sandbox: RunningSandbox, clean: None) -> Iterator[Workers]:
    running = Workers(environment_for_workers(sandbox))
    running.start_scheduler()
    yield running
    running.kill_all()
    running.stop_scheduler()


@pytest.fixture
def faulty_workers(sandbox: RunningSandbox, clean: None) -> Iterator[Workers]:
    """Workers that give up on a reply after 1 s: the sandbox's hung replies become outcome-unknown."""
    running = Workers(
        environment_for_workers(sandbox, HUB_NETWORK_TIMEOUT_S="1", HUB_NETWORK_UPLOAD_TIMEOUT_S="1")
    )
    running.start_scheduler()
    yield running
    running.kill_all()
    running.stop_scheduler()
