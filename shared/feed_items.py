"""What an organisation's feed holds, read straight from PostgreSQL (asyncpg), shared by the feed API
and the webhook outbox.

**Which items**: approved materials and withdrawn ones (flagged, so a consumer can take them down),
whose topics meet one of the organisation's active subscriptions (a subscription without topics takes
everything; an organisation without active subscriptions gets nothing).

**Change order and cursors**: triggers stamp every material change with ``(xid, seq)`` — the writing
transaction's id and a sequence number (``material_change``). Changes are read in that order, but only
those of transactions older than every transaction of this database still running (a long-running
writer delays the feed, it never reorders it): a transaction that started earlier but commits later
can therefore never slip in *behind* a cursor a reader already holds. An item appears once per change:
it shows up again only when it changed after the reader passed it, and an item changed before the
reader reached it appears once, at its new place.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.feed_links import media_url

FEED_STATUSES = ["approved", "withdrawn"]

# Readable in change order: changes of transactions that started writing before every transaction still
# running *in this database* (a running transaction of another database can never write here; one whose
# database is not known any more is counted as ours, to be safe), and the reader's own (tests write and
# read in one transaction).
HORIZON_CTE = """horizon AS (
    SELECT min(x) AS first_running FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE NOT EXISTS (
        SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
          AND l.transactionid::text::bigint = x::text::bigint % 4294967296
          AND a.datname IS DISTINCT FROM current_database()))"""
HORIZON = "(h.first_running IS NULL OR c.xid < h.first_running OR c.xid = pg_current_xact_id_if_assigned())"

MATERIAL_COLUMNS = """m.id, m.version, m.status, m.title, m.body, m.hashtags, m.topics, m.link, m.priority,
    m.week, m.publish_not_before, m.expires_at, m.approved_at, m.withdrawn_at, m.withdrawn_reason,
    m.updated_at, c.xid::text::bigint AS xid, c.seq"""

TOPIC_FILTER = "($2::boolean OR m.topics && $3::varchar[])"

WEEK_ITEMS = f"""
SELECT {MATERIAL_COLUMNS}
FROM material m JOIN material_change c ON c.material_id = m.id
WHERE m.week = $1 AND m.status = ANY($4::varchar[]) AND {TOPIC_FILTER}
ORDER BY (m.priority = 'urgent') DESC, m.approved_at NULLS LAST, m.id
LIMIT $5
"""

CHANGED_ITEMS = f"""
WITH {HORIZON_CTE}
SELECT {MATERIAL_COLUMNS}
FROM material_change c JOIN material m ON m.id = c.material_id CROSS JOIN horizon h
WHERE (c.xid, c.seq) > ($1::text::xid8, $6::bigint) AND {HORIZON}
  AND m.status = ANY($4::varchar[]) AND {TOPIC_FILTER}
ORDER BY c.xid, c.seq
LIMIT $5
"""

WITHHELD_AFTER = f"""
WITH {HORIZON_CTE}
SELECT EXISTS (
    SELECT 1 FROM material_change c CROSS JOIN horizon h
    WHERE (c.xid, c.seq) > ($1::text::xid8, $2::bigint) AND NOT {HORIZON})
"""

HEAD_POSITION = f"""
WITH {HORIZON_CTE}
SELECT c.xid::text::bigint AS xid, c.seq FROM material_change c CROSS JOIN horizon h WHERE {HORIZON}
ORDER BY c.xid DESC, c.seq DESC LIMIT 1
"""

MATERIAL = f"""
SELECT {MATERIAL_COLUMNS}
FROM material m JOIN material_change c ON c.material_id = m.id WHERE m.id = $1
"""

MEDIA = """
SELECT id, material_id, kind, content_type, size_bytes, width, height, sha256
FROM media_asset WHERE material_id = ANY($1::int[]) ORDER BY material_id, position, id
"""

SUBSCRIPTION_TOPICS = "SELECT topics FROM subscription WHERE organisation_id = $1 AND is_active"


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``, inside the session's transaction (started here if it
    was not yet, so the raw statements of this module never run outside it)."""
    connection = await session.connection()
    await connection.execute(text("SELECT 1"))
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return driver


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Position:
    """A place in the change order."""

    xid: int
    seq: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.xid}.{self.seq}".encode()).rstrip(b"=").decode()

    @classmethod
    def decode(cls, cursor: str) -> "Position":
        if cursor == "start":
            return START
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            xid, seq = raw.split(".")
            position = cls(int(xid), int(seq))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursor(f"'{cursor[:40]}' is not a cursor this feed gave out (or 'start')") from exc
        if position.xid < 0 or position.seq < 0:
            raise InvalidCursor("cursor out of range")
        return position


