"""Closing weeks: a configurable time after an organisation's week ends in its own zone, its rows
and evidence are frozen exactly as the live report computed them. Closed figures never change; a
post deleted later shows as a later event next to the frozen evidence (``publication.deleted_at``
after ``compliance_week.closed_at``).

Set-based (INSERT … SELECT from the same SQL as the live report), so closing the country's week
is three statements, and idempotent: an organisation's week is closed at most once."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.calendar import week_label
from shared.compliance import (
    _LIVE_ORGANISATIONS,
    ReportFilters,
    _params,
    _positional,
    live_evidence_sql,
    live_rows_sql,
    prepare,
)
from shared.settings import Settings, get_settings

# How many past weeks the closer looks at (an outage of a few weeks still closes them).
LOOKBACK_WEEKS = 4

_BY_IDS = " AND o.id = ANY(CAST(:organisation_ids AS int[]))"
_DUE = """
SELECT org.id FROM ({live_organisations}) org
JOIN organisation o2 ON o2.id = org.id
WHERE org.we + make_interval(secs => :delay) <= :now AND o2.created_at < org.we
"""


@dataclass(frozen=True)
class CloseResult:
    weeks: int
    organisations: int
    channels: int
    evidence: int


async def close_week(
    session: AsyncSession,
    label: str,
    now: datetime,
    settings: Settings | None = None,
    organisation_ids: list[int] | None = None,
) -> tuple[int, int, int]:
    """Freeze week ``label`` for every organisation whose week ended ``compliance_close_after_s`` ago
    (or for ``organisation_ids`` among them); return (organisations, channel rows, evidence rows)."""
    settings = settings or get_settings()
    connection = await prepare(session, settings)
    base = ReportFilters(organisation_ids=organisation_ids)
    params = _params(label, base, settings, now) | {"delay": settings.compliance_close_after_s}
    query, args = _positional(
        _DUE.format(
            live_organisations=_LIVE_ORGANISATIONS.format(
                org_conditions=" AND o.id = ANY(CAST(:organisation_ids AS int[]))"
                if organisation_ids is not None
                else ""
            )
        ),
        params,
    )
    due = [row[0] for row in await connection.fetch(query, *args)]
    if not due:
        return 0, 0, 0
    filters = ReportFilters(organisation_ids=due)
    params = _params(label, filters, settings, now)
    rows_sql = f"""
    INSERT INTO compliance_week_channel (week, organisation_id, channel_id, platform, channel_status,
        channel_status_since, subscribed, posts, counted, required, met, reason)
    SELECT :week, organisation_id, channel_id, platform, channel_status, channel_status_since, subscribed,
           posts, counted, required, met, reason
    FROM ({live_rows_sql(filters)}) r
    ON CONFLICT (week, channel_id) DO NOTHING
    """
    query, args = _positional(rows_sql, params)
    channels = int((await connection.execute(query, *args)).rsplit(" ", 1)[-1])
    evidence_sql = f"""
    INSERT INTO compliance_evidence (week, organisation_id, channel_id, publication_id, external_post_id, url,
        published_at, source, material_id, match_method, has_media, counted, not_counted_reason)
    SELECT :week, organisation_id, channel_id, publication_id, external_post_id, url, published_at, source,
           material_id, match_method, has_media, not_counted_reason IS NULL, not_counted_reason
    FROM ({live_evidence_sql(filters)}) e
    """
    query, args = _positional(evidence_sql, params)
    evidence = int((await connection.execute(query, *args)).rsplit(" ", 1)[-1])
    weeks_sql = f"""
    INSERT INTO compliance_week (organisation_id, week, week_start, week_end, min_items_per_channel,
        center_min_items, require_media, count_any_post, center_items, closed_at)
    SELECT org.id, :week, org.ws, org.we, org.required, org.center_required, org.require_media,
           org.count_any_post,
           (SELECT count(DISTINCT m.id) FROM subscription s
              JOIN material m ON m.week = :week AND m.status = 'approved'
                             AND (cardinality(s.topics) = 0 OR s.topics && m.topics)
             WHERE s.is_active AND s.organisation_id = org.id),
           :now
    FROM ({_LIVE_ORGANISATIONS.format(org_conditions=_BY_IDS)}) org
    ON CONFLICT (organisation_id, week) DO NOTHING
    """
    query, args = _positional(weeks_sql, params)
    organisations = int((await connection.execute(query, *args)).rsplit(" ", 1)[-1])
    return organisations, channels, evidence


async def close_due_weeks(
    session: AsyncSession, now: datetime, settings: Settings | None = None
) -> CloseResult:
    """The scheduler job: close every organisation's past weeks that are due (oldest first)."""
    settings = settings or get_settings()
    # Serialise closers across processes (the scheduler also holds a job lock; this is belt and braces).
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('compliance_close'))"))
    horizon = now - timedelta(seconds=settings.compliance_close_after_s)
    labels = sorted(
        {week_label(horizon - timedelta(weeks=back), "UTC") for back in range(LOOKBACK_WEEKS + 1)}
    )
    total = [0, 0, 0]
    weeks = 0
    for label in labels:
        closed = await close_week(session, label, now, settings)
        if closed[0]:
            weeks += 1
        total = [a + b for a, b in zip(total, closed, strict=True)]
    return CloseResult(weeks=weeks, organisations=total[0], channels=total[1], evidence=total[2])
