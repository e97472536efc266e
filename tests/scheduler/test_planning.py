"""Planning a week: which materials go to which channel, and when, in the organisation's zone."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.planning import plan_week_deliveries, posting_slots
from shared.models import Delivery, Subscription
from tests.factories import make_channel, make_material, make_organisation

# Monday 23 Nov 2026, 06:00 Moscow time.
MONDAY_MORNING = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
WEEK = "2026-W48"
WEEKDAYS = [1, 2, 3, 4, 5]


def test_three_items_spread_one_a_day_over_the_working_week() -> None:
    slots = posting_slots(MONDAY_MORNING, WEEK, "Europe/Moscow", time(9), time(20), WEEKDAYS, 3)
    local = [slot.astimezone(ZoneInfo("Europe/Moscow")) for slot in slots]
    assert [slot.isoweekday() for slot in local] == [1, 3, 5]  # Mon, Wed, Fri
    assert all(time(9) <= slot.time() <= time(20) for slot in local)


def test_late_in_the_week_items_double_up_rather_than_miss_the_minimum() -> None:
    thursday_evening = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # 19:00 Thursday in Moscow
    slots = posting_slots(thursday_evening, WEEK, "Europe/Moscow", time(9), time(20), WEEKDAYS, 3)
    local = [slot.astimezone(ZoneInfo("Europe/Moscow")) for slot in slots]
    assert len(local) == 3
    assert all(slot >= thursday_evening for slot in slots)
    assert {slot.isoweekday() for slot in local} == {4, 5}


def test_when_the_allowed_days_are_over_the_weekend_is_used() -> None:
    saturday = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    slots = posting_slots(saturday, WEEK, "Europe/Moscow", time(9), time(20), WEEKDAYS, 2)
    assert {slot.astimezone(ZoneInfo("Europe/Moscow")).isoweekday() for slot in slots} <= {6, 7}


def test_slots_follow_the_organisations_own_zone() -> None:
    khabarovsk = posting_slots(MONDAY_MORNING, WEEK, "Asia/Vladivostok", time(9), time(20), WEEKDAYS, 1)
    assert khabarovsk[0].astimezone(ZoneInfo("Asia/Vladivostok")).time() >= time(9)
    # 03:00 UTC is already 13:00 on Monday in Khabarovsk: the first slot is later that day.
    assert khabarovsk[0].astimezone(ZoneInfo("Asia/Vladivostok")).date().isoformat() == "2026-11-23"


async def _org_with_subscription(
    session: AsyncSession,
    *,
    timezone: str = "Europe/Moscow",
    topics: list[str] | None = None,
    items_per_week: int = 3,
    channels: tuple[str, ...] = ("vk", "telegram"),
):  # type: ignore[no-untyped-def]
    organisation = await make_organisation(session, timezone=timezone)
    made = [await make_channel(session, organisation, platform) for platform in channels]
    session.add(
        Subscription(organisation_id=organisation.id, topics=topics or [], items_per_week=items_per_week)
    )  # type: ignore[arg-type]
    await session.flush()
    return organisation, made


async def _deliveries(session: AsyncSession, organisation_id: int) -> list[Delivery]:
    return list(
        (
            await session.exec(
                select(Delivery)
                .where(Delivery.organisation_id == organisation_id)
                .order_by(col(Delivery.due_at))
            )
        ).all()
    )


async def test_planner_fills_each_channel_with_three_items_once(session: AsyncSession) -> None:
    organisation, channels = await _org_with_subscription(session)
    for index in range(5):
        await make_material(
            session, status="approved", week=WEEK, approved_at=datetime(2026, 11, 20 + index % 3, tzinfo=UTC)
        )
    first = await plan_week_deliveries(session, MONDAY_MORNING)
    assert first.planned >= 6
    deliveries = await _deliveries(session, organisation.id)  # type: ignore[arg-type]
    for channel in channels:
        mine = [d for d in deliveries if d.channel_id == channel.id]
        assert len(mine) == 3
        assert len({d.material_id for d in mine}) == 3
        days = {d.due_at.astimezone(ZoneInfo("Europe/Moscow")).date() for d in mine}
        assert len(days) == 3
    again = await plan_week_deliveries(session, MONDAY_MORNING)
    assert again.planned == 0
    assert len(await _deliveries(session, organisation.id)) == len(deliveries)  # type: ignore[arg-type]


async def test_planner_respects_topics_and_skips_drafts_and_other_weeks(session: AsyncSession) -> None:
    organisation, channels = await _org_with_subscription(session, topics=["спорт"], channels=("ok",))
    wanted = await make_material(session, status="approved", week=WEEK, topics=["спорт"])
    await make_material(session, status="approved", week=WEEK, topics=["культура"])
    await make_material(session, status="draft", week=WEEK, topics=["спорт"])
    await make_material(session, status="approved", week="2026-W49", topics=["спорт"])
    await plan_week_deliveries(session, MONDAY_MORNING)
    deliveries = await _deliveries(session, organisation.id)  # type: ignore[arg-type]
    assert [d.material_id for d in deliveries] == [wanted.id]


async def test_urgent_material_goes_to_every_channel_at_once_beyond_the_quota(session: AsyncSession) -> None:
    organisation, channels = await _org_with_subscription(session, items_per_week=1)
    await make_material(session, status="approved", week=WEEK)
    urgent = await make_material(session, status="approved", week=WEEK, priority="urgent")
    await plan_week_deliveries(session, MONDAY_MORNING)
    deliveries = await _deliveries(session, organisation.id)  # type: ignore[arg-type]
    urgent_rows = [d for d in deliveries if d.material_id == urgent.id]
    assert len(urgent_rows) == len(channels)
    assert all(d.urgent and d.due_at == MONDAY_MORNING for d in urgent_rows)
    assert len([d for d in deliveries if not d.urgent]) == len(channels)  # the weekly 1 still comes


async def test_feed_subscriptions_and_disabled_channels_get_no_deliveries(session: AsyncSession) -> None:
    organisation, channels = await _org_with_subscription(session)
    channels[0].status = "disabled"
    channels[0].status_reason = "closed"
    feed_org = await make_organisation(session)
    await make_channel(session, feed_org, "vk")
    session.add(Subscription(organisation_id=feed_org.id, mode="feed"))  # type: ignore[arg-type]
    await make_material(session, status="approved", week=WEEK)
    await session.flush()
    await plan_week_deliveries(session, MONDAY_MORNING)
    assert {d.channel_id for d in await _deliveries(session, organisation.id)} == {channels[1].id}  # type: ignore[arg-type]
    assert await _deliveries(session, feed_org.id) == []  # type: ignore[arg-type]


async def test_week_is_the_organisations_local_week(session: AsyncSession) -> None:
    # Sunday 29 Nov 2026 20:00 UTC is already Monday of W49 in Khabarovsk, still W48 in Moscow.
    sunday_evening_utc = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    far_east, _ = await _org_with_subscription(session, timezone="Asia/Vladivostok", channels=("vk",))
    moscow, _ = await _org_with_subscription(session, timezone="Europe/Moscow", channels=("vk",))
    w48 = await make_material(session, status="approved", week="2026-W48")
    w49 = await make_material(session, status="approved", week="2026-W49")
    await plan_week_deliveries(session, sunday_evening_utc)
    assert [d.material_id for d in await _deliveries(session, far_east.id)] == [w49.id]  # type: ignore[arg-type]
    assert [d.material_id for d in await _deliveries(session, moscow.id)] == [w48.id]  # type: ignore[arg-type]


async def test_publish_not_before_delays_the_due_time(session: AsyncSession) -> None:
    organisation, _ = await _org_with_subscription(session, channels=("vk",), items_per_week=1)
    embargo = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    await make_material(session, status="approved", week=WEEK, publish_not_before=embargo)
    await plan_week_deliveries(session, MONDAY_MORNING)
    (delivery,) = await _deliveries(session, organisation.id)  # type: ignore[arg-type]
    assert delivery.due_at >= embargo
