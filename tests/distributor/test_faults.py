"""Exactly once against networks that are not: faults, crashes, a flushed queue, lost credentials."""

import asyncio
from collections import Counter

from redis.asyncio import Redis
from sqlalchemy import text
from sqlmodel import select

from sandbox.testing import RunningSandbox
from shared.db import get_sessionmaker
from shared.models import Channel, Material, Notification, Publication
from shared.settings import get_settings
from tests.distributor.harness import (
    BOT,
    Workers,
    all_settled,
    deliveries,
    plan_and_make_due,
    seed_region,
    wait_until,
    wake,
    world,
)
from tests.distributor.test_delivery_end_to_end import assert_exactly_once


async def test_faults_at_a_high_rate_still_deliver_everything_exactly_once(
    sandbox: RunningSandbox, faulty_workers: Workers
) -> None:
    workers = faulty_workers
    await sandbox.acontrol.reset(world(organisations=4))
    await seed_region(organisations=4, materials=3, with_media=False)
    for network in ("vk", "ok"):
        await sandbox.acontrol.set_faults(
            network,
            None,
            error_5xx_fraction=0.2,
            drop_fraction=0.1,
            timeout_after_record_fraction=0.2,
            hang_seconds=3,
        )
    await sandbox.acontrol.set_faults(
        "telegram",
        BOT,
        error_5xx_fraction=0.25,
        drop_fraction=0.1,
        flood_limit={"limit": 5, "per_seconds": 1},
    )
    await plan_and_make_due()
    workers.start(2)
    await wait_until(all_settled, within_s=150, what="every delivery settled under faults")
    rows = await deliveries()
    assert {row.status for row in rows} == {"sent"}
    assert max(row.attempts for row in rows) > 1  # the faults really hit
    await assert_exactly_once(sandbox)


async def test_workers_killed_mid_run_and_restarted_still_deliver_exactly_once(
    sandbox: RunningSandbox, workers: Workers
) -> None:
    await sandbox.acontrol.reset(world(organisations=6))
    await seed_region(organisations=6, materials=3, with_media=False, platforms=("vk", "ok"))
    # Slow replies keep work in flight, so the kills land between claim, post and record.
    for network in ("vk", "ok"):
        await sandbox.acontrol.set_faults(network, None, latency_ms=150)
    total = await plan_and_make_due()
    for round_number in range(3):
        workers.start(2)
        await wait_until(
            lambda goal=total * (round_number + 1) // 4: _sent_at_least(goal),
            within_s=60,
            what=f"progress before kill {round_number + 1}",
        )
        workers.kill_all()
    workers.start(2)
    await wake(bucket=999)
    await wait_until(all_settled, within_s=120, what="every delivery settled after the kills")
    assert any(row.attempts > 1 for row in await deliveries())  # some kills landed on claimed work
    await assert_exactly_once(sandbox)


async def _sent_at_least(count: int) -> bool:
    return sum(row.status == "sent" for row in await deliveries()) >= count


