"""Plan each organisation's week: which approved materials go to which channel, and when.

For every active ``auto`` subscription: urgent materials go to every subscribed channel at once;
the others fill the subscription's weekly count (default 3) per channel, newest first, matching its
topics, each material at most once per channel, spread over the posting window in the
organisation's own time zone — one a day at most while the remaining days allow it. Rows are
inserted with ON CONFLICT DO NOTHING, so running the planner again is harmless."""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.calendar import week_bounds, week_label
from shared.models import Channel, Delivery, Material, Organisation, Subscription
from shared.models.enums import (
    ChannelStatus,
    DeliveryStatus,
    MaterialPriority,
    MaterialStatus,
    SubscriptionMode,
)

logger = logging.getLogger("scheduler.planning")


@dataclass(frozen=True)
class PlanResult:
    subscriptions: int
    planned: int


def posting_slots(
    now: datetime,
    week: str,
    timezone: str,
    window_start: time,
    window_end: time,
    weekdays: list[int],
    count: int,
) -> list[datetime]:
    """``count`` due times spread over what is left of the week's posting windows.

    One a day while enough allowed days remain; more per day otherwise. When no allowed day is left
    the rest of the week is used regardless of weekday (the weekly minimum comes first), and when
    the week is over locally, everything is due now."""
    if count <= 0:
        return []
    zone = ZoneInfo(timezone)
    start, _ = week_bounds(week, timezone)

    def open_days(allowed: set[int]) -> list[date]:
        days = []
        for offset in range(7):
            day = start.date() + timedelta(days=offset)
            closes = datetime.combine(day, window_end, tzinfo=zone)
            if day.isoweekday() in allowed and closes > now:
                days.append(day)
        return days

    days = open_days(set(weekdays)) or open_days(set(range(1, 8)))
    if not days:
        return [now] * count
    per_day: dict[date, int] = defaultdict(int)
    if count <= len(days):
        for index in range(count):  # evenly spaced from the first to the last day: Mon, Wed, Fri for 3 of 5
            position = 0 if count == 1 else round(index * (len(days) - 1) / (count - 1))
            per_day[days[position]] += 1
    else:
        for index in range(count):
            per_day[days[index % len(days)]] += 1
    slots = []
    for day in sorted(per_day):
        opens = datetime.combine(day, window_start, tzinfo=zone)
        closes = datetime.combine(day, window_end, tzinfo=zone)
        begin = max(opens, now)
        span = (closes - begin) / (per_day[day] + 1)
        slots.extend(begin + span * (position + 1) for position in range(per_day[day]))
    return sorted(slots)


