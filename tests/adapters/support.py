"""The adapters suite's world and small factories (content, media files, channel targets)."""

import hashlib
from pathlib import Path
from typing import Any

from shared.adapters.base import ChannelTarget, MediaFile, PostContent
from shared.settings import Settings

VK_ADMIN, VK_OUTSIDER = 100001, 100003
VK_GROUP = 200001
VK_TOKEN, VK_OUTSIDER_TOKEN, VK_GROUP_TOKEN = (
    "vk-user-admin-token",
    "vk-user-outsider-token",
    "vk-group-token",
)

BOT_TOKEN = "7000000001:AAadapter-bot-test-token-000000001"
COLLECTOR_TOKEN = "7000000002:AAadapter-collector-token-00000002"
CHANNEL, PRIVATE_CHANNEL = -1001000000001, -1001000000002
TG_EDITOR = 500001

OK_APP_KEY, OK_SECRET = "CADAPTERAPPKEY", "ADAPTERSECRET0000000000000000000"
OK_ADMIN, OK_OUTSIDER = "570000000001", "570000000002"
OK_TOKEN, OK_OUTSIDER_TOKEN = "ok-token-admin", "ok-token-outsider"
OK_GROUP = "70000000000001"

WORLD: dict[str, Any] = {
    "vk": {
        "users": [{"id": VK_ADMIN}, {"id": VK_OUTSIDER}],
        "groups": [{"id": VK_GROUP, "name": "City", "screen_name": "city", "admins": [VK_ADMIN]}],
        "tokens": [
            {"token": VK_TOKEN, "type": "user", "user_id": VK_ADMIN},
            {"token": VK_OUTSIDER_TOKEN, "type": "user", "user_id": VK_OUTSIDER},
            {"token": VK_GROUP_TOKEN, "type": "group", "group_id": VK_GROUP},
        ],
    },
    "telegram": {
        "bots": [{"token": BOT_TOKEN, "username": "city_bot"}, {"token": COLLECTOR_TOKEN}],
        "users": [{"id": TG_EDITOR, "first_name": "Irina"}],
        "channels": [
            {
                "id": CHANNEL,
                "title": "City",
                "username": "city",
                "admin_bots": [BOT_TOKEN, COLLECTOR_TOKEN],
                "admin_users": [TG_EDITOR],
            },
            {"id": PRIVATE_CHANNEL, "title": "School", "admin_bots": [BOT_TOKEN]},
        ],
    },
    "ok": {
        "apps": [{"application_key": OK_APP_KEY, "secret_key": OK_SECRET}],
        "users": [
            {"uid": OK_ADMIN, "name": "Irina Volkova", "access_token": OK_TOKEN},
            {"uid": OK_OUTSIDER, "name": "Pavel Sokolov", "access_token": OK_OUTSIDER_TOKEN},
        ],
        "groups": [{"gid": OK_GROUP, "name": "City", "admins": [OK_ADMIN]}],
    },
}


def quick_timeout(settings: Settings) -> Settings:
    """Settings whose read timeout is short, for the outcome-unknown tests (the sandbox hangs longer)."""
    return settings.model_copy(update={"network_timeout_s": 0.5})


def media_file(directory: Path, kind: str, seed: str, size: int = 2048) -> MediaFile:
    suffix, content_type = (".jpg", "image/jpeg") if kind == "photo" else (".mp4", "video/mp4")
    data = (b"\xff\xd8\xff\xe0" if kind == "photo" else b"\x00\x00\x00\x18ftypmp42") + hashlib.sha512(
        seed.encode()
    ).digest() * (size // 64)
    path = directory / f"{seed}{suffix}"
    path.write_bytes(data)
    return MediaFile(kind, path, content_type, hashlib.sha256(data).hexdigest(), len(data), path.name)


def content(
    guid: str = "delivery-1",
    *,
    title: str = "Новости города",
    body: str = "Открыт новый парк.",
    hashtags: tuple[str, ...] = ("Обнинск", "#парки"),
    link: str | None = "https://region.example/news/1",
    media: tuple[MediaFile, ...] = (),
) -> PostContent:
    return PostContent(guid=guid, title=title, body=body, hashtags=hashtags, link=link, media=media)


def vk_target(token: str = VK_TOKEN, group: int = VK_GROUP) -> ChannelTarget:
    return ChannelTarget("vk", str(group), {"access_token": token})


def tg_target(token: str = BOT_TOKEN, chat: int | str = CHANNEL) -> ChannelTarget:
    return ChannelTarget("telegram", str(chat), {"bot_token": token})


def ok_target(token: str = OK_TOKEN, secret: str = OK_SECRET, gid: str = OK_GROUP) -> ChannelTarget:
    return ChannelTarget(
        "ok", gid, {"access_token": token, "application_key": OK_APP_KEY, "application_secret_key": secret}
    )
