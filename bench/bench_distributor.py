"""Deliveries a second through the whole system, against a bare loop of httpx posts, and how close
the system gets to the networks' rate limits.

Every phase runs in this one process run, against one sandbox subprocess, so the ratios hold on a
noisy machine:

1. **bare**: an asyncio loop of raw httpx calls (``wall.post``, ``sendMessage``, ``mediatopic.post``,
   the same mix and count as the system's deliveries) at the system's concurrency: the ceiling.
2. **system** with 1, 2 and 4 distributor processes: the planner plans a week for N organisations
   (3 channels each, one item each), every delivery is made due, the sweep wakes the workers, and
   the clock stops when the database says every delivery is sent. No latency, no rate limits.
3. **limits**: the sandbox enforces a Telegram bot limit and VK per-user-token limits, the hub is
   configured with the same figures, and we measure posts per second against what is allowed.

    .venv/bin/python bench/bench_distributor.py [--organisations 400] [--concurrency 32]

Last line: ``bench-distributor: system_per_s=… bare_per_s=… ratio=… workers=… limit_ratio=…``.
"""

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/hub_bench_distributor"
os.environ.update(
    {
        "HUB_DATABASE_URL": BENCH_DB,
        "HUB_REDIS_URL": "redis://127.0.0.1:6379/14",
        "HUB_ENVIRONMENT": "test",
        "HUB_DATA_DIR": "/tmp/hub-bench-distributor",
    }
)

import httpx  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy import text  # noqa: E402

from sandbox.testing import running_sandbox  # noqa: E402
from shared.db import get_engine, get_sessionmaker  # noqa: E402
from shared.migrate import migrate  # noqa: E402
from tests.distributor.harness import (  # noqa: E402
    BOT,
    OK_APP,
    OK_SECRET,
    Workers,
    add_materials,
    environment_for_workers,
    plan_and_make_due,
    reset_database,
    seed_region,
    wake,
    world,
)

PLATFORMS = ("vk", "telegram", "ok")


async def sent_count() -> int:
    async with get_sessionmaker()() as session:
        return int(
            (await session.execute(text("SELECT count(*) FROM delivery WHERE status = 'sent'"))).scalar_one()
        )


async def stuck_errors() -> list[str]:
    async with get_sessionmaker()() as session:
        rows = await session.execute(
            text("SELECT DISTINCT last_error FROM delivery WHERE status <> 'sent' LIMIT 5")
        )
        return [str(row[0]) for row in rows]


async def fresh_state(sandbox, organisations: int) -> None:  # type: ignore[no-untyped-def]
    await reset_database()
    redis = Redis.from_url(os.environ["HUB_REDIS_URL"])
    await redis.flushdb()
    await redis.aclose()
    await sandbox.acontrol.reset(world(organisations))


async def wait_sent(target: int, within_s: float = 600) -> None:
    """Wait until ``target`` deliveries are sent, waking the workers every second like the sweep."""
    started = time.perf_counter()
    last_wake = 0.0
    while (done := await sent_count()) < target:
        if time.perf_counter() - started > within_s:
            raise RuntimeError(f"only {done}/{target} sent; errors: {await stuck_errors()}")
        if time.perf_counter() - last_wake > 1.0:
            await wake(bucket=int(time.time() * 1000))
            last_wake = time.perf_counter()
        await asyncio.sleep(0.02)


async def run_system(
    sandbox,
    organisations: int,
    workers_count: int,
    env_extra: dict[str, str],  # type: ignore[no-untyped-def]
    platforms: tuple[str, ...] = PLATFORMS,
) -> tuple[int, float]:
    """A warm-up week item first (long-running workers have their clients and caches warm), then the
    timed one: approve a second item, plan it, wake the workers, stop when all are sent."""
    await fresh_state(sandbox, organisations)
    await seed_region(
        organisations=organisations, materials=1, with_media=False, platforms=platforms, items_per_week=2
    )
    workers = Workers(environment_for_workers(sandbox, **env_extra))
    workers.start(workers_count)
    try:
        warm = await plan_and_make_due()
        await wait_sent(warm)
        async with get_sessionmaker()() as session:
            await add_materials(session, 1, datetime.now(UTC), first_index=1)
            await session.commit()
        started = time.perf_counter()
        planned = await plan_and_make_due()
        await wake(bucket=int(time.time() * 1000))
        await wait_sent(warm + planned)
        elapsed = time.perf_counter() - started
    finally:
        workers.stop_all()
    return planned, elapsed


def ok_params(number: int, gid: str) -> dict[str, str]:
    params = {
        "method": "mediatopic.post",
        "application_key": OK_APP,
        "format": "json",
        "type": "GROUP_THEME",
        "gid": gid,
        "attachment": json.dumps({"media": [{"type": "text", "text": f"bare topic {number}"}]}),
    }
    secret = hashlib.md5(("ok-token-editor" + OK_SECRET).encode()).hexdigest()
    params["sig"] = hashlib.md5(
        ("".join(f"{k}={params[k]}" for k in sorted(params)) + secret).encode()
    ).hexdigest()
    params["access_token"] = "ok-token-editor"
    return params


