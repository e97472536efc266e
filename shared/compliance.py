"""Weekly compliance, computed in PostgreSQL in one aggregate per request.

A channel's week is the ISO week in its organisation's zone. A publication counts when it was
published in that week, was not deleted before the week ended, is not an unconfirmed report, carries
photo or video when the rule asks for it, and is regional content (matched to a material) unless the
rule accepts any post. The same material posted twice on a channel counts once.

While an organisation's week is not closed its rows are computed live; once closed
(``shared.compliance_close``) they are read from the frozen snapshot, so they never change.

The report runs on asyncpg directly (no ORM rows): at country scale it returns 450,000 rows and
the per-row cost of anything above the driver would dominate the query itself."""

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.settings import Settings, get_settings

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
# Widest UTC offsets in use (UTC+14, UTC-12): the global window that contains every zone's week.
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)

REASONS = {
    "credentials_invalid": "channel credentials invalid since {since}",
    "not_subscribed": "not subscribed",
    "no_posts": "no posts",
    "posts_without_media": "posts without media",
    "too_few_posts": "too few posts",
}
REASONS_RU = {
    "credentials_invalid": "доступ к каналу утрачен с {since}",
    "not_subscribed": "нет подписки на региональный контент",
    "no_posts": "нет публикаций",
    "posts_without_media": "публикации без фото или видео",
    "too_few_posts": "недостаточно публикаций",
}
NOT_COUNTED_RU = {
    "deleted": "удалена в течение недели",
    "unconfirmed": "сообщение не подтверждено",
    "no_media": "нет фото или видео",
    "not_regional": "не региональный материал",
    "duplicate_material": "повтор того же материала",
}


def week_monday(label: str) -> date:
    """Monday of ISO week ``label`` ("2026-W48"); ValueError when it is not a real ISO week."""
    found = WEEK_PATTERN.match(label)
    if not found:
        raise ValueError(f"'{label}' is not an ISO week like 2026-W48")
    try:
        return date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        raise ValueError(f"'{label}' is not an ISO week like 2026-W48") from None


def shift_week(label: str, weeks: int) -> str:
    year, week, _ = (week_monday(label) + timedelta(weeks=weeks)).isocalendar()
    return f"{year}-W{week:02d}"


def global_window(label: str) -> tuple[datetime, datetime]:
    """[lo, hi) in UTC containing the week ``label`` in every time zone (lets indexes prune)."""
    monday = datetime.combine(week_monday(label), time(0, 0), tzinfo=UTC)
    return monday - _EARLIEST_OFFSET, monday + timedelta(days=7) + _LATEST_OFFSET


@dataclass(frozen=True)
class ReportFilters:
    organisation_ids: list[int] | None = None
    region: str | None = None
    platform: str | None = None
    met: bool | None = None
    channel_ids: list[int] | None = None
    # One page of the report: organisations with ids in [first, last] (a range, not an id list: the
    # planner estimates a range well, while ``= ANY`` of thousands of ids misleads it into nested loops).
    organisation_id_first: int | None = None
    organisation_id_last: int | None = None


def _positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``:name`` placeholders to asyncpg's ``$n`` (``::casts`` are left alone)."""
    order: list[str] = []

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    converted = re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", replace, sql)
    return converted, [params[name] for name in order]


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session (same transaction)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection  # type: ignore[return-value]


async def prepare(session: AsyncSession, settings: Settings | None = None) -> asyncpg.Connection:
    """Open the session's transaction (through SQLAlchemy, so it owns it) with the report's planner
    settings, and return the asyncpg connection under it. The country's report aggregates 2 million
    rows: with the default 4 MB ``work_mem`` every hash spills to disk, and JIT compilation costs
    more than it saves on a query planned afresh each time."""
    settings = settings or get_settings()
    await session.execute(text(f"SET LOCAL work_mem = '{int(settings.compliance_work_mem_mb)}MB'"))
    await session.execute(text("SET LOCAL jit = off"))
    return await driver_connection(session)


