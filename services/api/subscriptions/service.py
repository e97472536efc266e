from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.crud import apply_update, delete_owned, get_owned_or_404
from services.api.deps import Principal
from services.api.errors import InvalidField
from services.api.pagination import PageParams, paginate
from services.api.subscriptions.schemas import SubscriptionCreate, SubscriptionUpdate
from shared.models import Channel, Organisation, Subscription
from shared.models.base import utcnow
from shared.models.enums import SubscriptionMode


async def _check_channels(session: AsyncSession, organisation_id: int, channel_ids: list[int]) -> None:
    if not channel_ids:
        return
    if len(set(channel_ids)) != len(channel_ids):
        raise InvalidField("body.channel_ids", "each channel at most once")
    owned = set(
        (
            await session.exec(
                select(Channel.id).where(
                    col(Channel.id).in_(channel_ids), Channel.organisation_id == organisation_id
                )
            )
        ).all()
    )
    foreign = [channel_id for channel_id in channel_ids if channel_id not in owned]
    if foreign:
        raise InvalidField(
            "body.channel_ids",
            f"not channels of organisation {organisation_id}: {', '.join(map(str, foreign))}",
        )


async def create_subscription(
    session: AsyncSession, principal: Principal, data: SubscriptionCreate
) -> Subscription:
    principal.ensure_organisation(data.organisation_id)
    if await session.get(Organisation, data.organisation_id) is None:
        raise InvalidField("body.organisation_id", f"organisation {data.organisation_id} does not exist")
    await _check_channels(session, data.organisation_id, data.channel_ids)
    subscription = Subscription.model_validate(data.model_dump())
    session.add(subscription)
    await session.flush()
    audit.record(
        session,
        principal,
        "subscription.create",
        "subscription",
        subscription.id,
        organisation_id=data.organisation_id,
        changes=data.model_dump(mode="json"),
    )
    return subscription


async def load_subscription(
    session: AsyncSession, principal: Principal, subscription_id: int, *, for_update: bool = False
) -> Subscription:
    return await get_owned_or_404(session, principal, Subscription, subscription_id, for_update=for_update)


async def update_subscription(
    session: AsyncSession, principal: Principal, subscription_id: int, data: SubscriptionUpdate
) -> Subscription:
    subscription = await load_subscription(session, principal, subscription_id, for_update=True)
    if data.channel_ids is not None:
        await _check_channels(session, subscription.organisation_id, data.channel_ids)
    start = data.window_start or subscription.window_start
    end = data.window_end or subscription.window_end
    if start >= end:
        field = "body.window_end" if data.window_end is not None else "body.window_start"
        raise InvalidField(field, "window_start must be before window_end")
    diff = apply_update(subscription, data)
    if diff:
        subscription.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            principal,
            "subscription.update",
            "subscription",
            subscription_id,
            organisation_id=subscription.organisation_id,
            changes=diff,
        )
    return subscription


async def delete_subscription(session: AsyncSession, principal: Principal, subscription_id: int) -> None:
    await delete_owned(
        session, principal, Subscription, subscription_id, "subscription", "subscription.delete"
    )


async def list_subscriptions(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    organisation_id: int | None,
    mode: SubscriptionMode | None,
    is_active: bool | None,
) -> tuple[list[Subscription], int]:
    query = select(Subscription).order_by(col(Subscription.id))
    if principal.is_operator:
        query = query.where(Subscription.organisation_id == principal.organisation_id)
    if organisation_id is not None:
        query = query.where(Subscription.organisation_id == organisation_id)
    if mode is not None:
        query = query.where(Subscription.mode == mode.value)
    if is_active is not None:
        query = query.where(Subscription.is_active == is_active)
    return await paginate(session, query, page)
