"""Recording sent deliveries in groups: one transaction for many outcomes.

A worker's posts finish at a high rate; writing each in its own transaction costs four database
round trips per post. The recorder gathers what finished within a few milliseconds and writes it in
one UPDATE … FROM unnest(…) and one multi-row INSERT. Callers wait until their row is written, so a
delivery is never reported done before it is. If the process dies with rows still in the buffer,
those deliveries' leases expire, and the next attempt looks for the post before sending again."""

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.adapters.base import PublishedPost
from shared.models.base import utcnow

# One statement (one round trip, no BEGIN/COMMIT): mark the deliveries this worker still leases as
# sent, and record their publications. A delivery whose lease was taken over is left alone.
_RECORD_SENT = text("""
WITH v AS (
    SELECT *
    FROM unnest(CAST(:ids AS bigint[]), CAST(:post_ids AS text[]), CAST(:urls AS text[]),
                CAST(:parts AS text[]), CAST(:published AS timestamptz[]), CAST(:texts AS text[]),
                CAST(:photos AS boolean[]), CAST(:videos AS boolean[]), CAST(:channel_ids AS int[]),
                CAST(:organisation_ids AS int[]), CAST(:material_ids AS int[]))
         AS v(id, post_id, url, parts, published_at, text, has_photo, has_video, channel_id, organisation_id,
              material_id)
), marked AS (
    UPDATE delivery AS d
    SET status = 'sent', external_post_id = v.post_id, post_url = v.url,
        part_ids = string_to_array(v.parts, ','), sent_at = v.published_at, lease_owner = NULL,
        lease_expires_at = NULL, unknown_since = NULL, last_error = NULL, last_error_kind = NULL,
        updated_at = :now
    FROM v
    WHERE d.id = v.id AND d.lease_owner = :worker
    RETURNING d.id
), recorded AS (
    INSERT INTO publication (channel_id, organisation_id, external_post_id, url, published_at, text,
                             has_photo, has_video, source, material_id, match_method, match_score,
                             delivery_id, created_at, updated_at)
    SELECT v.channel_id, v.organisation_id, v.post_id, v.url, v.published_at, v.text, v.has_photo,
           v.has_video, 'distributor', v.material_id, 'post_id', 1.0, v.id, :now, :now
    FROM v JOIN marked ON marked.id = v.id
    ON CONFLICT (channel_id, external_post_id) DO UPDATE
    SET material_id = EXCLUDED.material_id, match_method = 'post_id', match_score = 1.0,
        delivery_id = EXCLUDED.delivery_id, updated_at = EXCLUDED.updated_at
)
SELECT id FROM marked
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
        engine: AsyncEngine,
        worker: str,
        *,
        max_batch: int = 200,
        max_delay_s: float = 0.01,
    ) -> None:
        self.engine = engine
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
        posts = [outcome.post for outcome in outcomes]
        parameters = {
            "now": utcnow(),
            "worker": self.worker,
            "ids": [o.delivery_id for o in outcomes],
            "post_ids": [post.external_post_id for post in posts],
            "urls": [post.url for post in posts],
            "parts": [",".join(post.part_ids or (post.external_post_id,)) for post in posts],
            "published": [post.published_at for post in posts],
            "texts": [post.text for post in posts],
            "photos": [post.has_photo for post in posts],
            "videos": [post.has_video for post in posts],
            "channel_ids": [o.channel_id for o in outcomes],
            "organisation_ids": [o.organisation_id for o in outcomes],
            "material_ids": [o.material_id for o in outcomes],
        }
        try:
            # A single statement is atomic on its own: autocommit saves the BEGIN and COMMIT round trips.
            async with self.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                owned = {row[0] for row in await autocommit.execute(_RECORD_SENT, parameters)}
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
