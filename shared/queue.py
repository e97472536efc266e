"""Every arq call lives here, so the queue could be replaced without touching the domain.
PostgreSQL holds the truth; the queue only wakes workers."""

from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from shared.settings import get_settings

DISTRIBUTOR_QUEUE = "hub:distributor"
# The distributor job that claims and delivers due work (woken by the scheduler's sweep).
DISPATCH_FUNCTION = "dispatch_due"


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url)


async def connect() -> ArqRedis:
    return await create_pool(redis_settings(), default_queue_name=DISTRIBUTOR_QUEUE)


async def enqueue(pool: ArqRedis, function: str, *args: Any, job_id: str | None = None) -> bool:
    """Enqueue a wake-up; returns False when a job with ``job_id`` is already queued or running."""
    job = await pool.enqueue_job(function, *args, _job_id=job_id, _queue_name=DISTRIBUTOR_QUEUE)
    return job is not None


async def wake_distributors(pool: ArqRedis, count: int, bucket: int) -> int:
    """Enqueue up to ``count`` dispatch wake-ups for time ``bucket``; repeats in a bucket are refused."""
    woken = 0
    for index in range(count):
        if await enqueue(pool, DISPATCH_FUNCTION, job_id=f"dispatch:{bucket}:{index}"):
            woken += 1
    return woken
