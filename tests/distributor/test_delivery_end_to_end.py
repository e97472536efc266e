"""A week delivered to all three networks through real workers, the real adapters and the sandbox."""

from collections import Counter

from sandbox.testing import RunningSandbox
from tests.distributor.harness import (
    Workers,
    all_settled,
    deliveries,
    plan_and_make_due,
    seed_region,
    wait_until,
    world,
)


async def assert_exactly_once(sandbox: RunningSandbox) -> None:
    """Every sent delivery's messages are on its channel once; nothing else was posted by the hub."""
    rows = await deliveries()
    ledger = [entry for entry in await sandbox.acontrol.ledger(action="post") if entry.get("token")]
    posted = Counter((str(entry["channel"]), str(entry["post_id"])) for entry in ledger)
    assert all(count == 1 for count in posted.values())
    expected: set[tuple[str, str]] = set()
    external = {}
    async with __import__("shared.db", fromlist=["get_sessionmaker"]).get_sessionmaker()() as session:
        from shared.models import Channel

        for channel in (await session.exec(__import__("sqlmodel").select(Channel))).all():
            external[channel.id] = channel.external_id
    for row in rows:
        assert row.status == "sent", (row.id, row.status, row.last_error)
        channel = external[row.channel_id]
        channel = f"-{channel}" if row.post_url and "vk.com" in row.post_url else channel
        for part in row.part_ids:
            expected.add((channel, part))
    ledger_keys = set(posted)
    assert ledger_keys == expected


async def test_week_is_delivered_to_vk_ok_and_telegram_with_photos_and_video(
    sandbox: RunningSandbox, workers: Workers
) -> None:
    await sandbox.acontrol.reset(world(organisations=3))
    region = await seed_region(organisations=3, materials=3)
    planned = await plan_and_make_due()
    assert planned == 3 * 3 * 3  # 3 organisations × 3 channels × 3 items
    workers.start(1)
    await wait_until(all_settled, what="every delivery settled")
    rows = await deliveries()
    assert {row.status for row in rows} == {"sent"}
    assert all(row.post_url for row in rows)
    await assert_exactly_once(sandbox)
    media_by_network = Counter(
        entry["network"] for entry in await sandbox.acontrol.ledger(action="post") if entry.get("media")
    )
    assert media_by_network["vk"] >= 9
    assert media_by_network["telegram"] >= 9
    assert media_by_network["ok"] >= 9
    assert len(region.materials) == 3
