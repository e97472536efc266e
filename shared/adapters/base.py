"""One interface in front of every network, used by the distributor (posting, retracting) and the
scheduler (observing). Adapters never touch the database: they take plain values and return plain
values, and every failure is an ``AdapterError`` saying what the caller should do about it."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class ErrorKind(StrEnum):
    retry = "retry"  # rate limit, flood control, 5xx, network trouble: try again after retry_after
    credentials = "credentials"  # token revoked/expired, admin right removed, bot not in the channel
    content = "content"  # this material cannot be posted here as it is (too long, bad media, bad link…)
    unknown = "unknown"  # the request may or may not have been carried out (timeout after sending)


class AdapterError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.code = code

    def __str__(self) -> str:
        suffix = f" (retry after {self.retry_after:g} s)" if self.retry_after else ""
        code = f"[{self.code}] " if self.code is not None else ""
        return f"{self.kind.value}: {code}{self.message}{suffix}"


@dataclass(frozen=True)
class MediaFile:
    kind: str  # "photo" | "video"
    path: Path
    content_type: str
    sha256: str
    size_bytes: int
    filename: str | None = None


@dataclass(frozen=True)
class PostContent:
    """What to publish. ``guid`` is stable across retries of the same delivery (VK uses it for
    idempotency; the others use ``fingerprint`` to find an earlier attempt's post)."""

    guid: str
    title: str
    body: str
    hashtags: tuple[str, ...] = ()
    link: str | None = None
    media: tuple[MediaFile, ...] = ()

    @property
    def photos(self) -> tuple[MediaFile, ...]:
        return tuple(item for item in self.media if item.kind == "photo")

    @property
    def videos(self) -> tuple[MediaFile, ...]:
        return tuple(item for item in self.media if item.kind == "video")


@dataclass(frozen=True)
class ChannelTarget:
    """The page to post to and the decrypted credentials of its account (never logged)."""

    platform: str
    external_id: str
    credentials: dict[str, str] = field(repr=False)
    url: str | None = None

    @property
    def token_key(self) -> str:
        """A non-secret key identifying the token, for shared rate limits."""
        from shared.crypto import fingerprint

        return f"{self.platform}:{fingerprint(self.credentials)}"


@dataclass(frozen=True)
class PublishedPost:
    external_post_id: str
    url: str | None
    published_at: datetime
    text: str
    has_photo: bool = False
    has_video: bool = False
    # Every network message id that belongs to the post (Telegram: album parts and reply text).
    part_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObservedPost:
    """A post read back from a channel (wall.get, getUpdates, getTopics)."""

    channel_external_id: str
    external_post_id: str
    url: str | None
    published_at: datetime
    text: str
    has_photo: bool
    has_video: bool
    edited: bool = False
    repost_of: str | None = None  # "owner_id_post_id" of the original for VK reposts
    links: tuple[str, ...] = ()


class NetworkAdapter(Protocol):
    platform: str

    async def publish(self, target: ChannelTarget, content: PostContent) -> PublishedPost:
        """Post ``content``; raise AdapterError on failure (kind says what to do)."""

    async def find_published(
        self, target: ChannelTarget, content: PostContent, since: datetime
    ) -> PublishedPost | None:
        """After an outcome-unknown attempt: the post this content already produced, if the network
        can show it. VK returns None (its ``guid`` makes a plain retry safe); Telegram returns None
        (a bot cannot read channel history: the distributor looks among observed publications)."""

    async def retract(
        self, target: ChannelTarget, external_post_id: str, part_ids: tuple[str, ...], replacement_text: str
    ) -> str:
        """Delete a post made from a withdrawn material (all its parts), or edit it to
        ``replacement_text`` where deletion is impossible; return "deleted" or "edited". A post that
        is already gone counts as deleted."""

    async def verify_access(self, target: ChannelTarget) -> None:
        """Check that the credentials still post to this page; AdapterError(credentials) if not."""
