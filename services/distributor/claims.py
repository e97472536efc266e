"""Claiming due deliveries in PostgreSQL: the only way a worker gets work.

A claim is one UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) that moves due rows to ``sending``
under a lease, so two workers never hold the same delivery and a crashed worker's rows come back
when their lease expires. A row reclaimed from ``sending`` may already have been posted: the claim
marks it outcome-unknown, and the worker looks for the post before sending again."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

_CLAIM = text("""
UPDATE delivery AS d
SET status = CASE WHEN d.status = 'retracting' THEN 'retracting' ELSE 'sending' END,
    lease_owner = :worker,
    lease_expires_at = :now + make_interval(secs => :lease_s),
    attempts = d.attempts + 1,
    unknown_since = CASE WHEN d.status = 'sending' THEN COALESCE(d.unknown_since, d.attempt_started_at)
                         ELSE d.unknown_since END,
    attempt_started_at = :now,
    updated_at = :now
FROM (
    SELECT d2.id
    FROM delivery AS d2
    JOIN channel AS c ON c.id = d2.channel_id
    WHERE c.status = 'active'
      AND (   (d2.status = 'scheduled' AND d2.next_attempt_at <= :now)
           OR (d2.status = 'sending' AND d2.lease_expires_at < :now)
           OR (d2.status = 'retracting' AND d2.next_attempt_at <= :now
               AND (d2.lease_expires_at IS NULL OR d2.lease_expires_at < :now)))
    ORDER BY d2.urgent DESC, d2.next_attempt_at, d2.id
    LIMIT :limit
    FOR UPDATE OF d2 SKIP LOCKED
) AS due
WHERE d.id = due.id
RETURNING d.id, d.status, d.attempts, d.unknown_since, d.attempt_started_at
""")


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    retract: bool
    attempts: int
    unknown_since: datetime | None
    started_at: datetime


async def claim_due(
    session: AsyncSession, *, worker: str, now: datetime, limit: int, lease_s: int
) -> list[Claim]:
    """Claim up to ``limit`` due deliveries (urgent first). The caller commits, before any network call."""
    rows = (
        await session.execute(_CLAIM, {"worker": worker, "now": now, "lease_s": lease_s, "limit": limit})
    ).all()
    return [
        Claim(
            delivery_id=row[0],
            retract=row[1] == "retracting",
            attempts=row[2],
            unknown_since=row[3],
            started_at=row[4],
        )
        for row in rows
    ]


_RENEW = text("""
UPDATE delivery SET lease_expires_at = CAST(:now AS timestamptz) + make_interval(secs => :lease_s)
WHERE id = ANY(CAST(:ids AS bigint[])) AND lease_owner = :worker AND status IN ('sending', 'retracting')
""")


async def renew_leases(
    session: AsyncSession, *, worker: str, ids: list[int], now: datetime, lease_s: int
) -> None:
    """Extend this worker's leases on deliveries it is still working on."""
    await session.execute(_RENEW, {"worker": worker, "ids": ids, "now": now, "lease_s": lease_s})
    await session.commit()
