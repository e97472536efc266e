"""The adapters suite: the production adapters pointed at one sandbox subprocess by base URL only
(``HUB_VK_API_URL`` and friends), with a small known world reset before each test."""

from collections.abc import AsyncIterator

import pytest

from sandbox.testing import RunningSandbox
from shared.settings import Settings, get_settings
from tests.adapters.support import WORLD
from tests.hub_on_sandbox import hub_on_sandbox


@pytest.fixture(scope="session")
async def sandbox_process() -> AsyncIterator[RunningSandbox]:
    """One sandbox per run; the settings (and so every adapter) point at it."""
    async with hub_on_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def sandbox(sandbox_process: RunningSandbox) -> AsyncIterator[RunningSandbox]:
    await sandbox_process.acontrol.reset(WORLD)
    yield sandbox_process
    await sandbox_process.acontrol.clear_faults()


@pytest.fixture
def settings(sandbox_process: RunningSandbox) -> Settings:
    return get_settings()
