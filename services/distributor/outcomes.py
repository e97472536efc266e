"""Recording what happened to a delivery: each outcome is one transaction, guarded by the lease
(a worker whose lease was taken over cannot overwrite the new owner's work)."""

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.adapters.base import AdapterError, ErrorKind
from shared.logs import log_event
from shared.models import Channel, Delivery, Notification, Publication, ResponsiblePerson
from shared.models.enums import ChannelStatus, DeliveryStatus
from shared.settings import Settings

logger = logging.getLogger("distributor")


def _owned(delivery_id: int, worker: str):  # type: ignore[no-untyped-def]
    return update(Delivery).where(col(Delivery.id) == delivery_id, col(Delivery.lease_owner) == worker)


def backoff_seconds(settings: Settings, attempts: int, retry_after: float | None) -> float:
    exponential = min(
        settings.retry_backoff_max_s, settings.retry_backoff_base_s * math.pow(2, max(attempts - 1, 0))
    )
    return max(exponential, retry_after or 0.0)


async def record_retry(
    session: AsyncSession,
    *,
    delivery_id: int,
    worker: str,
    error: AdapterError | str,
    kind: str,
    delay_s: float,
    now: datetime,
    unknown_since: datetime | None = None,
    refund_attempt: bool = False,
) -> None:
    values: dict[str, object] = {
        "status": DeliveryStatus.scheduled.value,
        "next_attempt_at": now + timedelta(seconds=delay_s),
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": str(error)[:2000],
        "last_error_kind": kind,
        "updated_at": now,
    }
    if unknown_since is not None:
        values["unknown_since"] = unknown_since
    if refund_attempt:
        values["attempts"] = Delivery.attempts - 1
    await session.execute(
        _owned(delivery_id, worker)
        .where(col(Delivery.status) == DeliveryStatus.sending.value)
        .values(**values)
    )
    await session.commit()


async def record_failed(
    session: AsyncSession, *, delivery_id: int, worker: str, reason: str, kind: str, now: datetime
) -> None:
    await session.execute(
        _owned(delivery_id, worker).values(
            status=DeliveryStatus.failed.value,
            lease_owner=None,
            lease_expires_at=None,
            last_error=reason[:2000],
            last_error_kind=kind,
            updated_at=now,
        )
    )
    await session.commit()


async def record_cancelled(
    session: AsyncSession, *, delivery_id: int, worker: str, reason: str, now: datetime
) -> None:
    await session.execute(
        _owned(delivery_id, worker).values(
            status=DeliveryStatus.cancelled.value,
            lease_owner=None,
            lease_expires_at=None,
            last_error=reason,
            last_error_kind=None,
            updated_at=now,
        )
    )
    await session.commit()


async def record_retracted(
    session: AsyncSession,
    *,
    delivery_id: int,
    worker: str,
    channel_id: int,
    external_post_id: str | None,
    result: str,
    now: datetime,
    part_ids: tuple[str, ...] = (),
) -> None:
    """The post is gone (or edited): the delivery is retracted and its publications, every part of
    a Telegram album or split text included, stop counting."""
    post_ids = sorted({external_post_id, *part_ids} - {None})
    await session.execute(
        _owned(delivery_id, worker).values(
            status=DeliveryStatus.retracted.value,
            retracted_at=now,
            retract_result=result,
            lease_owner=None,
            lease_expires_at=None,
            last_error=None,
            last_error_kind=None,
            updated_at=now,
        )
    )
    if post_ids and result == "deleted":
        await session.execute(
            update(Publication)
            .where(
                col(Publication.channel_id) == channel_id,
                col(Publication.external_post_id).in_(post_ids),
                col(Publication.deleted_at).is_(None),
            )
            .values(deleted_at=now, updated_at=now)
        )
    elif post_ids:
        await session.execute(
            update(Publication)
            .where(
                col(Publication.channel_id) == channel_id,
                col(Publication.external_post_id).in_(post_ids),
            )
            .values(edited_at=now, material_id=None, match_method=None, updated_at=now)
        )
    await session.commit()


async def release_retract(
    session: AsyncSession,
    *,
    delivery_id: int,
    worker: str,
    error: str,
    kind: str,
    delay_s: float,
    now: datetime,
    give_up: bool,
) -> None:
    await session.execute(
        _owned(delivery_id, worker).values(
            status=DeliveryStatus.failed.value if give_up else DeliveryStatus.retracting.value,
            next_attempt_at=now + timedelta(seconds=delay_s),
            lease_owner=None,
            lease_expires_at=None,
            last_error=error[:2000],
            last_error_kind=kind,
            updated_at=now,
        )
    )
    await session.commit()


CREDENTIALS_TEXT = (
    "Канал «{title}» ({platform}) организации больше не принимает публикации: {reason}. "
    "Публикации в этот канал приостановлены и будут отправлены, когда доступ восстановят. "
    "Проверьте права администратора или обновите ключ доступа в региональном контент-хабе."
)


async def mark_channel_credentials_invalid(
    session: AsyncSession,
    *,
    delivery_id: int,
    worker: str,
    channel: Channel,
    error: AdapterError,
    now: datetime,
    keep_status: str | None = None,
) -> None:
    """The token or admin right is gone: the channel stops (its deliveries wait, not fail), its
    responsible people get a notification record, and nothing else is affected."""
    reason = error.message[:500]
    changed = await session.execute(
        update(Channel)
        .where(
            col(Channel.id) == channel.id,
            col(Channel.status) == ChannelStatus.active.value,
        )
        .values(
            status=ChannelStatus.credentials_invalid.value,
            status_reason=reason,
            status_changed_at=now,
            updated_at=now,
        )
    )
    await session.execute(
        _owned(delivery_id, worker).values(
            status=keep_status or DeliveryStatus.scheduled.value,
            next_attempt_at=now,
            attempts=Delivery.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
            last_error=str(error)[:2000],
            last_error_kind=ErrorKind.credentials.value,
            updated_at=now,
        )
    )
    if changed.rowcount:  # type: ignore[attr-defined]
        people = (
            await session.exec(
                select(ResponsiblePerson).where(ResponsiblePerson.organisation_id == channel.organisation_id)
            )
        ).all()
        targeted = [p for p in people if p.channel_id == channel.id] or [
            p for p in people if p.channel_id is None
        ]
        text = CREDENTIALS_TEXT.format(
            title=channel.title or channel.url, platform=channel.platform, reason=reason
        )
        rows = [
            {
                "organisation_id": channel.organisation_id,
                "channel_id": channel.id,
                "person_id": person.id,
                "kind": "channel_credentials_invalid",
                "subject": "Канал недоступен для публикаций",
                "text": text,
                "status": "pending",
                "created_at": now,
                "dedupe_key": f"credentials:{channel.id}:{person.id}:{now.isoformat()}",
            }
            for person in targeted
        ]
        if not rows:  # nobody listed: still record it for the organisation
            rows = [
                {
                    "organisation_id": channel.organisation_id,
                    "channel_id": channel.id,
                    "person_id": None,
                    "kind": "channel_credentials_invalid",
                    "subject": "Канал недоступен для публикаций",
                    "text": text,
                    "status": "pending",
                    "created_at": now,
                    "dedupe_key": f"credentials:{channel.id}:-:{now.isoformat()}",
                }
            ]
        await session.execute(insert(Notification).values(rows).on_conflict_do_nothing())
        log_event(
            logger,
            "channel_credentials_invalid",
            logging.WARNING,
            channel_id=channel.id,
            platform=channel.platform,
            reason=reason,
        )
    await session.commit()
