"""The scheduler process: connects to PostgreSQL and Redis, runs its periodic jobs, stops on SIGTERM."""

import asyncio
import logging
import signal

from shared.db import get_engine
from shared.logs import log_event
from shared.readiness import check_postgres, check_redis

logger = logging.getLogger("scheduler")


async def run_scheduler(stop: asyncio.Event) -> None:
    for name, check in (("postgres", check_postgres), ("redis", check_redis)):
        status = await check()
        if status != "ok":
            raise RuntimeError(f"{name} is not reachable: {status}")
    log_event(logger, "ready")
    try:
        await stop.wait()
    finally:
        await get_engine().dispose()
        log_event(logger, "stopped")


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_scheduler(stop)
