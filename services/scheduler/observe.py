"""Observation jobs: read back what every channel really published.

- VK: walls through ``execute`` (25 ``wall.get`` per request), grouped by the token that reads
  them, each request paced by the same per-token Redis limiter the distributor posts through.
- OK: ``mediatopic.getTopics`` per group, paced the same way.
- Telegram: ``getUpdates`` per bot account from the persisted offset. The offset is stored in the
  same transaction as the posts the updates carried, so an update is confirmed to Telegram (by
  passing the next offset) only after its rows are committed: nothing is lost if we crash between.

Network reads run concurrently (``observe_concurrency`` tokens at once); writes go through the one
session in the order reads finish, committed per batch."""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.observation_store import (
    ChannelRead,
    StoreResult,
    mark_credentials_invalid,
    store_reads,
)
from shared.adapters.base import AdapterError, ChannelTarget, ErrorKind
from shared.adapters.observe_ok import read_topics
from shared.adapters.observe_vk import MAX_EXECUTE_CALLS, VkWallReader, group_id_of
from shared.adapters.ok import OkAdapter
from shared.adapters.telegram import TelegramAdapter
from shared.crypto import decrypt_secret
from shared.logs import log_event
from shared.models import Account, Channel, TelegramPollState
from shared.models.enums import ChannelStatus
from shared.ratelimit import Limit, RateLimiter
from shared.settings import Settings, get_settings

logger = logging.getLogger("scheduler.observe")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TELEGRAM_MAX_POLLS = 50


@dataclass
class ObserveResult:
    channels: int = 0
    requests: int = 0
    posts: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    matched: int = 0
    errors: int = 0
    by_method: dict[str, int] = field(default_factory=dict)

    def add(self, stored: StoreResult) -> None:
        self.posts += stored.posts
        self.new += stored.new
        self.edited += stored.edited
        self.deleted += stored.deleted
        for method, count in vars(stored.matched).items():
            if count:
                self.by_method[method] = self.by_method.get(method, 0) + count
                self.matched += count


async def _channels(session: AsyncSession, platform: str) -> list[tuple[Channel, Account | None]]:
    rows = (
        await session.exec(
            select(Channel, Account)
            .join(Account, col(Account.id) == Channel.account_id, isouter=True)
            .where(Channel.platform == platform, Channel.status == ChannelStatus.active.value)
            .order_by(col(Channel.id))
        )
    ).all()
    return [(channel, account) for channel, account in rows]


async def _paced(limiter: RateLimiter | None, limit: Limit) -> None:
    if limiter is not None:
        await limiter.acquire(limit)


# A token's reader: reads its channels in order and hands each batch of reads to ``put``.
Put = Callable[[list[ChannelRead]], Awaitable[None]]
TokenReader = Callable[[Put], Awaitable[None]]


async def _run_groups(
    session: AsyncSession,
    groups: list[TokenReader],
    channels: dict[int, Channel],
    now: datetime,
    settings: Settings,
    result: ObserveResult,
    *,
    own_token: set[int],
) -> None:
    """Run the tokens' readers concurrently (bounded); store each batch of reads as it arrives."""
    semaphore = asyncio.Semaphore(max(settings.observe_concurrency, 1))
    queue: asyncio.Queue[list[ChannelRead] | None] = asyncio.Queue()

    async def run(group: TokenReader) -> None:
        async with semaphore:
            await group(queue.put)

    async def producer() -> None:
        try:
            await asyncio.gather(*(run(group) for group in groups))
        finally:
            await queue.put(None)

    task = asyncio.create_task(producer())
    try:
        while (reads := await queue.get()) is not None:
            result.channels += len(reads)
            for read in reads:
                if read.error is not None:
                    result.errors += 1
                    if read.error.kind is ErrorKind.credentials and read.channel_id in own_token:
                        await mark_credentials_invalid(session, channels[read.channel_id], read.error, now)
            result.add(await store_reads(session, reads, now, settings))
            await session.commit()
    except BaseException:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    await task


