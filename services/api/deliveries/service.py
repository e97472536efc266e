from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.deliveries.schemas import DeliveryPublic, DistributionSummary, NetworkSummary
from services.api.deps import Principal
from services.api.errors import Conflict, not_found
from services.api.pagination import PageParams, paginate
from shared.models import Channel, Delivery
from shared.models.base import utcnow
from shared.models.enums import ChannelStatus, DeliveryStatus

WAITING = "waiting_credentials"


def to_public(delivery: Delivery, channel: Channel) -> DeliveryPublic:
    waiting = delivery.status in (DeliveryStatus.scheduled.value, DeliveryStatus.retracting.value) and (
        channel.status == ChannelStatus.credentials_invalid.value
    )
    return DeliveryPublic.model_validate(
        {**delivery.model_dump(), "platform": channel.platform, "waiting_for_credentials": waiting}
    )


async def list_deliveries(
    session: AsyncSession, principal: Principal, page: PageParams, **filters: Any
) -> tuple[list[DeliveryPublic], int]:
    query = (
        select(Delivery, Channel)
        .join(Channel, col(Channel.id) == Delivery.channel_id)
        .order_by(col(Delivery.due_at), col(Delivery.id))
    )
    if principal.is_operator:
        query = query.where(Delivery.organisation_id == principal.organisation_id)
    for field in ("material_id", "channel_id", "organisation_id", "week"):
        if filters.get(field) is not None:
            query = query.where(getattr(Delivery, field) == filters[field])
    status = filters.get("status")
    if status == WAITING:
        query = query.where(
            Channel.status == ChannelStatus.credentials_invalid.value,
            col(Delivery.status).in_([DeliveryStatus.scheduled.value, DeliveryStatus.retracting.value]),
        )
    elif status is not None:
        query = query.where(Delivery.status == status)
    rows, total = await paginate(session, query, page)  # type: ignore[arg-type]
    return [to_public(delivery, channel) for delivery, channel in rows], total


async def get_delivery(session: AsyncSession, principal: Principal, delivery_id: int) -> DeliveryPublic:
    row = (
        await session.exec(
            select(Delivery, Channel)
            .join(Channel, col(Channel.id) == Delivery.channel_id)
            .where(Delivery.id == delivery_id)
        )
    ).first()
    if row is None:
        raise not_found("Delivery", delivery_id)
    principal.ensure_organisation(row[0].organisation_id)
    return to_public(*row)


async def retry_delivery(session: AsyncSession, principal: Principal, delivery_id: int) -> DeliveryPublic:
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise not_found("Delivery", delivery_id)
    if delivery.status != DeliveryStatus.failed.value:
        raise Conflict(f"only a failed delivery can be retried; this one is {delivery.status}")
    now = utcnow()
    previous_error = delivery.last_error
    delivery.status = (
        DeliveryStatus.scheduled.value if delivery.sent_at is None else DeliveryStatus.retracting.value
    )
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.updated_at = now
    await session.flush()
    audit.record(
        session,
        principal,
        "delivery.retry",
        "delivery",
        delivery_id,
        organisation_id=delivery.organisation_id,
        changes={"previous_error": previous_error},
    )
    channel = await session.get(Channel, delivery.channel_id)
    assert channel is not None
    return to_public(delivery, channel)


async def week_summary(session: AsyncSession, principal: Principal, week: str) -> DistributionSummary:
    waiting = (col(Channel.status) == ChannelStatus.credentials_invalid.value) & col(Delivery.status).in_(
        [DeliveryStatus.scheduled.value, DeliveryStatus.retracting.value]
    )
    bucket = case(
        (waiting, WAITING),
        (col(Delivery.status) == DeliveryStatus.scheduled.value, "planned"),
        (col(Delivery.status) == DeliveryStatus.retracting.value, "sent"),
        else_=Delivery.status,
    )
    query = (
        select(Channel.platform, bucket, func.count())
        .select_from(Delivery)
        .join(Channel, col(Channel.id) == Delivery.channel_id)
        .where(Delivery.week == week)
        .group_by(Channel.platform, bucket)
    )
    if principal.is_operator:
        query = query.where(Delivery.organisation_id == principal.organisation_id)
    total = NetworkSummary()
    by_network: dict[str, NetworkSummary] = {}
    for platform, name, count in (await session.exec(query)).all():  # type: ignore[call-overload]
        summary = by_network.setdefault(platform, NetworkSummary())
        setattr(summary, name, getattr(summary, name) + count)
        setattr(total, name, getattr(total, name) + count)
    return DistributionSummary(week=week, total=total, by_network=by_network)
