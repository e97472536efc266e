"""One adapter per network and process, built from settings: ``get_adapter("vk")``.

Adapters hold connection pools (and Telegram bots), so they are shared, never built per post.
``close_adapters()`` releases them at shutdown (and lets tests rebuild them for new settings).
"""

from shared.adapters.base import NetworkAdapter
from shared.adapters.ok import OkAdapter
from shared.adapters.telegram import TelegramAdapter
from shared.adapters.vk import VkAdapter

ADAPTER_CLASSES: dict[str, type[VkAdapter] | type[TelegramAdapter] | type[OkAdapter]] = {
    "vk": VkAdapter,
    "telegram": TelegramAdapter,
    "ok": OkAdapter,
}
_adapters: dict[str, VkAdapter | TelegramAdapter | OkAdapter] = {}


def get_adapter(platform: str) -> NetworkAdapter:
    """The process-wide adapter for ``platform`` ("vk", "telegram" or "ok")."""
    adapter = _adapters.get(platform)
    if adapter is None:
        try:
            adapter_class = ADAPTER_CLASSES[platform]
        except KeyError:
            raise ValueError(f"no adapter for platform {platform!r}") from None
        adapter = _adapters[platform] = adapter_class()
    return adapter


def get_telegram_adapter() -> TelegramAdapter:
    """The Telegram adapter with its extra ``poll_channel_posts`` (for the scheduler's collector)."""
    adapter = get_adapter("telegram")
    assert isinstance(adapter, TelegramAdapter)
    return adapter


async def close_adapters() -> None:
    """Close every adapter's connections; the next ``get_adapter`` builds fresh ones from settings."""
    adapters = list(_adapters.values())
    _adapters.clear()
    for adapter in adapters:
        await adapter.aclose()