async def observe_vk(
    session: AsyncSession,
    now: datetime,
    *,
    limiter: RateLimiter | None,
    reader: VkWallReader,
    settings: Settings | None = None,
) -> ObserveResult:
    """Read every active VK community's newest posts; returns requests made and what changed."""
    settings = settings or get_settings()
    result = ObserveResult()
    by_token: dict[str, list[Channel]] = defaultdict(list)
    credentials: dict[str, dict[str, str]] = {}
    channels: dict[int, Channel] = {}
    own_token: set[int] = set()
    for channel, account in await _channels(session, "vk"):
        assert channel.id is not None
        channels[channel.id] = channel
        token = settings.vk_observe_token
        if token is None:
            if account is None:
                continue
            secret = decrypt_secret(account.secret)
            token = secret.get("access_token", "")
            credentials[token] = secret
            own_token.add(channel.id)
        by_token[token].append(channel)

    def reader_for(token: str, members: list[Channel]) -> TokenReader:
        # The distributor's key for the same token: posting and reading share its budget.
        secret = credentials.get(token, {"access_token": token})
        limit = Limit(ChannelTarget("vk", "", secret).token_key, settings.vk_rate_per_s)

        async def read_all(put: Put) -> None:
            for start in range(0, len(members), MAX_EXECUTE_CALLS):
                chunk = members[start : start + MAX_EXECUTE_CALLS]
                await put(await _read_vk_chunk(reader, limiter, limit, token, chunk, settings, result))

        return read_all

    await _run_groups(
        session,
        [reader_for(token, members) for token, members in by_token.items()],
        channels,
        now,
        settings,
        result,
        own_token=own_token,
    )
    return result


async def _read_vk_chunk(
    reader: VkWallReader,
    limiter: RateLimiter | None,
    limit: Limit,
    token: str,
    chunk: list[Channel],
    settings: Settings,
    result: ObserveResult,
) -> list[ChannelRead]:
    groups = {group_id_of(channel.external_id): channel for channel in chunk}
    for attempt in range(3):
        await _paced(limiter, limit)
        read_at = datetime.now(UTC)
        result.requests += 1
        try:
            walls = await reader.read_walls(token, list(groups), settings.vk_observe_posts)
            break
        except AdapterError as error:
            if error.kind is ErrorKind.retry and attempt < 2:
                if limiter is not None:
                    await limiter.push_back(limit, error.retry_after or 1.0)
                continue
            return [
                ChannelRead(channel.id, channel.organisation_id, error=error)  # type: ignore[arg-type]
                for channel in chunk
            ]
    reads = []
    for wall in walls:
        channel = groups[wall.group_id]
        covered = None
        if wall.error is None:
            covered = (
                EPOCH
                if wall.total <= len(wall.posts)
                else min((post.published_at for post in wall.posts), default=None)
            )
        reads.append(
            ChannelRead(
                channel.id,
                channel.organisation_id,
                wall.posts,  # type: ignore[arg-type]
                covered_since=covered,
                read_at=read_at,
                error=wall.error,
            )
        )
    return reads


async def observe_ok(
    session: AsyncSession,
    now: datetime,
    *,
    limiter: RateLimiter | None,
    adapter: OkAdapter,
    settings: Settings | None = None,
) -> ObserveResult:
    """Read every active OK group's newest topics through its account."""
    settings = settings or get_settings()
    result = ObserveResult()
    by_token: dict[str, list[tuple[Channel, dict[str, str]]]] = defaultdict(list)
    channels: dict[int, Channel] = {}
    for channel, account in await _channels(session, "ok"):
        if account is None:
            continue
        assert channel.id is not None
        channels[channel.id] = channel
        credentials = decrypt_secret(account.secret)
        by_token[credentials.get("access_token", "")].append((channel, credentials))

    def reader_for(members: list[tuple[Channel, dict[str, str]]]) -> TokenReader:
        limit = Limit(ChannelTarget("ok", "", members[0][1]).token_key, settings.ok_rate_per_s)

        async def read_all(put: Put) -> None:
            for channel, credentials in members:
                await _paced(limiter, limit)
                result.requests += 1
                read_at = datetime.now(UTC)
                try:
                    posts, complete = await read_topics(
                        adapter, credentials, channel.external_id.strip(), settings.ok_observe_topics
                    )
                except AdapterError as error:
                    read = ChannelRead(channel.id, channel.organisation_id, error=error)  # type: ignore[arg-type]
                else:
                    covered = EPOCH if complete else min((post.published_at for post in posts), default=None)
                    read = ChannelRead(
                        channel.id,
                        channel.organisation_id,
                        posts,  # type: ignore[arg-type]
                        covered_since=covered,
                        read_at=read_at,
                    )
                await put([read])

        return read_all

    await _run_groups(
        session,
        [reader_for(members) for members in by_token.values()],
        channels,
        now,
        settings,
        result,
        own_token=set(channels),
    )
    return result