async def run_bare(sandbox, organisations: int, concurrency: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    await fresh_state(sandbox, organisations)
    base = sandbox.base_url
    requests: list[tuple[str, dict[str, str]]] = []
    for index in range(organisations):
        requests.append(
            (
                f"{base}/method/wall.post",
                {
                    "access_token": f"vk-user-{index}",
                    "v": "5.199",
                    "owner_id": str(-(210000 + index)),
                    "from_group": "1",
                    "message": f"bare post {index}",
                    "guid": f"bare-{index}",
                },
            )
        )
        requests.append(
            (
                f"{base}/bot{BOT}/sendMessage",
                {"chat_id": str(-1001100000000 - index), "text": f"bare message {index}"},
            )
        )
        requests.append((f"{base}/fb.do", ok_params(index, str(71000000000000 + index))))
    queue: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    # One client (one kept-alive connection) per concurrent loop: httpx's fastest arrangement here.
    clients = [httpx.AsyncClient(timeout=30) for _ in range(concurrency)]

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            url, data = queue.get_nowait()
            reply = await client.post(url, data=data)
            body = reply.json()
            if isinstance(body, dict) and (
                "error" in body or body.get("ok") is False or "error_code" in body
            ):
                raise RuntimeError(f"bare call failed: {body}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return len(requests), elapsed


async def run_limited(sandbox, organisations: int, materials: int) -> float:  # type: ignore[no-untyped-def]
    """Telegram: one bot at 30/s; VK: one user token per community at 3/s. Returns the lower of the
    two networks' achieved/allowed rates."""
    telegram_rate, vk_rate, vk_tokens = 30.0, 3.0, organisations
    await fresh_state(sandbox, organisations)
    await sandbox.acontrol.set_faults(
        "telegram", BOT, rate_limit={"limit": int(telegram_rate), "per_seconds": 1}
    )
    for index in range(organisations):
        await sandbox.acontrol.set_faults(
            "vk", f"vk-user-{index}", rate_limit={"limit": int(vk_rate), "per_seconds": 1}
        )
    await seed_region(
        organisations=organisations, materials=materials, with_media=False, platforms=("vk", "telegram")
    )
    workers = Workers(
        environment_for_workers(
            sandbox,
            HUB_RATE_LIMITS_ENABLED="true",
            HUB_DELIVERY_LEASE_S="120",
            HUB_TELEGRAM_RATE_PER_S=str(telegram_rate),
            HUB_VK_RATE_PER_S=str(vk_rate),
            HUB_TELEGRAM_CHAT_RATE_PER_MIN="6000",
            HUB_DELIVERY_BATCH_SIZE="50",
        )
    )
    workers.start(2)
    try:
        started = time.perf_counter()
        planned = await plan_and_make_due()
        await wake(bucket=int(time.time() * 1000))
        last_wake = time.perf_counter()
        while await sent_count() < planned:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"limited phase stuck; errors: {await stuck_errors()}")
            if time.perf_counter() - last_wake > 1.0:
                await wake(bucket=int(time.time() * 1000))
                last_wake = time.perf_counter()
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        workers.stop_all()
    # The networks' view: the rate posts actually arrived at, first to last, against the allowed rate.
    ledger = [e for e in await sandbox.acontrol.ledger(action="post") if e.get("token")]
    extra = len(ledger) - planned
    ratios = {}
    for network, allowed in (("telegram", telegram_rate), ("vk", vk_rate * vk_tokens)):
        times = sorted(float(e["unix"]) for e in ledger if e["network"] == network)
        achieved = (len(times) - 1) / (times[-1] - times[0])
        ratios[network] = achieved / allowed
        print(
            f"limits: {network}: {len(times)} posts at {achieved:.1f}/s, allowed {allowed:g}/s "
            f"({ratios[network]:.0%})"
        )
    print(
        f"limits: {planned} posts in {elapsed:.1f} s end to end (planning and wake-up included); "
        f"posts beyond the planned ones: {extra}"
    )
    return min(ratios.values())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organisations", type=int, default=400, help="3 channels each, one timed item each")
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight posts per worker process")
    args = parser.parse_args()
    # Production leases and lookup delays (the test harness shortens them to make crash tests quick).
    env = {
        "HUB_DELIVERY_LEASE_S": "120",
        "HUB_OUTCOME_LOOKUP_DELAY_S": "60",
        "HUB_RATE_LIMITS_ENABLED": "false",
        "HUB_DELIVERY_BATCH_SIZE": str(args.concurrency),
        "HUB_DELIVERY_CONCURRENCY": str(args.concurrency),
        "HUB_NETWORK_TIMEOUT_S": "30",
    }
    with running_sandbox() as sandbox:
        bare_posts, bare_elapsed = await run_bare(sandbox, args.organisations, args.concurrency)
        bare_rate = bare_posts / bare_elapsed
        print(
            f"bare: {bare_posts} posts in {bare_elapsed:.2f} s = {bare_rate:.0f}/s "
            f"at concurrency {args.concurrency}"
        )
        results = {}
        for workers_count in (1, 2, 4):
            posts, elapsed = await run_system(sandbox, args.organisations, workers_count, env)
            results[workers_count] = posts / elapsed
            print(
                f"system: {workers_count} worker(s): {posts} deliveries in {elapsed:.2f} s = "
                f"{results[workers_count]:.0f}/s ({results[workers_count] / bare_rate:.0%} of bare)"
            )
        limit_ratio = await run_limited(sandbox, organisations=20, materials=20)
    await get_engine().dispose()
    best_workers = max(results, key=lambda count: results[count])
    best = results[best_workers]
    print(
        f"bench-distributor: system_per_s={best:.0f} bare_per_s={bare_rate:.0f} ratio={best / bare_rate:.2f} "
        f"workers={best_workers} limit_ratio={limit_ratio:.2f}"
    )


if __name__ == "__main__":
    migrate(BENCH_DB, recreate=True)  # before the event loop: Alembic runs its own
    asyncio.run(main())
