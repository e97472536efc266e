"""Recording sent deliveries in groups: one transaction for many outcomes.

A worker's posts finish at a high rate; writing each in its own transaction costs four database
round trips per post. The recorder gathers what finished within a few milliseconds and writes it in
one UPDATE … FROM unnest(…) and one multi-row INSERT. Callers wait until their row is written, so a
delivery is never reported done before it is. If the process dies with rows still in the buffer,
those deliveries' leases expire, and the next attempt looks for the post before sending again."""

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.adapters.base import PublishedPost
from shared.models.base import utcnow

_MARK_SENT = text("""
UPDATE delivery AS d
SET status = 'sent', external_post_id = v.post_id, post_url = v.url, part_ids = string_to_array(v.parts, ','),
    sent_at = v.published_at, lease_owner = NULL, lease_expires_at = NULL, unknown_since = NULL,
    last_error = NULL, last_error_kind = NULL, updated_at = :now
FROM unnest(CAST(:ids AS bigint[]), CAST(:post_ids AS text[]), CAST(:urls AS text[]), CAST(:parts AS text[]),
            CAST(:published AS timestamptz[])) AS v(id, post_id, url, parts, published_at)
WHERE d.id = v.id AND d.lease_owner = :worker
RETURNING d.id
""")
_RECORD_PUBLICATIONS = text("""
INSERT INTO publication (channel_id, organisation_id, external_post_id, url, published_at, text, has_photo,
                         has_video, source, material_id, match_method, match_score, delivery_id, created_at,
                         updated_at)
SELECT v.channel_id, v.organisation_id, v.post_id, v.url, v.published_at, v.text, v.has_photo, v.has_video,
       'distributor', v.material_id, 'post_id', 1.0, v.delivery_id, :now, :now
FROM unnest(CAST(:channel_ids AS int[]), CAST(:organisation_ids AS int[]), CAST(:post_ids AS text[]),
            CAST(:urls AS text[]), CAST(:published AS timestamptz[]), CAST(:texts AS text[]),
            CAST(:photos AS boolean[]), CAST(:videos AS boolean[]), CAST(:material_ids AS int[]),
            CAST(:delivery_ids AS bigint[]))
     AS v(channel_id, organisation_id, post_id, url, published_at, text, has_photo, has_video, material_id,
          delivery_id)
ON CONFLICT (channel_id, external_post_id) DO UPDATE
SET material_id = EXCLUDED.material_id, match_method = 'post_id', match_score = 1.0,
    delivery_id = EXCLUDED.delivery_id, updated_at = EXCLUDED.updated_at
""")


@dataclass(frozen=True)
class SentOutcome:
    delivery_id: int
    channel_id: int
    organisation_id: int
    material_id: int
    post: PublishedPost


class SentRecorder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        worker: str,
        *,
        max_batch: int = 200,
        max_delay_s: float = 0.01,
    ) -> None:
        self.sessions = sessions
        self.worker = worker
        self.max_batch = max_batch
        self.max_delay_s = max_delay_s
        self._pending: list[tuple[SentOutcome, asyncio.Future[bool]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def record(self, outcome: SentOutcome) -> bool:
        """Write the outcome (grouped with others); False when this worker no longer held the lease."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        if len(self._pending) >= self.max_batch:
            self._flush_now()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.max_delay_s, self._flush_now)
        return await future

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.create_task(self._write(batch))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _write(self, batch: list[tuple[SentOutcome, asyncio.Future[bool]]]) -> None:
        outcomes = [outcome for outcome, _ in batch]
        now = utcnow()
        try:
            async with self.sessions() as session:
                posts = [outcome.post for outcome in outcomes]
                marked = await session.execute(
                    _MARK_SENT,
                    {
                        "now": now,
                        "worker": self.worker,
                        "ids": [outcome.delivery_id for outcome in outcomes],
                        "post_ids": [post.external_post_id for post in posts],
                        "urls": [post.url for post in posts],
                        "parts": [",".join(post.part_ids or (post.external_post_id,)) for post in posts],
                        "published": [post.published_at for post in posts],
                    },
                )
                owned = {row[0] for row in marked}
                mine = [outcome for outcome in outcomes if outcome.delivery_id in owned]
                if mine:
                    await session.execute(
                        _RECORD_PUBLICATIONS,
                        {
                            "now": now,
                            "channel_ids": [o.channel_id for o in mine],
                            "organisation_ids": [o.organisation_id for o in mine],
                            "post_ids": [o.post.external_post_id for o in mine],
                            "urls": [o.post.url for o in mine],
                            "published": [o.post.published_at for o in mine],
                            "texts": [o.post.text for o in mine],
                            "photos": [o.post.has_photo for o in mine],
                            "videos": [o.post.has_video for o in mine],
                            "material_ids": [o.material_id for o in mine],
                            "delivery_ids": [o.delivery_id for o in mine],
                        },
                    )
                await session.commit()
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            raise
        for outcome, future in batch:
            if not future.done():
                future.set_result(outcome.delivery_id in owned)

    async def drain(self) -> None:
        """Write whatever is buffered and wait for every write in progress."""
        self._flush_now()
        if self._flushes:
            await asyncio.gather(*list(self._flushes), return_exceptions=True)