def _delivery_row(
    material: Material,
    channel_id: int,
    organisation: Organisation,
    subscription_id: int | None,
    week: str,
    due: datetime,
    urgent: bool,
    now: datetime,
) -> dict[str, object]:
    due = max(due, material.publish_not_before) if material.publish_not_before else due
    return {
        "material_id": material.id,
        "channel_id": channel_id,
        "organisation_id": organisation.id,
        "subscription_id": subscription_id,
        "week": week,
        "urgent": urgent,
        "due_at": due,
        "next_attempt_at": due,
        "status": DeliveryStatus.scheduled.value,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _topics_match(subscription: Subscription, material: Material) -> bool:
    return not subscription.topics or bool(set(subscription.topics) & set(material.topics))


async def plan_week_deliveries(session: AsyncSession, now: datetime) -> PlanResult:
    rows = (
        await session.exec(
            select(Subscription, Organisation)
            .join(Organisation, col(Organisation.id) == Subscription.organisation_id)
            .where(
                col(Subscription.is_active),
                Subscription.mode == SubscriptionMode.auto.value,
                col(Organisation.is_active),
            )
        )
    ).all()
    if not rows:
        return PlanResult(0, 0)
    organisation_ids = {organisation.id for _, organisation in rows}
    weeks = {week_label(now, organisation.timezone) for _, organisation in rows}

    channels_by_org: dict[int, list[Channel]] = defaultdict(list)
    for channel in (
        await session.exec(
            select(Channel).where(
                col(Channel.organisation_id).in_(organisation_ids),
                Channel.status != ChannelStatus.disabled.value,
            )
        )
    ).all():
        channels_by_org[channel.organisation_id].append(channel)

    materials_by_week: dict[str, list[Material]] = defaultdict(list)
    for material in (
        await session.exec(
            select(Material)
            .where(
                Material.status == MaterialStatus.approved.value,
                col(Material.week).in_(weeks),
                or_(col(Material.expires_at).is_(None), col(Material.expires_at) > now),
            )
            .order_by(col(Material.approved_at).desc(), col(Material.id).desc())
        )
    ).all():
        materials_by_week[material.week].append(material)

    channel_ids = [channel.id for channels in channels_by_org.values() for channel in channels]
    delivered: dict[int, set[int]] = defaultdict(set)
    regular_count: dict[tuple[int, int | None], int] = defaultdict(int)
    if channel_ids:
        existing = (
            await session.exec(
                select(
                    Delivery.channel_id,
                    Delivery.material_id,
                    Delivery.subscription_id,
                    Delivery.urgent,
                    Delivery.week,
                ).where(col(Delivery.channel_id).in_(channel_ids), col(Delivery.week).in_(weeks))
            )
        ).all()
        for channel_id, material_id, subscription_id, urgent, _week in existing:
            delivered[channel_id].add(material_id)
            if not urgent:
                regular_count[(channel_id, subscription_id)] += 1
        # Materials of other weeks already sent to the channel are not sent again either.
        earlier = (
            await session.exec(
                select(Delivery.channel_id, Delivery.material_id).where(
                    col(Delivery.channel_id).in_(channel_ids),
                    col(Delivery.material_id).in_(
                        [m.id for ms in materials_by_week.values() for m in ms] or [0]
                    ),
                )
            )
        ).all()
        for channel_id, material_id in earlier:
            delivered[channel_id].add(material_id)

    new_rows: list[dict[str, object]] = []
    for subscription, organisation in rows:
        week = week_label(now, organisation.timezone)
        materials = [m for m in materials_by_week.get(week, []) if _topics_match(subscription, m)]
        channels = channels_by_org.get(organisation.id or 0, [])
        if subscription.channel_ids:
            channels = [channel for channel in channels if channel.id in subscription.channel_ids]
        for channel in channels:
            assert channel.id is not None
            taken = delivered[channel.id]

            picked: list[tuple[Material, datetime, bool]] = [
                (material, now, True)
                for material in materials
                if material.priority == MaterialPriority.urgent.value and material.id not in taken
            ]
            need = subscription.items_per_week - regular_count[(channel.id, subscription.id)]
            candidates = [
                m for m in materials if m.id not in taken and m.priority != MaterialPriority.urgent.value
            ]
            chosen = candidates[: max(need, 0)]
            slots = posting_slots(
                now,
                week,
                organisation.timezone,
                subscription.window_start,
                subscription.window_end,
                subscription.weekdays,
                len(chosen),
            )
            picked.extend((material, due, False) for material, due in zip(chosen, slots, strict=True))
            regular_count[(channel.id, subscription.id)] += len(chosen)
            for material, due, urgent in picked:
                new_rows.append(
                    _delivery_row(material, channel.id, organisation, subscription.id, week, due, urgent, now)
                )
                taken.add(material.id)  # type: ignore[arg-type]

    planned = 0
    for offset in range(0, len(new_rows), 1000):
        chunk = new_rows[offset : offset + 1000]
        result = await session.exec(  # type: ignore[call-overload]
            insert(Delivery)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["material_id", "channel_id"])
            .returning(Delivery.id)
        )
        planned += len(result.all())
    return PlanResult(subscriptions=len(rows), planned=planned)


async def due_count(session: AsyncSession, now: datetime) -> int:
    """Deliveries a worker could claim right now (for wake-ups and the queue-depth metric)."""
    return int(
        (
            await session.exec(
                select(func.count())
                .select_from(Delivery)
                .join(Channel, col(Channel.id) == Delivery.channel_id)
                .where(
                    Channel.status == ChannelStatus.active.value,
                    or_(
                        and_(
                            col(Delivery.status).in_(
                                [DeliveryStatus.scheduled.value, DeliveryStatus.retracting.value]
                            ),
                            col(Delivery.next_attempt_at) <= now,
                        ),
                        and_(
                            Delivery.status == DeliveryStatus.sending.value,
                            col(Delivery.lease_expires_at) < now,
                        ),
                    ),
                )
            )
        ).one()
    )
