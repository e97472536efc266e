"""The scheduler's compliance jobs, for the periodic loop in ``services/scheduler/main.py``:

    jobs += [PeriodicJob(name, interval, run) for name, interval, run in compliance_jobs(settings, redis)]

Every job takes the loop's session, is idempotent and commits what it finished."""

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.confirm_reports import confirm_reported
from services.scheduler.observe import observe_ok, observe_vk, poll_telegram
from services.scheduler.reminders import record_midweek_reminders, send_pending_notifications
from shared.adapters.observe_vk import VkWallReader
from shared.adapters.ok import OkAdapter
from shared.adapters.registry import get_adapter, get_telegram_adapter
from shared.compliance_close import close_due_weeks
from shared.models.base import utcnow
from shared.ratelimit import RateLimiter
from shared.settings import Settings

Job = tuple[str, float, Callable[[AsyncSession], Awaitable[object]]]


def compliance_jobs(settings: Settings, redis: Redis | None) -> list[Job]:
    limiter = RateLimiter(redis) if redis is not None and settings.rate_limits_enabled else None
    reader = VkWallReader(settings)

    def ok() -> OkAdapter:
        adapter = get_adapter("ok")
        assert isinstance(adapter, OkAdapter)
        return adapter

    async def observe_vk_job(session: AsyncSession) -> object:
        return await observe_vk(session, utcnow(), limiter=limiter, reader=reader, settings=settings)

    async def observe_ok_job(session: AsyncSession) -> object:
        return await observe_ok(session, utcnow(), limiter=limiter, adapter=ok(), settings=settings)

    async def poll_telegram_job(session: AsyncSession) -> object:
        return await poll_telegram(session, utcnow(), adapter=get_telegram_adapter(), settings=settings)

    async def confirm_job(session: AsyncSession) -> object:
        return await confirm_reported(
            session, utcnow(), reader=reader, ok=ok(), limiter=limiter, settings=settings
        )

    async def close_job(session: AsyncSession) -> object:
        return await close_due_weeks(session, utcnow(), settings)

    async def remind_job(session: AsyncSession) -> object:
        return await record_midweek_reminders(session, utcnow(), settings)

    async def send_job(session: AsyncSession) -> object:
        return await send_pending_notifications(
            session, utcnow(), telegram=get_telegram_adapter(), settings=settings
        )

    return [
        ("observe_vk", settings.observe_interval_s, observe_vk_job),
        ("observe_ok", settings.observe_interval_s, observe_ok_job),
        ("poll_telegram", settings.telegram_poll_interval_s, poll_telegram_job),
        ("confirm_reported", settings.report_confirm_interval_s, confirm_job),
        ("close_compliance_weeks", settings.compliance_close_interval_s, close_job),
        ("record_midweek_reminders", settings.reminder_interval_s, remind_job),
        ("send_notifications", settings.notification_send_interval_s, send_job),
    ]
