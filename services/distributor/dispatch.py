"""Turning claimed deliveries into posts: load what each needs, honour the shared rate limits, call
the network's adapter, and record the outcome. Every decision about retrying lives here."""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.distributor import outcomes
from services.distributor.claims import Claim, claim_due, renew_leases
from services.distributor.metrics import DELIVERIES, DELIVERY_SECONDS
from services.distributor.recorder import SentOutcome, SentRecorder
from shared.adapters.base import (
    AdapterError,
    ChannelTarget,
    ErrorKind,
    MediaFile,
    NetworkAdapter,
    PostContent,
    PublishedPost,
)
from shared.crypto import decrypt_secret
from shared.logs import log_event
from shared.models import Account, Channel, Delivery, Material, MediaAsset, Publication
from shared.models.base import utcnow
from shared.models.enums import MaterialStatus, Platform
from shared.ratelimit import Limit, RateLimiter, TooLongWait
from shared.settings import Settings

logger = logging.getLogger("distributor")

RETRACTED_TEXT = "Материал отозван редакцией."
IN_FLIGHT_FACTOR = 2
# Rate-limit refusals with a short retry_after are retried this many times without leaving the worker.
IN_PLACE_RETRIES = 3
# Clocks of the network and ours differ a little: look for an unknown attempt's post this early.
LOOKUP_SKEW = timedelta(seconds=30)


@dataclass
class Job:
    claim: Claim
    delivery: Delivery
    material: Material
    channel: Channel
    target: ChannelTarget | None
    content: PostContent


def rate_limits(settings: Settings, target: ChannelTarget) -> tuple[Limit, ...]:
    """The limits one request of ``target`` uses, paced at ``rate_limit_headroom`` of what the network
    allows: exact pacing lands on the networks' window edges and earns refusals that cost more."""
    if not settings.rate_limits_enabled:
        return ()
    pace = settings.rate_limit_headroom
    if target.platform == Platform.vk.value:
        return (Limit(target.token_key, settings.vk_rate_per_s * pace),)
    if target.platform == Platform.telegram.value:
        return (
            Limit(target.token_key, settings.telegram_rate_per_s * pace),
            Limit(f"telegram-chat:{target.external_id}", settings.telegram_chat_rate_per_min * pace / 60.0),
        )
    return (Limit(target.token_key, settings.ok_rate_per_s * pace),)


