"""``python -m services.distributor``: run one distributor worker (SIGTERM/SIGINT stop it cleanly)."""

import asyncio
import os

import uvloop
from arq.worker import run_worker

from services.distributor.worker import WorkerSettings
from shared.logs import configure_logging
from shared.settings import get_settings

if __name__ == "__main__":
    os.environ.setdefault("HUB_DATABASE_PRE_PING", "false")
    configure_logging("distributor", get_settings().log_level)
    # uvloop's C transports cut the per-request cost of the many small network and database writes.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    run_worker(WorkerSettings)  # type: ignore[arg-type]
