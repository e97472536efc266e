"""The compliance suite's sandbox: one subprocess per run; settings and adapters point at it."""

from collections.abc import AsyncIterator

import pytest

from sandbox.testing import RunningSandbox
from tests.hub_on_sandbox import hub_on_sandbox


@pytest.fixture(scope="session")
async def sandbox_process() -> AsyncIterator[RunningSandbox]:
    async with hub_on_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def sandbox(sandbox_process: RunningSandbox) -> AsyncIterator[RunningSandbox]:
    await sandbox_process.acontrol.reset()
    yield sandbox_process
    await sandbox_process.acontrol.clear_faults()
