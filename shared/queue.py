"""Every arq call lives here, so the queue could be replaced without touching the domain.
PostgreSQL holds the truth; the queue only wakes workers."""

from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from shared.settings import get_settings

DISTRIBUTOR_QUEUE = "hub:distributor"


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url)


async def connect() -> ArqRedis:
    return await create_pool(redis_settings(), default_queue_name=DISTRIBUTOR_QUEUE)


async def enqueue(pool: ArqRedis, function: str, *args: Any, job_id: str | None = None) -> bool:
    """Enqueue a wake-up; returns False when a job with ``job_id`` is already queued or running."""
    job = await pool.enqueue_job(function, *args, _job_id=job_id, _queue_name=DISTRIBUTOR_QUEUE)
    return job is not None
