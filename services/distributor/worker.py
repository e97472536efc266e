"""arq worker settings of the distributor."""

import logging
from typing import Any, ClassVar

from shared.db import get_engine
from shared.logs import log_event
from shared.queue import DISTRIBUTOR_QUEUE, redis_settings
from shared.readiness import check_postgres

logger = logging.getLogger("distributor")


async def ping(ctx: dict[str, Any]) -> str:
    """A job that proves a worker is consuming the queue (used by health checks and tests)."""
    return "pong"


async def startup(ctx: dict[str, Any]) -> None:
    postgres = await check_postgres()
    if postgres != "ok":
        raise RuntimeError(f"PostgreSQL is not reachable: {postgres}")
    log_event(logger, "ready", queue=DISTRIBUTOR_QUEUE)


async def shutdown(ctx: dict[str, Any]) -> None:
    await get_engine().dispose()
    log_event(logger, "stopped")


class WorkerSettings:
    functions: ClassVar[list[Any]] = [ping]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = DISTRIBUTOR_QUEUE
    redis_settings = redis_settings()
    max_jobs = 20
    handle_signals = True
