"""arq worker settings of the distributor. arq only wakes workers: the work itself is claimed from
PostgreSQL, so a lost job, a Redis flush or a crashed worker loses nothing."""

import logging
import os
import socket
import uuid
from typing import Any, ClassVar

from arq import cron
from arq.worker import func
from prometheus_client import start_http_server

from services.distributor.dispatch import Dispatcher
from shared.adapters.registry import get_adapter
from shared.db import get_engine, get_sessionmaker
from shared.logs import log_event
from shared.queue import DISPATCH_FUNCTION, DISTRIBUTOR_QUEUE, redis_settings
from shared.ratelimit import RateLimiter
from shared.readiness import check_postgres
from shared.settings import get_settings

logger = logging.getLogger("distributor")
# One dispatch job keeps claiming batches for at most this long, then yields to other jobs.
DISPATCH_BUDGET_S = 30.0


async def ping(ctx: dict[str, Any]) -> str:
    """A job that proves a worker is consuming the queue (used by health checks and tests)."""
    return "pong"


async def dispatch_due(ctx: dict[str, Any]) -> int:
    """Claim and deliver due work until none is left (or the budget is spent). When there may be
    more, wake another job so other workers join in."""
    dispatcher: Dispatcher = ctx["dispatcher"]
    claimed, more = await dispatcher.run(DISPATCH_BUDGET_S)
    if more:
        await ctx["redis"].enqueue_job(
            DISPATCH_FUNCTION, _job_id=f"dispatch:more:{uuid.uuid4().hex}", _queue_name=DISTRIBUTOR_QUEUE
        )
    if claimed:
        log_event(logger, "dispatched", deliveries=claimed)
    return claimed


async def startup(ctx: dict[str, Any]) -> None:
    postgres = await check_postgres()
    if postgres != "ok":
        raise RuntimeError(f"PostgreSQL is not reachable: {postgres}")
    settings = get_settings()
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    ctx["dispatcher"] = Dispatcher(
        sessions=get_sessionmaker(),
        limiter=RateLimiter(ctx["redis"], max_wait_s=settings.rate_limit_max_wait_s),
        adapter_for=get_adapter,
        settings=settings,
        worker=worker_id,
    )
    if settings.distributor_metrics_port:
        start_http_server(settings.distributor_metrics_port)
    log_event(logger, "ready", queue=DISTRIBUTOR_QUEUE, worker=worker_id)


async def shutdown(ctx: dict[str, Any]) -> None:
    await get_engine().dispose()
    log_event(logger, "stopped")


class WorkerSettings:
    functions: ClassVar[list[Any]] = [ping, func(dispatch_due, keep_result=0, max_tries=1)]
    # A safety net beside the scheduler's sweep: every worker looks for due work twice a minute.
    cron_jobs: ClassVar[list[Any]] = [
        cron(
            dispatch_due,
            second={0, 30},
            unique=False,
            keep_result=0,  # type: ignore[arg-type]
            run_at_startup=True,
        )
    ]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = DISTRIBUTOR_QUEUE
    redis_settings = redis_settings()
    max_jobs = 4
    job_timeout = 300
    handle_signals = True