START = Position(0, 0)


@dataclass(frozen=True)
class TopicFilter:
    subscribed: bool
    everything: bool
    topics: list[str]


async def topic_filter(connection: asyncpg.Connection, organisation_id: int) -> TopicFilter:
    rows = await connection.fetch(SUBSCRIPTION_TOPICS, organisation_id)
    everything = any(not row["topics"] for row in rows)
    topics = sorted({topic for row in rows for topic in row["topics"]})
    return TopicFilter(subscribed=bool(rows), everything=everything, topics=topics)


def _filter_args(topics: TopicFilter) -> tuple[bool, list[str]]:
    # No active subscription: the topic list is empty and "everything" is false, so nothing matches.
    return topics.everything, topics.topics


async def week_items(
    connection: asyncpg.Connection, topics: TopicFilter, week: str, limit: int
) -> list[asyncpg.Record]:
    return list(await connection.fetch(WEEK_ITEMS, week, *_filter_args(topics), FEED_STATUSES, limit))


async def changed_items(
    connection: asyncpg.Connection, topics: TopicFilter, after: Position, limit: int
) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            CHANGED_ITEMS, str(after.xid), *_filter_args(topics), FEED_STATUSES, limit, after.seq
        )
    )


async def changes_withheld_after(connection: asyncpg.Connection, after: Position) -> bool:
    """Whether committed changes past ``after`` wait behind a transaction still running."""
    return bool(await connection.fetchval(WITHHELD_AFTER, str(after.xid), after.seq))


async def head_position(connection: asyncpg.Connection) -> Position:
    row = await connection.fetchrow(HEAD_POSITION)
    return START if row is None else Position(row["xid"], row["seq"])


async def material_row(connection: asyncpg.Connection, material_id: int) -> asyncpg.Record | None:
    return await connection.fetchrow(MATERIAL, material_id)


def position_of(row: asyncpg.Record) -> Position:
    return Position(row["xid"], row["seq"])


async def media_by_material(
    connection: asyncpg.Connection, material_ids: list[int]
) -> dict[int, list[asyncpg.Record]]:
    media: dict[int, list[asyncpg.Record]] = {material_id: [] for material_id in material_ids}
    if material_ids:
        for row in await connection.fetch(MEDIA, material_ids):
            media[row["material_id"]].append(row)
    return media


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class LinkSigner:
    base_url: str
    key: bytes
    expires: int

    def media(self, media_id: int) -> str:
        return media_url(self.base_url, self.key, media_id, self.expires)


def item_document(row: asyncpg.Record, media: list[asyncpg.Record], links: LinkSigner) -> dict[str, Any]:
    """One item of the JSON feed (schema 1) — also the ``item`` of webhook announcements."""
    return {
        "id": row["id"],
        "version": row["version"],
        "status": row["status"],
        "withdrawn": row["status"] == "withdrawn",
        "withdrawn_reason": row["withdrawn_reason"],
        "withdrawn_at": iso(row["withdrawn_at"]),
        "urgent": row["priority"] == "urgent",
        "priority": row["priority"],
        "week": row["week"],
        "title": row["title"],
        "body": row["body"],
        "hashtags": list(row["hashtags"]),
        "topics": list(row["topics"]),
        "link": row["link"],
        "publish_not_before": iso(row["publish_not_before"]),
        "expires_at": iso(row["expires_at"]),
        "approved_at": iso(row["approved_at"]),
        "updated_at": iso(row["updated_at"]),
        "media": [
            {
                "id": asset["id"],
                "kind": asset["kind"],
                "content_type": asset["content_type"],
                "size_bytes": asset["size_bytes"],
                "width": asset["width"],
                "height": asset["height"],
                "sha256": asset["sha256"],
                "url": links.media(asset["id"]),
            }
            for asset in media
        ],
    }
