"""Confirming reported publications through the networks' APIs. A report counts only once
confirmed; until then ``confirmation_error`` says why not, in words an operator can act on.

- VK: ``wall.getById`` on the community (the post's real date, text and media replace the report's);
- OK: the group's newest topics (``mediatopic.getTopics``) must contain the topic;
- Telegram: a bot cannot read channel history, so a Telegram report is confirmed only when the hub's
  bot observes the post (``store_reads`` confirms it then); until then the reason says so.

Each report is checked at most every ``report_confirm_interval_s`` and given up after
``report_confirm_give_up_s`` (its last reason stays)."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.adapters.base import AdapterError, ChannelTarget, ObservedPost
from shared.adapters.observe_ok import read_topics
from shared.adapters.observe_vk import VkWallReader, group_id_of
from shared.adapters.ok import OkAdapter
from shared.crypto import decrypt_secret
from shared.matching import match_publications
from shared.models import Account, Channel, Publication
from shared.models.enums import PublicationSource
from shared.ratelimit import Limit, RateLimiter
from shared.settings import Settings, get_settings

logger = logging.getLogger("scheduler.confirm_reports")
BATCH = 200
OK_SEARCH_TOPICS = 200
TELEGRAM_WAITING = (
    "Telegram bots cannot read a channel's history: the post counts once the hub's bot "
    "sees it, which needs the bot to be an administrator of the channel; not seen yet"
)


@dataclass
class ConfirmResult:
    checked: int = 0
    confirmed: int = 0
    refused: int = 0


async def confirm_reported(
    session: AsyncSession,
    now: datetime,
    *,
    reader: VkWallReader,
    ok: OkAdapter,
    limiter: RateLimiter | None,
    settings: Settings | None = None,
) -> ConfirmResult:
    settings = settings or get_settings()
    result = ConfirmResult()
    due_before = now - timedelta(seconds=settings.report_confirm_interval_s)
    rows = (
        await session.exec(
            select(Publication, Channel, Account)
            .join(Channel, col(Channel.id) == Publication.channel_id)
            .join(Account, col(Account.id) == Channel.account_id, isouter=True)
            .where(
                Publication.source == PublicationSource.reported.value,
                col(Publication.confirmed_at).is_(None),
                col(Publication.reported_at) >= now - timedelta(seconds=settings.report_confirm_give_up_s),
                (col(Publication.confirmation_checked_at).is_(None))
                | (col(Publication.confirmation_checked_at) <= due_before),
            )
            .order_by(col(Publication.confirmation_checked_at).asc().nulls_first(), col(Publication.id))
            .limit(BATCH)
        )
    ).all()
    confirmed_ids: list[int] = []
    for publication, channel, account in rows:
        result.checked += 1
        publication.confirmation_checked_at = now
        try:
            post = await _look_up(publication, channel, account, reader, ok, limiter, settings)
        except AdapterError as error:
            publication.confirmation_error = f"the network refused the check: {error}"
            result.refused += 1
            continue
        if isinstance(post, str):
            publication.confirmation_error = post
            result.refused += 1
            continue
        publication.confirmed_at = now
        publication.confirmation_error = None
        publication.published_at = post.published_at
        publication.text = post.text
        publication.has_photo = post.has_photo
        publication.has_video = post.has_video
        publication.repost_of = post.repost_of
        publication.url = post.url or publication.url
        publication.updated_at = now
        result.confirmed += 1
        assert publication.id is not None
        confirmed_ids.append(publication.id)
    await session.flush()
    await match_publications(session, confirmed_ids, settings=settings)
    return result


async def _look_up(
    publication: Publication,
    channel: Channel,
    account: Account | None,
    reader: VkWallReader,
    ok: OkAdapter,
    limiter: RateLimiter | None,
    settings: Settings,
) -> ObservedPost | str:
    """The post as the network shows it, or the reason it cannot be confirmed."""
    if channel.platform == "telegram":
        return TELEGRAM_WAITING
    credentials = decrypt_secret(account.secret) if account is not None else None
    if channel.platform == "vk":
        token = settings.vk_observe_token or (credentials or {}).get("access_token")
        if not token:
            return "the channel has no account the hub could check the post with"
        if limiter is not None:
            secret = credentials if credentials and not settings.vk_observe_token else {"access_token": token}
            await limiter.acquire(Limit(ChannelTarget("vk", "", secret).token_key, settings.vk_rate_per_s))
        post = await reader.get_post(token, group_id_of(channel.external_id), publication.external_post_id)
        if post is None:
            return (
                f"VK has no post {publication.external_post_id} on this community (deleted, or never there)"
            )
        return post
    if credentials is None:
        return "the channel has no account the hub could check the post with"
    if limiter is not None:
        await limiter.acquire(Limit(ChannelTarget("ok", "", credentials).token_key, settings.ok_rate_per_s))
    topics, _ = await read_topics(ok, credentials, channel.external_id.strip(), OK_SEARCH_TOPICS)
    for topic in topics:
        if topic.external_post_id == publication.external_post_id:
            return topic
    return (
        f"topic {publication.external_post_id} is not among the group's newest {OK_SEARCH_TOPICS} topics "
        "(deleted, or never there)"
    )