async def test_redis_flushed_mid_run_loses_nothing(sandbox: RunningSandbox, workers: Workers) -> None:
    await sandbox.acontrol.reset(world(organisations=4))
    await seed_region(organisations=4, materials=3, with_media=False, platforms=("vk", "ok"))
    for network in ("vk", "ok"):
        await sandbox.acontrol.set_faults(network, None, latency_ms=100)
    total = await plan_and_make_due()
    workers.start(1)
    await wait_until(lambda: _sent_at_least(total // 4), within_s=60, what="some progress")
    redis = Redis.from_url(get_settings().redis_url)
    await redis.flushdb()
    await redis.aclose()
    await wake(bucket=1000)  # the sweep re-enqueues from what the database says is due
    await wait_until(all_settled, within_s=120, what="every delivery settled after the flush")
    await assert_exactly_once(sandbox)


async def test_revoked_vk_token_disables_its_channel_and_spares_the_others(
    sandbox: RunningSandbox, workers: Workers
) -> None:
    await sandbox.acontrol.reset(world(organisations=3))
    region = await seed_region(organisations=3, materials=3, with_media=False, platforms=("vk", "telegram"))
    victim = region.organisations[0]
    await sandbox.acontrol.revoke("vk", region.vk_tokens[victim])
    await plan_and_make_due()
    workers.start(1)

    async def others_done() -> bool:
        rows = await deliveries()
        return all(row.status == "sent" for row in rows if row.organisation_id != victim)

    await wait_until(others_done, what="the other channels delivered")
    async with get_sessionmaker()() as session:
        channels = {channel.id: channel for channel in (await session.exec(select(Channel))).all()}
        notifications = (await session.exec(select(Notification))).all()
    victim_vk = next(c for c in channels.values() if c.organisation_id == victim and c.platform == "vk")
    assert victim_vk.status == "credentials_invalid"
    assert victim_vk.status_reason
    assert all(c.status == "active" for c in channels.values() if c.id != victim_vk.id)
    held = [row for row in await deliveries() if row.channel_id == victim_vk.id]
    assert held
    assert all(row.status == "scheduled" and row.last_error_kind == "credentials" for row in held)
    assert [n.kind for n in notifications] == ["channel_credentials_invalid"]
    assert notifications[0].organisation_id == victim
    assert "Канал" in notifications[0].text

    # The token is fixed and the channel re-activated: its deliveries go out, nothing was lost.
    await sandbox.acontrol.revoke("vk", region.vk_tokens[victim], restore=True)
    async with get_sessionmaker()() as session:
        channel = await session.get(Channel, victim_vk.id)
        assert channel is not None
        channel.status = "active"
        channel.status_reason = None
        await session.commit()
    await wake(bucket=1001)
    await wait_until(all_settled, what="the held deliveries went out")
    await assert_exactly_once(sandbox)


async def test_two_workers_never_send_the_same_delivery(sandbox: RunningSandbox, workers: Workers) -> None:
    await sandbox.acontrol.reset(world(organisations=8))
    await seed_region(organisations=8, materials=3, with_media=False, platforms=("vk", "telegram", "ok"))
    await plan_and_make_due()
    workers.start(3)
    await asyncio.gather(wake(bucket=2000), wake(bucket=2001))
    await wait_until(all_settled, what="every delivery settled with three workers")
    rows = await deliveries()
    assert Counter(row.status for row in rows) == Counter({"sent": len(rows)})
    retried = [(row.id, row.attempts, row.last_error) for row in rows if row.attempts != 1]
    assert not retried, retried  # nobody claimed a row another worker held
    await assert_exactly_once(sandbox)


async def test_withdrawal_deletes_every_post_and_cancels_what_is_pending(
    sandbox: RunningSandbox, workers: Workers
) -> None:
    await sandbox.acontrol.reset(world(organisations=2))
    region = await seed_region(organisations=2, materials=2, with_media=True)
    await plan_and_make_due()
    first, second = region.materials
    async with get_sessionmaker()() as session:  # the second material's deliveries are not due yet
        await session.execute(
            text("UPDATE delivery SET next_attempt_at = now() + interval '1 day' WHERE material_id = :id"),
            {"id": second},
        )
        await session.commit()
    workers.start(1)

    async def first_sent() -> bool:
        return all(row.status == "sent" for row in await deliveries() if row.material_id == first)

    await wait_until(first_sent, what="the first material delivered")
    posted = [entry for entry in await sandbox.acontrol.ledger(action="post") if entry.get("token")]
    assert posted
    async with get_sessionmaker()() as session:
        for material_id in (first, second):
            material = await session.get(Material, material_id)
            assert material is not None
            material.status = "withdrawn"
            material.withdrawn_reason = "ошибка в тексте"
        await session.commit()

    async def retracted() -> bool:
        rows = await deliveries()
        return all(row.status == ("retracted" if row.material_id == first else "cancelled") for row in rows)

    await wait_until(retracted, what="every post retracted and the rest cancelled")
    deleted = {(str(e["channel"]), str(e["post_id"])) for e in await sandbox.acontrol.ledger(action="delete")}
    assert {(str(e["channel"]), str(e["post_id"])) for e in posted} <= deleted
    async with get_sessionmaker()() as session:
        publications = (await session.exec(select(Publication))).all()
    assert publications
    assert all(publication.deleted_at is not None for publication in publications)


async def test_telegram_timeouts_after_posting_are_resolved_by_observation_not_resent(
    sandbox: RunningSandbox, faulty_workers: Workers
) -> None:
    """Telegram has no idempotency key: a post whose reply was lost is found among the channel's
    observed posts (the observer bot's channel_post updates) instead of being sent again."""
    await sandbox.acontrol.reset(world(organisations=3))
    await seed_region(organisations=3, materials=3, with_media=False, platforms=("telegram",))
    await sandbox.acontrol.set_faults("telegram", BOT, timeout_after_record_fraction=0.34, hang_seconds=3)
    await plan_and_make_due()
    faulty_workers.start(1)
    await wait_until(all_settled, within_s=120, what="every Telegram delivery settled")
    rows = await deliveries()
    assert {row.status for row in rows} == {"sent"}
    assert sum(row.attempts > 1 for row in rows) >= 2  # the lost replies really happened
    await assert_exactly_once(sandbox)
