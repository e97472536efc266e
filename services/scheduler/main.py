"""The scheduler process: runs its periodic jobs until SIGTERM.

Each job runs in its own transaction under a PostgreSQL advisory lock, so a second scheduler (by
mistake or during a rolling deploy) skips work that is already running instead of doubling it.
Every job is idempotent: a crash at any point leaves what the next run finishes."""

import asyncio
import logging
import signal
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from arq import ArqRedis
from prometheus_client import Gauge, start_http_server
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.compliance_jobs import compliance_jobs
from services.scheduler.planning import plan_week_deliveries
from services.scheduler.sweep import sweep
from shared.db import get_engine, get_sessionmaker
from shared.feed_webhooks import deliver_pending_webhooks
from shared.logs import log_event
from shared.models.base import utcnow
from shared.queue import connect
from shared.readiness import check_postgres, check_redis
from shared.settings import Settings, get_settings

logger = logging.getLogger("scheduler")
DUE_DELIVERIES = Gauge("hub_deliveries_due", "Deliveries due now (the distributor's queue depth)")


@dataclass
class PeriodicJob:
    name: str
    interval_s: float
    run: Callable[[AsyncSession], Awaitable[object]]
    next_run: float = 0.0


async def run_locked(name: str, job: Callable[[AsyncSession], Awaitable[object]]) -> object | None:
    """Run ``job`` in a session holding the job's advisory lock; None when another holder runs it."""
    async with get_sessionmaker()() as session:
        acquired = (
            await session.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": zlib.crc32(name.encode())}
            )
        ).scalar()
        if not acquired:
            return None
        try:
            result = await job(session)
            await session.commit()
            return result
        finally:
            await session.rollback()
            await session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": zlib.crc32(name.encode())})
            await session.commit()


def build_jobs(settings: Settings, pool: ArqRedis) -> list[PeriodicJob]:
    async def plan(session: AsyncSession) -> object:
        return await plan_week_deliveries(session, utcnow())

    async def sweep_job(session: AsyncSession) -> object:
        result = await sweep(
            session,
            pool,
            utcnow(),
            batch_size=settings.delivery_batch_size,  # type: ignore[arg-type]
            bucket=int(time.time() // max(settings.sweep_interval_s, 1)),
        )
        DUE_DELIVERIES.set(result.due)
        return result

    async def webhooks(session: AsyncSession) -> object:
        return await deliver_pending_webhooks(session, utcnow())

    return [
        PeriodicJob("plan_week_deliveries", settings.plan_interval_s, plan),
        PeriodicJob("sweep", settings.sweep_interval_s, sweep_job),
        PeriodicJob("feed_webhooks", settings.webhook_interval_s, webhooks),
        *(PeriodicJob(name, interval, run) for name, interval, run in compliance_jobs(settings, pool)),
    ]


async def run_scheduler(stop: asyncio.Event) -> None:
    for name, check in (("postgres", check_postgres), ("redis", check_redis)):
        status = await check()
        if status != "ok":
            raise RuntimeError(f"{name} is not reachable: {status}")
    settings = get_settings()
    if settings.scheduler_metrics_port:
        start_http_server(settings.scheduler_metrics_port)
    pool = await connect()
    jobs = build_jobs(settings, pool)
    if settings.scheduler_jobs.strip() != "all":
        wanted = {name.strip() for name in settings.scheduler_jobs.split(",") if name.strip()}
        unknown = wanted - {job.name for job in jobs}
        if unknown:
            raise RuntimeError(f"HUB_SCHEDULER_JOBS names unknown jobs: {', '.join(sorted(unknown))}")
        jobs = [job for job in jobs if job.name in wanted]
    log_event(logger, "ready", jobs=",".join(job.name for job in jobs))
    try:
        while not stop.is_set():
            now = time.monotonic()
            for job in jobs:
                if job.next_run > now or stop.is_set():
                    continue
                job.next_run = now + job.interval_s
                try:
                    result = await run_locked(job.name, job.run)
                except Exception:  # noqa: BLE001  (a failing job must not stop the others; it runs again)
                    logger.exception(f"job {job.name} failed")
                    continue
                if result is not None and getattr(result, "__dict__", None):
                    fields = {k: v for k, v in vars(result).items() if v}
                    if fields:
                        log_event(logger, job.name, **fields)
            next_due = min(job.next_run for job in jobs)
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.05, next_due - time.monotonic()))
            except TimeoutError:
                pass
    finally:
        await pool.aclose()
        await get_engine().dispose()
        log_event(logger, "stopped")


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_scheduler(stop)
