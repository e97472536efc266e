"""Point this process's hub (settings and network adapters) at a sandbox subprocess, by base URL only."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sandbox.testing import RunningSandbox, running_sandbox
from shared.adapters.registry import close_adapters
from shared.settings import get_settings


@asynccontextmanager
async def hub_on_sandbox() -> AsyncIterator[RunningSandbox]:
    """One sandbox subprocess; ``HUB_*_URL`` point at it while the context lasts. Adapters are rebuilt
    on the way in and out, so no other suite inherits clients aimed at it."""
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
