"""Writing what observation saw: one Publication row per (channel, post id), whatever the sources;
new and edited posts are matched to materials; known posts missing from a re-read are deleted."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, literal_column, or_, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.adapters.base import AdapterError, ObservedPost
from shared.matching import MatchResult, match_publications
from shared.models import Channel, ChannelObservation, Notification, Publication
from shared.models.enums import ChannelStatus, PublicationSource
from shared.settings import Settings

CREDENTIALS_TEXT = (
    "Хаб не может прочитать публикации канала «{title}» ({platform}): {reason}. "
    "Пока доступ не восстановлен, публикации канала не учитываются в отчёте. "
    "Обновите токен или права администратора в настройках канала."
)


@dataclass
class ChannelRead:
    """What one channel's read produced: its posts and, when the read covers everything the network
    shows since ``covered_since``, the start of that window (known posts missing from it were deleted)."""

    channel_id: int
    organisation_id: int
    posts: list[ObservedPost] = field(default_factory=list)
    covered_since: datetime | None = None
    read_at: datetime | None = None
    error: AdapterError | None = None


@dataclass
class StoreResult:
    posts: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    matched: MatchResult = field(default_factory=MatchResult)


async def store_reads(
    session: AsyncSession, reads: Sequence[ChannelRead], now: datetime, settings: Settings
) -> StoreResult:
    """Upsert the posts of ``reads``, mark deletions, match new and edited posts; flushes only."""
    result = StoreResult()
    rows = []
    links: dict[tuple[int, str], tuple[str, ...]] = {}
    for read in reads:
        if read.error is not None:
            continue
        for post in {post.external_post_id: post for post in read.posts}.values():
            rows.append(
                {
                    "channel_id": read.channel_id,
                    "organisation_id": read.organisation_id,
                    "external_post_id": post.external_post_id,
                    "url": post.url,
                    "published_at": post.published_at,
                    "text": post.text,
                    "has_photo": post.has_photo,
                    "has_video": post.has_video,
                    "source": PublicationSource.observed.value,
                    "repost_of": post.repost_of,
                    "observed_at": now,
                    "edited_at": now if post.edited else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if post.links:
                links[(read.channel_id, post.external_post_id)] = post.links
    to_match: list[int] = []
    link_map: dict[int, tuple[str, ...]] = {}
    for start in range(0, len(rows), 1000):
        batch = rows[start : start + 1000]
        statement = insert(Publication).values(batch)
        excluded = statement.excluded
        table = Publication.__table__.c  # type: ignore[attr-defined]
        changed = table.text.is_distinct_from(excluded.text)
        statement = statement.on_conflict_do_update(
            index_elements=["channel_id", "external_post_id"],
            set_={
                "text": excluded.text,
                "has_photo": excluded.has_photo,
                "has_video": excluded.has_video,
                "url": func.coalesce(table.url, excluded.url),
                "repost_of": excluded.repost_of,
                "observed_at": excluded.observed_at,
                "deleted_at": None,
                "edited_at": case((changed, excluded.observed_at), else_=table.edited_at),
                # A reported post seen on its channel is confirmed by that; its date is the network's.
                "confirmed_at": case(
                    (
                        table.source == PublicationSource.reported.value,
                        func.coalesce(table.confirmed_at, excluded.observed_at),
                    ),
                    else_=table.confirmed_at,
                ),
                "published_at": case(
                    (table.source == PublicationSource.reported.value, excluded.published_at),
                    else_=table.published_at,
                ),
                "updated_at": excluded.updated_at,
            },
        ).returning(
            table.id,
            table.channel_id,
            table.external_post_id,
            table.material_id,
            literal_column("xmax = 0").label("inserted"),
            table.edited_at,
        )
        for row in (await session.execute(statement)).all():
            result.posts += 1
            if row.inserted:
                result.new += 1
            elif row.edited_at == now:
                result.edited += 1
            if row.material_id is None and (row.inserted or row.edited_at == now):
                to_match.append(row.id)
                if (row.channel_id, row.external_post_id) in links:
                    link_map[row.id] = links[(row.channel_id, row.external_post_id)]
    result.matched = await match_publications(session, to_match, link_map, settings)
    for read in reads:
        if read.error is None and read.covered_since is not None:
            seen = [post.external_post_id for post in read.posts]
            deleted = await session.execute(
                update(Publication)
                .where(
                    col(Publication.channel_id) == read.channel_id,
                    col(Publication.deleted_at).is_(None),
                    col(Publication.published_at) >= read.covered_since,
                    col(Publication.published_at) <= (read.read_at or now),
                    col(Publication.external_post_id).not_in(seen),
                    # Unconfirmed reports are the confirmation job's to judge, not a deletion.
                    or_(
                        col(Publication.source) == PublicationSource.distributor.value,
                        col(Publication.observed_at).is_not(None),
                    ),
                )
                .values(deleted_at=now, updated_at=now)
            )
            result.deleted += deleted.rowcount  # type: ignore[attr-defined]
    await record_observations(session, reads, now)
    return result


async def record_observations(session: AsyncSession, reads: Sequence[ChannelRead], now: datetime) -> None:
    if not reads:
        return
    values = [
        {
            "channel_id": read.channel_id,
            "observed_at": now if read.error is None else None,
            "posts_seen": len(read.posts),
            "last_error": str(read.error) if read.error else None,
            "updated_at": now,
        }
        for read in reads
    ]
    statement = insert(ChannelObservation).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel_id"],
            set_={
                "observed_at": func.coalesce(statement.excluded.observed_at, ChannelObservation.observed_at),
                "posts_seen": statement.excluded.posts_seen,
                "last_error": statement.excluded.last_error,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


async def mark_credentials_invalid(
    session: AsyncSession, channel: Channel, error: AdapterError, now: datetime
) -> bool:
    """The channel's own token cannot read it any more: the channel is marked (as the distributor
    does) and its responsible people get a notification record. False if it was already marked."""
    reason = error.message[:500]
    changed = await session.execute(
        update(Channel)
        .where(and_(col(Channel.id) == channel.id, col(Channel.status) == ChannelStatus.active.value))
        .values(
            status=ChannelStatus.credentials_invalid.value,
            status_reason=reason,
            status_changed_at=now,
            updated_at=now,
        )
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    people = (
        await session.execute(
            text("SELECT id, channel_id FROM responsible_person WHERE organisation_id = :organisation"),
            {"organisation": channel.organisation_id},
        )
    ).all()
    targeted = [p.id for p in people if p.channel_id == channel.id] or [
        p.id for p in people if p.channel_id is None
    ]
    body = CREDENTIALS_TEXT.format(
        title=channel.title or channel.url, platform=channel.platform, reason=reason
    )
    rows = [
        {
            "organisation_id": channel.organisation_id,
            "channel_id": channel.id,
            "person_id": person_id,
            "kind": "channel_credentials_invalid",
            "subject": "Канал недоступен",
            "text": body,
            "status": "pending",
            "created_at": now,
            "dedupe_key": f"credentials:{channel.id}:{person_id or '-'}:{now.isoformat()}",
        }
        for person_id in (targeted or [None])
    ]
    await session.execute(insert(Notification).values(rows).on_conflict_do_nothing())
    return True
