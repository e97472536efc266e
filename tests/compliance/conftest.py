"""The compliance suite's sandbox: one subprocess per run; settings and adapters point at it."""

import os
from collections.abc import AsyncIterator

import pytest

from sandbox.testing import RunningSandbox, running_sandbox
from shared.adapters.registry import close_adapters
from shared.settings import get_settings


@pytest.fixture(scope="session")
async def sandbox_process() -> AsyncIterator[RunningSandbox]:
    with running_sandbox() as sandbox:
        names = {
            "HUB_VK_API_URL": sandbox.vk_url,
            "HUB_TELEGRAM_API_URL": sandbox.telegram_url,
            "HUB_TELEGRAM_FILE_URL": sandbox.telegram_file_url,
            "HUB_OK_API_URL": sandbox.ok_url,
        }
        saved = {name: os.environ.get(name) for name in names}
        os.environ.update(names)
        get_settings.cache_clear()
        await close_adapters()
        try:
            yield sandbox
        finally:
            await close_adapters()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            get_settings.cache_clear()


@pytest.fixture
async def sandbox(sandbox_process: RunningSandbox) -> AsyncIterator[RunningSandbox]:
    await sandbox_process.acontrol.reset()
    yield sandbox_process
    await sandbox_process.acontrol.clear_faults()
