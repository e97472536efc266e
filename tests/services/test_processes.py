"""Each service process starts, connects, says it is ready, and stops cleanly on SIGTERM."""

import signal

from arq.jobs import Job

from shared.queue import connect
from tests.processes import start, wait_for_line


def test_scheduler_starts_reports_ready_and_stops_on_sigterm(migrated_database: None) -> None:
    process = start("services.scheduler")
    try:
        wait_for_line(process, "scheduler ready")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert process.stdout is not None
        assert "scheduler stopped" in process.stdout.read()
    finally:
        process.kill()


async def test_distributor_consumes_the_queue_and_stops_on_sigterm(migrated_database: None) -> None:
    process = start("services.distributor")
    pool = await connect()
    try:
        wait_for_line(process, "distributor ready")
        job = await pool.enqueue_job("ping", _queue_name="hub:distributor")
        assert isinstance(job, Job)
        assert await job.result(timeout=15) == "pong"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        await pool.aclose()
        process.kill()


def test_distributor_refuses_to_start_without_postgres(migrated_database: None) -> None:
    process = start(
        "services.distributor", env={"HUB_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"}
    )
    try:
        assert process.wait(timeout=30) != 0
        assert process.stdout is not None
        assert "PostgreSQL is not reachable" in process.stdout.read()
    finally:
        process.kill()