def _telegram_keys(channel: Channel) -> set[str]:
    keys = {channel.external_id.strip().lower().lstrip("@")}
    tail = urlsplit(channel.url).path.strip("/").split("/")
    if tail and tail[0] and tail[0] != "c":
        keys.add(tail[0].lower())
    return keys


def _post_keys(chat_id: str, url: str | None) -> set[str]:
    keys = {chat_id}
    if url:
        segments = urlsplit(url).path.strip("/").split("/")
        if len(segments) == 2:
            keys.add(segments[0].lower())
    return keys


async def poll_telegram(
    session: AsyncSession, now: datetime, *, adapter: TelegramAdapter, settings: Settings | None = None
) -> ObserveResult:
    """One ``getUpdates`` per Telegram bot account; offsets persisted with the rows. Posts in chats
    that are not our channels are skipped (their updates still confirmed).

    Every bot is polled, not only the ones channels post with: a bot never receives its own posts,
    so a second, *observer* bot (an account linked to no channel, made admin of the channels) is what
    sees the posting bot's messages, and what the distributor's outcome-unknown lookup relies on."""
    settings = settings or get_settings()
    result = ObserveResult()
    members = [channel for channel, _ in await _channels(session, "telegram")]
    accounts = (
        await session.exec(select(Account).where(Account.platform == "telegram").order_by(col(Account.id)))
    ).all()
    by_account: dict[int, tuple[Account, list[Channel]]] = {
        account.id: (account, members) for account in accounts if account.id is not None
    }
    if not members:
        return result
    for account_id, (account, members) in by_account.items():
        state = await session.get(TelegramPollState, account_id, with_for_update=True)
        if state is None:
            state = TelegramPollState(account_id=account_id, update_offset=0)
            session.add(state)
            await session.flush()
        keyed: dict[str, Channel] = {}
        for channel in members:
            for key in _telegram_keys(channel):
                keyed[key] = channel
        # getUpdates returns at most 100 updates: drain the backlog, one committed batch at a time.
        for _ in range(TELEGRAM_MAX_POLLS):
            result.requests += 1
            try:
                posts, next_offset = await adapter.poll_channel_posts(
                    decrypt_secret(account.secret),
                    state.update_offset or None,
                    settings.telegram_poll_timeout_s,
                )
            except AdapterError as error:
                state.last_error = str(error)
                result.errors += 1
                await session.commit()
                log_event(
                    logger,
                    "telegram_poll_failed",
                    logging.WARNING,
                    account_id=account_id,
                    kind=error.kind.value,
                )
                break
            reads: dict[int, ChannelRead] = {}
            for post in posts:
                channel = next(
                    (keyed[key] for key in _post_keys(post.channel_external_id, post.url) if key in keyed),
                    None,
                )
                if channel is None or channel.id is None:
                    continue
                reads.setdefault(channel.id, ChannelRead(channel.id, channel.organisation_id)).posts.append(
                    post
                )
            result.channels += len(reads)
            result.add(await store_reads(session, list(reads.values()), now, settings))
            advanced = next_offset is not None and next_offset != state.update_offset
            state.update_offset = next_offset or state.update_offset
            state.last_error = None
            state.updated_at = now
            await session.commit()  # the rows and the offset together
            if not advanced:
                break
    return result
