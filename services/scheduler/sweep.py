"""The sweep: what the database says must happen next, turned into wake-ups.

- Withdrawn materials: pending deliveries are cancelled, sent ones are queued for retraction.
- Due work (including leases lost to a crashed worker and jobs lost to a Redis flush) wakes enough
  distributor jobs to take it; a wake-up is only a hint, so extra ones cost nothing."""

import math
from dataclasses import dataclass
from datetime import datetime

from arq import ArqRedis
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.planning import due_count
from shared.queue import wake_distributors

MAX_WAKES_PER_SWEEP = 16

_CANCEL_WITHDRAWN = text("""
UPDATE delivery SET status = 'cancelled', last_error = 'material withdrawn', last_error_kind = NULL,
       updated_at = :now
WHERE status IN ('scheduled', 'failed')
  AND material_id IN (SELECT id FROM material WHERE status = 'withdrawn')
""")
_RETRACT_WITHDRAWN = text("""
UPDATE delivery SET status = 'retracting', next_attempt_at = :now, attempts = 0, lease_owner = NULL,
       lease_expires_at = NULL, updated_at = :now
WHERE status = 'sent'
  AND material_id IN (SELECT id FROM material WHERE status = 'withdrawn')
""")


@dataclass(frozen=True)
class SweepResult:
    cancelled: int
    to_retract: int
    due: int
    woken: int


async def sweep(
    session: AsyncSession, pool: ArqRedis | None, now: datetime, *, batch_size: int, bucket: int
) -> SweepResult:
    cancelled = (await session.execute(_CANCEL_WITHDRAWN, {"now": now})).rowcount  # type: ignore[attr-defined]
    to_retract = (await session.execute(_RETRACT_WITHDRAWN, {"now": now})).rowcount  # type: ignore[attr-defined]
    await session.commit()
    due = await due_count(session, now)
    woken = 0
    if due and pool is not None:
        woken = await wake_distributors(pool, min(MAX_WAKES_PER_SWEEP, math.ceil(due / batch_size)), bucket)
    return SweepResult(cancelled=cancelled, to_retract=to_retract, due=due, woken=woken)