class Dispatcher:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        limiter: RateLimiter,
        adapter_for: Callable[[str], NetworkAdapter],
        settings: Settings,
        worker: str,
    ) -> None:
        self.sessions = sessions
        self.limiter = limiter
        self.adapter_for = adapter_for
        self.settings = settings
        self.worker = worker
        # Claimed deliveries waiting for a rate-limit slot are cheap; network calls are not. In flight:
        # up to 2 × delivery_concurrency claimed deliveries; at most delivery_concurrency calls at once.
        self._sending = asyncio.Semaphore(settings.delivery_concurrency)
        self.recorder = SentRecorder(sessions.kw["bind"], worker)
        # Decrypted once per account version (the fingerprint changes when credentials rotate).
        self._credentials: dict[tuple[int, str], dict[str, str]] = {}

    async def run(self, budget_s: float) -> tuple[int, bool]:
        """Claim and deliver due work as a pipeline, keeping up to ``delivery_concurrency`` deliveries
        in flight, until nothing is due or ``budget_s`` is spent. Returns (claimed, more_may_be_due)."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget_s
        in_flight: set[asyncio.Task[None]] = set()
        held: dict[asyncio.Task[None], int] = {}
        renewal = asyncio.create_task(self._renew_leases(held))
        claimed_total = 0
        exhausted = False
        try:
            while True:
                room = IN_FLIGHT_FACTOR * settings.delivery_concurrency - len(in_flight)
                if (
                    not exhausted
                    and loop.time() < deadline
                    and room >= max(1, IN_FLIGHT_FACTOR * settings.delivery_concurrency // 2)
                ):
                    wanted = min(room, settings.delivery_batch_size)
                    async with self.sessions() as session:
                        claims = await claim_due(
                            session,
                            worker=self.worker,
                            now=utcnow(),
                            limit=wanted,
                            lease_s=settings.delivery_lease_s,
                        )
                        jobs = await self._load(session, claims) if claims else []
                        await session.commit()  # claimed before any network call
                    claimed_total += len(claims)
                    exhausted = len(claims) < wanted
                    for job in jobs:
                        task = asyncio.create_task(self._guarded(job))
                        in_flight.add(task)
                        held[task] = job.claim.delivery_id
                if not in_flight:
                    break
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    held.pop(task, None)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            await self.recorder.drain()
            renewal.cancel()
        return claimed_total, not exhausted

    async def _renew_leases(self, held: dict[asyncio.Task[None], int]) -> None:
        """Keep the leases of deliveries still in flight (a slow network or a long rate-limit wait
        must not let another worker take over a delivery this one is sending)."""
        interval = max(self.settings.delivery_lease_s / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            ids = list(held.values())
            if not ids:
                continue
            try:
                async with self.sessions() as session:
                    await renew_leases(
                        session,
                        worker=self.worker,
                        ids=ids,
                        now=utcnow(),
                        lease_s=self.settings.delivery_lease_s,
                    )
            except Exception:  # noqa: BLE001  (the next round tries again; leases are long)
                logger.exception("lease renewal failed")

    async def _guarded(self, job: "Job") -> None:
        try:
            await self._process(job)
        except Exception:  # noqa: BLE001  (one delivery's bug must not stop the others)
            logger.exception("delivery crashed", extra={"fields": {"delivery_id": job.claim.delivery_id}})
            await self._retry(
                job,
                "internal error; see the distributor log",
                ErrorKind.unknown.value,
                self.settings.retry_backoff_base_s,
            )

    async def _load(self, session: AsyncSession, claims: list[Claim]) -> list[Job]:
        ids = [claim.delivery_id for claim in claims]
        rows = (
            await session.exec(
                select(Delivery, Material, Channel, Account)
                .join(Material, col(Material.id) == Delivery.material_id)
                .join(Channel, col(Channel.id) == Delivery.channel_id)
                .outerjoin(Account, col(Account.id) == Channel.account_id)
                .where(col(Delivery.id).in_(ids))
            )
        ).all()
        material_ids = {material.id for _, material, _, _ in rows}
        media = (
            await session.exec(
                select(MediaAsset)
                .where(col(MediaAsset.material_id).in_(material_ids))
                .order_by(col(MediaAsset.position), col(MediaAsset.id))
            )
        ).all()
        media_by_material: dict[int, list[MediaAsset]] = {}
        for asset in media:
            media_by_material.setdefault(asset.material_id, []).append(asset)
        by_id = {claim.delivery_id: claim for claim in claims}
        jobs = []
        for delivery, material, channel, account in rows:
            assert delivery.id is not None
            assert material.id is not None
            target = None
            if account is not None and account.platform == channel.platform:
                assert account.id is not None
                cache_key = (account.id, account.secret_fingerprint)
                credentials = self._credentials.get(cache_key)
                if credentials is None:
                    credentials = decrypt_secret(account.secret)
                    self._credentials[cache_key] = credentials
                target = ChannelTarget(
                    platform=channel.platform,
                    external_id=channel.external_id,
                    credentials=credentials,
                    url=channel.url,
                )
            root = self.settings.media_root
            content = PostContent(
                guid=f"hub-delivery-{delivery.id}",
                title=material.title,
                body=material.body,
                hashtags=tuple(material.hashtags),
                link=material.link,
                media=tuple(
                    MediaFile(
                        kind=asset.kind,
                        path=root / asset.storage_key,
                        content_type=asset.content_type,
                        sha256=asset.sha256,
                        size_bytes=asset.size_bytes,
                        filename=asset.original_filename,
                    )
                    for asset in media_by_material.get(material.id, [])
                ),
            )
            jobs.append(Job(by_id[delivery.id], delivery, material, channel, target, content))
        return jobs

    async def _process(self, job: Job) -> None:
        started = time.perf_counter()
        outcome = await (self._retract(job) if job.claim.retract else self._deliver(job))
        DELIVERIES.labels(job.channel.platform, outcome).inc()
        DELIVERY_SECONDS.labels(job.channel.platform).observe(time.perf_counter() - started)

    async def _deliver(self, job: Job) -> str:
        now = utcnow()
        material = job.material
        if material.status != MaterialStatus.approved.value:
            await self._cancel(job, f"material is {material.status}")
            return "cancelled"
        if material.expires_at is not None and material.expires_at <= now:
            await self._cancel(job, "material expired before it could be posted")
            return "cancelled"
        if job.target is None:
            await self._credentials_lost(
                job, AdapterError(ErrorKind.credentials, "the channel has no posting account for its network")
            )
            return "credentials"
        if self._too_old(job, now) or job.claim.attempts > self.settings.delivery_max_attempts:
            await self._fail(
                job,
                f"gave up after {job.claim.attempts - 1} attempts: {job.delivery.last_error}",
                job.delivery.last_error_kind or ErrorKind.retry.value,
            )
            return "failed"

        adapter = self.adapter_for(job.channel.platform)
        if job.claim.unknown_since is not None:
            found = await self._look_for_earlier_post(job, adapter)
            if found == "wait":
                return "waiting_lookup"
            if isinstance(found, PublishedPost):
                await self._sent(job, found)
                return "sent_found"

        for in_place in range(IN_PLACE_RETRIES + 1):
            try:
                await self.limiter.acquire(*rate_limits(self.settings, job.target))
            except TooLongWait as wait:
                await self._retry(job, str(wait), ErrorKind.retry.value, wait.wait_s, refund=True)
                return "rate_limited"
            try:
                async with self._sending:
                    post = await adapter.publish(job.target, job.content)
            except AdapterError as error:
                # "Too many requests, try in a second" is not worth a trip back through the queue:
                # wait for the slot here (the post was refused, so sending again is safe).
                short = (
                    error.retry_after is not None and error.retry_after <= self.settings.rate_limit_max_wait_s
                )
                if error.kind is ErrorKind.retry and short and in_place < IN_PLACE_RETRIES:
                    DELIVERIES.labels(job.channel.platform, "retry_in_place").inc()
                    for limit in rate_limits(self.settings, job.target)[:1]:
                        await self.limiter.push_back(limit, error.retry_after or 0.0)
                    continue
                return await self._handle_error(job, error)
            await self._sent(job, post)
            return "sent"
        raise AssertionError("unreachable: the last in-place attempt returns")

    async def _look_for_earlier_post(self, job: Job, adapter: NetworkAdapter) -> PublishedPost | str | None:
        """An earlier attempt may have posted: find that post before sending again."""
        assert job.claim.unknown_since is not None
        assert job.target is not None
        since = job.claim.unknown_since - LOOKUP_SKEW
        try:
            found = await adapter.find_published(job.target, job.content, since)
        except AdapterError as error:
            await self._handle_error(job, error)
            return "wait"
        if found is not None:
            return found
        if job.channel.platform != Platform.telegram.value:
            return None  # VK: guid makes the resend safe; OK: the network showed no such topic
        observed = await self._observed_post(job, since)
        if observed is not None:
            return observed
        ready_at = job.claim.unknown_since + timedelta(seconds=self.settings.outcome_lookup_delay_s)
        if utcnow() < ready_at:  # give the collector time to see the post before deciding
            await self._retry(
                job,
                "outcome unknown; waiting for the channel's posts to be observed",
                ErrorKind.unknown.value,
                (ready_at - utcnow()).total_seconds(),
                refund=True,
            )
            return "wait"
        return None

    async def _observed_post(self, job: Job, since: datetime) -> PublishedPost | None:
        title = job.material.title.strip()[:100]
        async with self.sessions() as session:
            publication = (
                await session.exec(
                    select(Publication)
                    .where(
                        Publication.channel_id == job.channel.id,
                        col(Publication.published_at) >= since,
                        col(Publication.text).contains(title),
                        (col(Publication.delivery_id).is_(None))
                        | (col(Publication.delivery_id) == job.delivery.id),
                    )
                    .order_by(col(Publication.published_at))
                    .limit(1)
                )
            ).first()
        if publication is None:
            return None
        return PublishedPost(
            external_post_id=publication.external_post_id,
            url=publication.url,
            published_at=publication.published_at,
            text=publication.text,
            has_photo=publication.has_photo,
            has_video=publication.has_video,
            part_ids=(publication.external_post_id,),
        )

    async def _handle_error(self, job: Job, error: AdapterError) -> str:
        log_event(
            logger,
            "delivery_error",
            logging.WARNING,
            delivery_id=job.delivery.id,
            platform=job.channel.platform,
            kind=error.kind.value,
            code=error.code,
        )
        if error.kind is ErrorKind.credentials:
            await self._credentials_lost(job, error)
            return "credentials"
        if error.kind is ErrorKind.content:
            await self._fail(job, str(error), error.kind.value)
            return "failed"
        if error.kind is ErrorKind.unknown:
            # The post may exist: the next attempt looks for it first (VK's guid makes a resend safe).
            delay = 0.0 if job.channel.platform == Platform.vk.value else self.settings.outcome_lookup_delay_s
            if job.channel.platform == Platform.ok.value:
                delay = min(delay, 5.0)
            await self._retry(
                job,
                str(error),
                error.kind.value,
                delay,
                unknown_since=job.claim.unknown_since or job.claim.started_at,
            )
            return "unknown"
        if error.retry_after and job.target is not None:
            for limit in rate_limits(self.settings, job.target)[:1]:
                await self.limiter.push_back(limit, error.retry_after)
        if job.claim.attempts >= self.settings.delivery_max_attempts or self._too_old(job, utcnow()):
            await self._fail(job, f"gave up after {job.claim.attempts} attempts: {error}", error.kind.value)
            return "failed"
        await self._retry(
            job,
            str(error),
            error.kind.value,
            outcomes.backoff_seconds(self.settings, job.claim.attempts, error.retry_after),
        )
        return "retry"

    def _too_old(self, job: Job, now: datetime) -> bool:
        return now - job.delivery.due_at > timedelta(seconds=self.settings.delivery_max_age_s)

    async def _retract(self, job: Job) -> str:
        now = utcnow()
        delivery = job.delivery
        if job.target is None:
            await self._credentials_lost(
                job, AdapterError(ErrorKind.credentials, "the channel has no posting account")
            )
            return "credentials"
        if delivery.external_post_id is None:
            async with self.sessions() as session:
                await outcomes.record_retracted(
                    session,
                    delivery_id=job.claim.delivery_id,
                    worker=self.worker,
                    channel_id=job.channel.id or 0,
                    external_post_id=None,
                    result="nothing_posted",
                    now=now,
                )
            return "retracted"
        adapter = self.adapter_for(job.channel.platform)
        try:
            await self.limiter.acquire(*rate_limits(self.settings, job.target))
            result = await adapter.retract(
                job.target, delivery.external_post_id, tuple(delivery.part_ids), RETRACTED_TEXT
            )
        except TooLongWait as wait:
            async with self.sessions() as session:
                await outcomes.release_retract(
                    session,
                    delivery_id=job.claim.delivery_id,
                    worker=self.worker,
                    error=str(wait),
                    kind="retry",
                    delay_s=wait.wait_s,
                    now=now,
                    give_up=False,
                )
            return "rate_limited"
        except AdapterError as error:
            if error.kind is ErrorKind.credentials:
                await self._credentials_lost(job, error, keep_status="retracting")
                return "credentials"
            give_up = (
                job.claim.attempts >= self.settings.delivery_max_attempts or error.kind is ErrorKind.content
            )
            async with self.sessions() as session:
                await outcomes.release_retract(
                    session,
                    delivery_id=job.claim.delivery_id,
                    worker=self.worker,
                    error=str(error),
                    kind=error.kind.value,
                    now=now,
                    give_up=give_up,
                    delay_s=outcomes.backoff_seconds(self.settings, job.claim.attempts, error.retry_after),
                )
            return "failed" if give_up else "retry"
        async with self.sessions() as session:
            await outcomes.record_retracted(
                session,
                delivery_id=job.claim.delivery_id,
                worker=self.worker,
                channel_id=job.channel.id or 0,
                external_post_id=delivery.external_post_id,
                result=result,
                now=now,
                part_ids=tuple(delivery.part_ids),
            )
        return "retracted"

    # Outcome helpers: one transaction each.

    async def _sent(self, job: Job, post: PublishedPost) -> None:
        recorded = await self.recorder.record(
            SentOutcome(
                delivery_id=job.claim.delivery_id,
                channel_id=job.channel.id or 0,
                organisation_id=job.channel.organisation_id,
                material_id=job.material.id or 0,
                post=post,
            )
        )
        if not recorded:
            log_event(logger, "lease_lost", logging.WARNING, delivery_id=job.claim.delivery_id)

    async def _retry(
        self,
        job: Job,
        error: str,
        kind: str,
        delay_s: float,
        *,
        unknown_since: datetime | None = None,
        refund: bool = False,
    ) -> None:
        async with self.sessions() as session:
            await outcomes.record_retry(
                session,
                delivery_id=job.claim.delivery_id,
                worker=self.worker,
                error=error,
                kind=kind,
                delay_s=delay_s,
                now=utcnow(),
                unknown_since=unknown_since,
                refund_attempt=refund,
            )

    async def _fail(self, job: Job, reason: str, kind: str) -> None:
        async with self.sessions() as session:
            await outcomes.record_failed(
                session,
                delivery_id=job.claim.delivery_id,
                worker=self.worker,
                reason=reason,
                kind=kind,
                now=utcnow(),
            )

    async def _cancel(self, job: Job, reason: str) -> None:
        async with self.sessions() as session:
            await outcomes.record_cancelled(
                session, delivery_id=job.claim.delivery_id, worker=self.worker, reason=reason, now=utcnow()
            )

    async def _credentials_lost(self, job: Job, error: AdapterError, keep_status: str | None = None) -> None:
        async with self.sessions() as session:
            await outcomes.mark_channel_credentials_invalid(
                session,
                delivery_id=job.claim.delivery_id,
                worker=self.worker,
                channel=job.channel,
                error=error,
                now=utcnow(),
                keep_status=keep_status,
            )
