"""Reading a post's address: which network, which channel it names, and the network's post id
(the same ids the distributor and the observers record)."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from shared.models.enums import Platform

VK_HOSTS = {"vk.com", "vk.ru", "m.vk.com", "m.vk.ru", "www.vk.com", "www.vk.ru"}
TELEGRAM_HOSTS = {"t.me", "www.t.me", "telegram.me", "www.telegram.me"}
OK_HOSTS = {"ok.ru", "www.ok.ru", "m.ok.ru"}
VK_WALL = re.compile(r"wall(-?\d+)_(\d+)")
TELEGRAM_PRIVATE = re.compile(r"^/c/(\d+)/(\d+)/?$")
TELEGRAM_PUBLIC = re.compile(r"^/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/(\d+)/?$")
OK_GROUP_TOPIC = re.compile(r"^/group/(\d+)/topic/(\d+)/?$")
OK_NAMED_TOPIC = re.compile(r"^/([A-Za-z0-9._-]+)/topic/(\d+)/?$")


@dataclass(frozen=True)
class PostAddress:
    platform: Platform
    post_id: str
    # What the URL says about the channel: network ids it may have, or the public name in its URL.
    channel_ids: tuple[str, ...] = ()
    channel_name: str | None = None


def parse_post_url(url: str) -> PostAddress:
    """The post a URL points at; ValueError (with a message for people) when it is not a post URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in VK_HOSTS:
        candidates = [parts.path, *parse_qs(parts.query).get("w", [])]
        for candidate in candidates:
            match = VK_WALL.search(candidate)
            if match:
                owner = match.group(1)
                group = owner.lstrip("-")
                return PostAddress(Platform.vk, match.group(2), channel_ids=(group, f"-{group}"))
        raise ValueError("a VK post URL looks like https://vk.com/wall-<group>_<post>")
    if host in TELEGRAM_HOSTS:
        match = TELEGRAM_PRIVATE.match(parts.path)
        if match:
            internal = match.group(1)
            return PostAddress(Platform.telegram, match.group(2), channel_ids=(f"-100{internal}", internal))
        match = TELEGRAM_PUBLIC.match(parts.path)
        if match:
            name = match.group(1)
            return PostAddress(
                Platform.telegram, match.group(2), channel_ids=(f"@{name}",), channel_name=name
            )
        raise ValueError("a Telegram post URL looks like https://t.me/<channel>/<message id>")
    if host in OK_HOSTS:
        match = OK_GROUP_TOPIC.match(parts.path)
        if match:
            return PostAddress(Platform.ok, match.group(2), channel_ids=(match.group(1),))
        match = OK_NAMED_TOPIC.match(parts.path)
        if match:
            return PostAddress(Platform.ok, match.group(2), channel_name=match.group(1))
        raise ValueError("an OK post URL looks like https://ok.ru/group/<group>/topic/<topic>")
    raise ValueError(f"'{host}' is not VK, Odnoklassniki or Telegram")


def channel_path_name(channel_url: str) -> str | None:
    """The public name in a channel's URL (``https://t.me/obninsk_adm`` → ``obninsk_adm``)."""
    path = urlsplit(channel_url).path.strip("/")
    if not path or "/" in path:
        return None
    return path.lower()