async def fetch(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[asyncpg.Record]:
    query, args = _positional(sql, params)
    return await (await prepare(session)).fetch(query, *args)  # type: ignore[no-any-return]


def _org_conditions(filters: ReportFilters, alias: str = "o") -> str:
    parts = []
    if filters.organisation_ids is not None:
        parts.append(f"{alias}.id = ANY(CAST(:organisation_ids AS int[]))")
    if filters.region is not None:
        parts.append(f"{alias}.region = :region")
    if filters.organisation_id_first is not None:
        parts.append(f"{alias}.id >= :organisation_id_first")
    if filters.organisation_id_last is not None:
        parts.append(f"{alias}.id <= :organisation_id_last")
    return "".join(f" AND {part}" for part in parts)


def _channel_conditions(filters: ReportFilters, alias: str = "c") -> str:
    parts = []
    if filters.platform is not None:
        parts.append(f"{alias}.platform = :platform")
    if filters.channel_ids is not None:
        parts.append(f"{alias}.id = ANY(CAST(:channel_ids AS int[]))")
    return "".join(f" AND {part}" for part in parts)


def _params(label: str, filters: ReportFilters, settings: Settings, now: datetime) -> dict[str, Any]:
    lo, hi = global_window(label)
    params: dict[str, Any] = {
        "week": label,
        "monday": week_monday(label),
        "lo": lo,
        "hi": hi,
        "now": now,
        "d_min": settings.compliance_min_items_per_channel,
        "d_center": settings.center_weekly_quota,
        "d_media": settings.compliance_require_media,
        "d_any": settings.compliance_count_any_post,
    }
    if filters.organisation_ids is not None:
        params["organisation_ids"] = filters.organisation_ids
    if filters.region is not None:
        params["region"] = filters.region
    if filters.platform is not None:
        params["platform"] = filters.platform
    if filters.channel_ids is not None:
        params["channel_ids"] = filters.channel_ids
    if filters.met is not None:
        params["met"] = filters.met
    if filters.organisation_id_first is not None:
        params["organisation_id_first"] = filters.organisation_id_first
    if filters.organisation_id_last is not None:
        params["organisation_id_last"] = filters.organisation_id_last
    return params


# Organisations whose week is live (not closed), with their week's bounds and the rule that applies:
# the organisation's override, else the region's default, else the settings' defaults.
_LIVE_ORGANISATIONS = """
SELECT o.id, o.name, o.region, o.timezone,
       (CAST(:monday AS date)::timestamp AT TIME ZONE o.timezone) AS ws,
       ((CAST(:monday AS date) + 7)::timestamp AT TIME ZONE o.timezone) AS we,
       COALESCE(ro.min_items_per_channel, rr.min_items_per_channel, :d_min) AS required,
       COALESCE(ro.center_min_items, rr.center_min_items, :d_center) AS center_required,
       COALESCE(ro.require_media, rr.require_media, :d_media) AS require_media,
       COALESCE(ro.count_any_post, rr.count_any_post, :d_any) AS count_any_post
FROM organisation o
LEFT JOIN compliance_rule ro ON ro.organisation_id = o.id
LEFT JOIN compliance_rule rr ON rr.region = o.region AND rr.organisation_id IS NULL
WHERE o.is_active {org_conditions}
  AND NOT EXISTS (SELECT 1 FROM compliance_week w WHERE w.organisation_id = o.id AND w.week = :week)
"""

# One row per channel of a live organisation, from the publications that stand at the week's end;
# the rule picks which counts apply.
_LIVE_ROWS = """
WITH org AS NOT MATERIALIZED ({live_organisations}),
per_channel AS (
    -- Distinct materials (the same material twice counts once) and own posts, with and without media.
    SELECT p.channel_id, count(*)::int AS posts,
           count(DISTINCT p.material_id)::int AS regional,
           count(DISTINCT p.material_id) FILTER (WHERE p.has_photo OR p.has_video)::int AS regional_media,
           count(*) FILTER (WHERE p.material_id IS NULL)::int AS own,
           count(*) FILTER (WHERE p.material_id IS NULL AND (p.has_photo OR p.has_video))::int AS own_media
    FROM publication p JOIN org ON org.id = p.organisation_id
    WHERE p.published_at >= :lo AND p.published_at < :hi
      AND p.published_at >= org.ws AND p.published_at < org.we
      AND (p.deleted_at IS NULL OR p.deleted_at >= org.we)
      AND (p.source <> 'reported' OR p.confirmed_at IS NOT NULL)
    GROUP BY p.channel_id
),
sub_all AS (
    SELECT DISTINCT s.organisation_id FROM subscription s JOIN org ON org.id = s.organisation_id
    WHERE s.is_active AND cardinality(s.channel_ids) = 0
),
sub_channel AS (
    SELECT DISTINCT unnest(s.channel_ids) AS channel_id
    FROM subscription s JOIN org ON org.id = s.organisation_id
    WHERE s.is_active AND cardinality(s.channel_ids) > 0
),
-- The center's figure: approved materials of the week the organisation's subscriptions offer.
-- Worked out per distinct topic set (a handful), then per organisation: subscriptions with one topic
-- set take its count; only organisations with several different sets need the distinct union.
org_sub AS (
    SELECT s.organisation_id, count(*) AS subscriptions, min(s.topics) AS topics,
           min(s.topics) = max(s.topics) AS one_set
    FROM subscription s JOIN org ON org.id = s.organisation_id
    WHERE s.is_active GROUP BY s.organisation_id
),
set_item AS (
    SELECT t.topics, m.id FROM (SELECT DISTINCT s.topics FROM subscription s WHERE s.is_active) t
    JOIN material m ON m.week = :week AND m.status = 'approved'
                   AND (cardinality(t.topics) = 0 OR t.topics && m.topics)
),
set_count AS (SELECT topics, count(*)::int AS items FROM set_item GROUP BY topics),
center AS (
    SELECT os.organisation_id, COALESCE(sc.items, 0) AS items
    FROM org_sub os LEFT JOIN set_count sc ON sc.topics = os.topics WHERE os.one_set
    UNION ALL
    SELECT s.organisation_id, count(DISTINCT si.id)::int
    FROM org_sub os JOIN subscription s ON s.organisation_id = os.organisation_id AND s.is_active
    JOIN set_item si ON si.topics = s.topics
    WHERE NOT os.one_set
    GROUP BY s.organisation_id
),
counted AS (
    SELECT org.id AS organisation_id, org.name AS organisation_name, org.region, org.timezone,
           org.ws, org.we, c.id AS channel_id, c.platform, c.title AS channel_title, c.url AS channel_url,
           c.status AS channel_status,
           CASE WHEN c.status = 'active' THEN NULL ELSE c.status_changed_at END AS channel_status_since,
           (sa.organisation_id IS NOT NULL OR sc.channel_id IS NOT NULL) AS subscribed,
           COALESCE(pc.posts, 0) AS posts,
           CASE WHEN org.require_media
                THEN COALESCE(pc.regional_media, 0)
                     + CASE WHEN org.count_any_post THEN COALESCE(pc.own_media, 0) ELSE 0 END
                ELSE COALESCE(pc.regional, 0)
                     + CASE WHEN org.count_any_post THEN COALESCE(pc.own, 0) ELSE 0 END
           END AS counted,
           COALESCE(pc.regional, 0) + CASE WHEN org.count_any_post THEN COALESCE(pc.own, 0) ELSE 0 END
               AS counted_ignoring_media,
           org.required, COALESCE(ce.items, 0) AS center_items, org.center_required,
           org.require_media, org.count_any_post
    FROM org
    JOIN channel c ON c.organisation_id = org.id AND c.status IN ('active', 'credentials_invalid')
                  AND c.created_at < org.we {channel_conditions}
    LEFT JOIN per_channel pc ON pc.channel_id = c.id
    LEFT JOIN sub_all sa ON sa.organisation_id = org.id
    LEFT JOIN sub_channel sc ON sc.channel_id = c.id
    LEFT JOIN center ce ON ce.organisation_id = org.id
)
SELECT organisation_id, organisation_name, region, timezone, ws AS week_start, we AS week_end,
       channel_id, platform, channel_title, channel_url, channel_status, channel_status_since, subscribed,
       posts, counted, required, counted >= required AS met,
       CASE WHEN counted >= required THEN NULL
            WHEN channel_status = 'credentials_invalid' AND channel_status_since < we
                THEN 'credentials_invalid'
            WHEN NOT subscribed AND counted = 0 THEN 'not_subscribed'
            WHEN posts = 0 THEN 'no_posts'
            WHEN require_media AND counted_ignoring_media > counted THEN 'posts_without_media'
            ELSE 'too_few_posts' END AS reason,
       center_items, center_required, center_items >= center_required AS center_met,
       require_media, count_any_post,
       CASE WHEN :now < we THEN 'in_progress' ELSE 'ended' END AS state, NULL::timestamptz AS closed_at
FROM counted
"""

# The same rows for a few thousand organisations (a region, a page, one organisation): organisations
# first, then each one's channels, publications and subscriptions through their indexes. The
# country-wide form above hashes whole tables, which costs ~0.5 s even when 3,000 organisations are
# asked for. ``OFFSET 0`` keeps each lateral subquery a per-organisation index lookup (the planner
# would otherwise flatten it into a hash join over every channel).
_LIVE_ROWS_NARROW = """
WITH org AS MATERIALIZED ({live_organisations}),
counted AS (
    SELECT org.id AS organisation_id, org.name AS organisation_name, org.region, org.timezone,
           org.ws, org.we, c.id AS channel_id, c.platform, c.title AS channel_title, c.url AS channel_url,
           c.status AS channel_status,
           CASE WHEN c.status = 'active' THEN NULL ELSE c.status_changed_at END AS channel_status_since,
           EXISTS (SELECT 1 FROM subscription s
                   WHERE s.organisation_id = org.id AND s.is_active
                     AND (cardinality(s.channel_ids) = 0 OR c.id = ANY(s.channel_ids))) AS subscribed,
           pc.posts,
           CASE WHEN org.require_media
                THEN pc.regional_media + CASE WHEN org.count_any_post THEN pc.own_media ELSE 0 END
                ELSE pc.regional + CASE WHEN org.count_any_post THEN pc.own ELSE 0 END
           END AS counted,
           pc.regional + CASE WHEN org.count_any_post THEN pc.own ELSE 0 END AS counted_ignoring_media,
           org.required, ce.items AS center_items, org.center_required,
           org.require_media, org.count_any_post
    FROM org
    CROSS JOIN LATERAL (
        SELECT count(DISTINCT m.id)::int AS items
        FROM subscription s JOIN material m ON m.week = :week AND m.status = 'approved'
             AND (cardinality(s.topics) = 0 OR s.topics && m.topics)
        WHERE s.is_active AND s.organisation_id = org.id
    ) ce
    CROSS JOIN LATERAL (
        SELECT c.* FROM channel c
        WHERE c.organisation_id = org.id AND c.status IN ('active', 'credentials_invalid')
          AND c.created_at < org.we {channel_conditions}
        OFFSET 0
    ) c
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS posts,
               count(DISTINCT p.material_id)::int AS regional,
               count(DISTINCT p.material_id) FILTER (WHERE p.has_photo OR p.has_video)::int AS regional_media,
               count(*) FILTER (WHERE p.material_id IS NULL)::int AS own,
               count(*) FILTER (WHERE p.material_id IS NULL AND (p.has_photo OR p.has_video))::int
                   AS own_media
        FROM publication p
        WHERE p.channel_id = c.id AND p.published_at >= org.ws AND p.published_at < org.we
          AND (p.deleted_at IS NULL OR p.deleted_at >= org.we)
          AND (p.source <> 'reported' OR p.confirmed_at IS NOT NULL)
    ) pc
)
"""

_CLOSED_ROWS = """
SELECT o.id AS organisation_id, o.name AS organisation_name, o.region, o.timezone,
       w.week_start, w.week_end, c.id AS channel_id, c.platform, c.title AS channel_title,
       c.url AS channel_url, f.channel_status, f.channel_status_since, f.subscribed, f.posts, f.counted,
       f.required, f.met, f.reason, w.center_items, w.center_min_items AS center_required,
       w.center_items >= w.center_min_items AS center_met, w.require_media, w.count_any_post,
       'closed' AS state, w.closed_at
FROM compliance_week w
JOIN organisation o ON o.id = w.organisation_id
JOIN compliance_week_channel f ON f.organisation_id = w.organisation_id AND f.week = w.week
JOIN channel c ON c.id = f.channel_id
WHERE w.week = :week {org_conditions} {channel_conditions}
"""

REPORT_FIELDS = (
    "organisation_id",
    "organisation_name",
    "region",
    "timezone",
    "week_start",
    "week_end",
    "channel_id",
    "platform",
    "channel_title",
    "channel_url",
    "channel_status",
    "channel_status_since",
    "subscribed",
    "posts",
    "counted",
    "required",
    "met",
    "reason",
    "center_items",
    "center_required",
    "center_met",
    "require_media",
    "count_any_post",
    "state",
    "closed_at",
)


def live_rows_sql(filters: ReportFilters, *, narrow: bool = False) -> str:
    """The live rows; ``narrow`` for a few thousand organisations at most (see ``_LIVE_ROWS_NARROW``)."""
    organisations = _LIVE_ORGANISATIONS.format(org_conditions=_org_conditions(filters))
    channel_conditions = _channel_conditions(filters)
    if narrow:
        rows_select = _LIVE_ROWS[_LIVE_ROWS.index("\nSELECT organisation_id, organisation_name") :]
        return (
            _LIVE_ROWS_NARROW.format(live_organisations=organisations, channel_conditions=channel_conditions)
            + rows_select
        )
    return _LIVE_ROWS.format(live_organisations=organisations, channel_conditions=channel_conditions)


def report_sql(
    filters: ReportFilters,
    *,
    include_closed: bool = True,
    include_live: bool = True,
    ordered: bool = True,
    narrow: bool = False,
) -> str:
    parts = [live_rows_sql(filters, narrow=narrow)] if include_live else []
    if include_closed:
        channel_conditions = _channel_conditions(filters, "f").replace("f.id", "f.channel_id")
        parts.append(
            _CLOSED_ROWS.format(
                org_conditions=_org_conditions(filters), channel_conditions=channel_conditions
            )
        )
    sql = "SELECT * FROM (" + "\nUNION ALL\n".join(f"({part})" for part in parts) + ") r"
    if filters.met is not None:
        sql += " WHERE r.met = :met"
    return sql + (" ORDER BY r.organisation_id, r.channel_id" if ordered else "")


async def week_report(
    session: AsyncSession,
    label: str,
    filters: ReportFilters | None = None,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> list[asyncpg.Record]:
    """Every (organisation, channel) row of week ``label``, live or frozen, ordered by ids."""
    filters = filters or ReportFilters()
    settings = settings or get_settings()
    return await fetch(
        session, report_sql(filters), _params(label, filters, settings, now or datetime.now(UTC))
    )


def reason_text(
    reason: str | None, since: datetime | None, timezone: str, *, russian: bool = False
) -> str | None:
    """The reason a channel fell short, for people (``since`` in the organisation's zone)."""
    if reason is None:
        return None
    template = (REASONS_RU if russian else REASONS).get(reason, reason)
    if "{since}" in template:
        from zoneinfo import ZoneInfo

        local = since.astimezone(ZoneInfo(timezone)) if since else None
        return template.format(since=local.strftime("%Y-%m-%d %H:%M") if local else "?")
    return template


# The evidence: every publication of the organisations' weeks, whether it counted and why not.
_LIVE_EVIDENCE = """
WITH org AS NOT MATERIALIZED ({live_organisations}),
pub AS (
    SELECT p.id, p.organisation_id, p.channel_id, p.external_post_id, p.url, p.published_at, p.source,
           p.material_id, p.match_method, p.match_score, (p.has_photo OR p.has_video) AS has_media,
           p.deleted_at, p.confirmed_at,
           CASE WHEN p.deleted_at IS NOT NULL AND p.deleted_at < org.we THEN 'deleted'
                WHEN p.source = 'reported' AND p.confirmed_at IS NULL THEN 'unconfirmed'
                WHEN org.require_media AND NOT (p.has_photo OR p.has_video) THEN 'no_media'
                WHEN p.material_id IS NULL AND NOT org.count_any_post THEN 'not_regional'
           END AS excluded
    FROM publication p JOIN org ON org.id = p.organisation_id
    JOIN channel c ON c.id = p.channel_id {channel_conditions}
    WHERE p.published_at >= :lo AND p.published_at < :hi
      AND p.published_at >= org.ws AND p.published_at < org.we
)
SELECT id AS publication_id, organisation_id, channel_id, external_post_id, url, published_at, source,
       material_id, match_method, match_score, has_media, deleted_at, confirmed_at,
       CASE WHEN excluded IS NULL AND row_number() OVER (
                PARTITION BY channel_id, COALESCE(material_id, -id)
                ORDER BY (excluded IS NULL) DESC, published_at, id) > 1
            THEN 'duplicate_material' ELSE excluded END AS not_counted_reason
FROM pub
"""

_CLOSED_EVIDENCE = """
SELECT e.publication_id, e.organisation_id, e.channel_id, e.external_post_id, e.url, e.published_at, e.source,
       e.material_id, e.match_method, NULL::float8 AS match_score, e.has_media, p.deleted_at,
       NULL::timestamptz AS confirmed_at, e.not_counted_reason
FROM compliance_evidence e
JOIN compliance_week w ON w.organisation_id = e.organisation_id AND w.week = e.week
JOIN organisation o ON o.id = e.organisation_id
LEFT JOIN publication p ON p.id = e.publication_id
WHERE e.week = :week {org_conditions} {channel_conditions}
"""


def live_evidence_sql(filters: ReportFilters) -> str:
    organisations = _LIVE_ORGANISATIONS.format(org_conditions=_org_conditions(filters))
    return _LIVE_EVIDENCE.format(
        live_organisations=organisations, channel_conditions=_channel_conditions(filters)
    )


async def week_evidence(
    session: AsyncSession,
    label: str,
    filters: ReportFilters,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> list[asyncpg.Record]:
    """The publications behind the week's numbers (counted ones have ``not_counted_reason`` NULL).
    For a closed week: the frozen evidence, with ``deleted_at`` as it is now (a later event)."""
    settings = settings or get_settings()
    closed = _CLOSED_EVIDENCE.format(
        org_conditions=_org_conditions(filters),
        channel_conditions=_channel_conditions(filters, "e")
        .replace("e.id", "e.channel_id")
        .replace("e.platform", "(SELECT platform FROM channel WHERE id = e.channel_id)"),
    )
    sql = (
        f"SELECT * FROM (({live_evidence_sql(filters)}) UNION ALL ({closed})) r "
        "ORDER BY r.organisation_id, r.channel_id, r.published_at, r.publication_id"
    )
    return await fetch(session, sql, _params(label, filters, settings, now or datetime.now(UTC)))


async def center_evidence(session: AsyncSession, label: str, organisation_id: int) -> list[asyncpg.Record]:
    """The week's approved materials the organisation's subscriptions offer it (the center's figure)."""
    sql = """
    SELECT DISTINCT m.id AS material_id, m.title, m.link, m.priority, m.approved_at
    FROM subscription s JOIN material m ON m.week = :week AND m.status = 'approved'
         AND (cardinality(s.topics) = 0 OR s.topics && m.topics)
    WHERE s.is_active AND s.organisation_id = :organisation_id
    ORDER BY m.id
    """
    return await fetch(session, sql, {"week": label, "organisation_id": organisation_id})


_SUMMARY = """
WITH r AS ({report}),
per_org AS (
    SELECT organisation_id, bool_and(met) AS all_met, bool_and(center_met) AS center_met,
           count(*) AS channels, count(*) FILTER (WHERE met) AS channels_met
    FROM r GROUP BY organisation_id
),
reasons AS (SELECT reason, count(*)::int AS n FROM r WHERE reason IS NOT NULL GROUP BY reason)
SELECT count(*)::int AS organisations,
       (count(*) FILTER (WHERE all_met))::int AS organisations_met,
       (count(*) FILTER (WHERE center_met))::int AS organisations_center_met,
       COALESCE(sum(channels), 0)::int AS channels,
       COALESCE(sum(channels_met), 0)::int AS channels_met,
       (SELECT COALESCE(jsonb_object_agg(reason, n), '{{}}'::jsonb)::text FROM reasons) AS reasons
FROM per_org
"""


# The frozen rows a summary needs (no channel join: the summary counts, it does not name channels).
_CLOSED_SUMMARY_ROWS = """
SELECT w.organisation_id, f.met, f.reason, w.center_items >= w.center_min_items AS center_met
FROM compliance_week w
JOIN organisation o ON o.id = w.organisation_id
JOIN compliance_week_channel f ON f.organisation_id = w.organisation_id AND f.week = w.week
WHERE w.week = :week {org_conditions} {channel_conditions}
"""


def summary_rows_sql(filters: ReportFilters, *, include_live: bool = True, narrow: bool = False) -> str:
    """(organisation_id, met, reason, center_met) of the week's rows, live and frozen."""
    closed = _CLOSED_SUMMARY_ROWS.format(
        org_conditions=_org_conditions(filters),
        channel_conditions=_channel_conditions(filters, "f").replace("f.id", "f.channel_id"),
    )
    parts = [
        f"SELECT organisation_id, met, reason, center_met FROM ({live_rows_sql(filters, narrow=narrow)}) l"
    ]
    parts = (parts if include_live else []) + [closed]
    sql = "SELECT * FROM (" + "\nUNION ALL\n".join(f"({part})" for part in parts) + ") r"
    return sql + (" WHERE r.met = :met" if filters.met is not None else "")


async def week_summary(
    session: AsyncSession,
    label: str,
    filters: ReportFilters | None = None,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> asyncpg.Record:
    """Counts of organisations and channels meeting each rule in week ``label`` (live or frozen)."""
    filters = filters or ReportFilters()
    settings = settings or get_settings()
    params = _params(label, filters, settings, now or datetime.now(UTC))
    # A region or a few organisations: the narrow form (a region's six-week trend in well under 300 ms).
    narrow = filters.region is not None or filters.organisation_ids is not None
    # A past week whose organisations are all closed reads only the frozen rows (no live query).
    live_sql = _LIVE_ORGANISATIONS.format(org_conditions=_org_conditions(filters))
    # (A count, not EXISTS: EXISTS plans for an early first row and scans every organisation.)
    live = (await fetch(session, f"SELECT count(*) FROM ({live_sql}) l", params))[0][0] > 0
    sql = _SUMMARY.format(report=summary_rows_sql(filters, narrow=narrow, include_live=live))
    rows = await fetch(session, sql, params)
    return rows[0]


def _local_iso_sql(column: str) -> str:
    """``column`` (timestamptz) as ISO 8601 in the row's organisation's zone (2026-11-23T00:00:00+10:00)."""
    offset = f"extract(epoch FROM ({column} AT TIME ZONE timezone) - ({column} AT TIME ZONE 'UTC'))::int"
    return (
        f"to_char({column} AT TIME ZONE timezone, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN {offset} < 0 THEN '-' ELSE '+' END "
        f"|| lpad((abs({offset}) / 3600)::text, 2, '0') || ':' "
        f"|| lpad((abs({offset}) % 3600 / 60)::text, 2, '0')"
    )


_REASON_SQL = """CASE reason
    WHEN 'credentials_invalid' THEN 'channel credentials invalid since '
        || COALESCE(to_char(channel_status_since AT TIME ZONE timezone, 'YYYY-MM-DD HH24:MI'), '?')
    WHEN 'not_subscribed' THEN 'not subscribed' WHEN 'no_posts' THEN 'no posts'
    WHEN 'posts_without_media' THEN 'posts without media' WHEN 'too_few_posts' THEN 'too few posts' END"""


def report_json_sql(filters: ReportFilters) -> str:
    """One page of the report with each row rendered as a JSON object by PostgreSQL (plus ``met``):
    the API only joins the rows, so a page costs the query plus the transfer, not a Python object
    per row. A page holds at most 5,000 organisations, so it takes the narrow form (the page's
    organisations first, then their channels, publications and subscriptions through indexes)."""
    fields = [
        f"'{name}', {name}" for name in REPORT_FIELDS if name not in ("week_start", "week_end", "reason")
    ]
    fields += [
        "'week_start', week_start_iso",
        "'week_end', week_end_iso",
        "'reason_code', reason",
        f"'reason', {_REASON_SQL}",
    ]
    # The week's bounds in each zone are rendered once per (zone, bounds) — a dozen — not per row.
    return f"""
    WITH r AS MATERIALIZED ({report_sql(filters, narrow=True, ordered=False)}),
    z AS (
        SELECT timezone AS z_timezone, week_start AS z_week_start, week_end AS z_week_end,
               {_local_iso_sql("week_start")} AS week_start_iso, {_local_iso_sql("week_end")} AS week_end_iso
        FROM (SELECT DISTINCT timezone, week_start, week_end FROM r) b
    )
    SELECT json_build_object({", ".join(fields)})::text AS row, r.met
    FROM r JOIN z ON z_timezone = timezone AND z_week_start = week_start AND z_week_end = week_end
    ORDER BY r.organisation_id, r.channel_id
    """


@dataclass(frozen=True)
class ReportPage:
    """Which organisations a page of the report covers, and where the next page starts."""

    filters: ReportFilters
    organisations: int
    next_after: int | None


async def report_page(
    session: AsyncSession, filters: ReportFilters, *, after: int, limit: int
) -> ReportPage | None:
    """The next ``limit`` organisations (by id, after ``after``) that the filters select, as a range
    filter; None when there are none. ``next_after`` is None on the last page."""
    sql = (
        "SELECT o.id FROM organisation o WHERE o.id > :after"
        f"{_org_conditions(filters)} ORDER BY o.id LIMIT :limit"
    )
    params: dict[str, Any] = {"after": after, "limit": limit}
    if filters.organisation_ids is not None:
        params["organisation_ids"] = filters.organisation_ids
    if filters.region is not None:
        params["region"] = filters.region
    ids = [row[0] for row in await fetch(session, sql, params)]
    if not ids:
        return None
    page = replace(filters, organisation_id_first=ids[0], organisation_id_last=ids[-1])
    return ReportPage(page, len(ids), ids[-1] if len(ids) == limit else None)


async def week_report_json(
    session: AsyncSession,
    label: str,
    filters: ReportFilters | None = None,
    *,
    after: int = 0,
    limit: int = 500,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> bytes:
    """One page of the week's report as the API's JSON body: the rows of up to ``limit``
    organisations with ids above ``after`` (``{"week", "after", "limit", "organisations",
    "next_after", "channels", "channels_met", "rows"}``; ``next_after`` is null on the last page)."""
    filters = filters or ReportFilters()
    settings = settings or get_settings()
    page = await report_page(session, filters, after=after, limit=limit)
    rows: list[asyncpg.Record] = []
    if page is not None:
        query, args = _positional(
            report_json_sql(page.filters),
            _params(label, page.filters, settings, now or datetime.now(UTC)),
        )
        connection = await prepare(session, settings)
        rows = await connection.fetch(query, *args)
    met = sum(1 for row in rows if row[1])
    next_after = "null" if page is None or page.next_after is None else str(page.next_after)
    head = (
        f'{{"week":"{label}","after":{after},"limit":{limit},'
        f'"organisations":{page.organisations if page else 0},"next_after":{next_after},'
        f'"channels":{len(rows)},"channels_met":{met},"rows":['
    )
    return (head + ",".join([row[0] for row in rows]) + "]}").encode()
