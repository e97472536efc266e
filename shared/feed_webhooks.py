"""Webhook announcements of feed items, through an outbox in PostgreSQL.

``deliver_pending_webhooks(session, now)`` is meant to be called periodically by the scheduler (any
number of replicas: rows are claimed with ``FOR UPDATE SKIP LOCKED``). Each call

1. **enqueues**: for every active webhook, the organisation's feed items that changed after the
   webhook's cursor (the change order of ``shared.feed_items``) become ``webhook_delivery`` rows —
   ``material.approved`` or ``material.withdrawn``, one per (webhook, material, version, event), so a
   repeated pass adds nothing — and the cursor moves on;
2. **sends** what is due: a POST of the item as JSON, signed with the webhook's secret
   (``X-Hub-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``), with ``X-Hub-Event`` and
   ``X-Hub-Delivery`` (stable across retries, for the receiver to deduplicate). A 2xx marks the row
   delivered; anything else (status, timeout, refused connection) schedules the next attempt with
   exponential backoff, and after ``webhook_max_attempts`` the row is ``failed``.

The caller commits; the claims are held while sending (a few seconds at most, bounded by
``webhook_timeout_s``)."""

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import feed_items
from shared.crypto import decrypt_secret
from shared.feed_items import LinkSigner, Position
from shared.feed_links import link_expiry
from shared.models import WebhookDelivery, WebhookSubscription
from shared.models.enums import WebhookDeliveryStatus, WebhookEvent
from shared.settings import get_settings

log = logging.getLogger("hub.webhooks")
SCHEMA_VERSION = "1"
MAX_ENQUEUE_ROUNDS = 20


@dataclass
class WebhookPass:
    enqueued: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff(attempts: int) -> timedelta:
    settings = get_settings()
    delay = min(settings.webhook_backoff_base_s * 2 ** max(attempts - 1, 0), settings.webhook_backoff_max_s)
    return timedelta(seconds=delay)


async def enqueue_announcements(session: AsyncSession, now: datetime) -> int:
    """Put every feed change after each active webhook's cursor in the outbox; returns rows added."""
    batch = get_settings().webhook_batch_size
    connection = await feed_items.driver_connection(session)
    webhooks = (
        await session.exec(
            select(WebhookSubscription)
            .where(col(WebhookSubscription.is_active))
            .order_by(col(WebhookSubscription.id))
            .with_for_update(skip_locked=True)
        )
    ).all()
    added = 0
    for webhook in webhooks:
        topics = await feed_items.topic_filter(connection, webhook.organisation_id)
        cursor = Position(int(webhook.cursor_xid), webhook.cursor_seq)
        for _ in range(MAX_ENQUEUE_ROUNDS):
            rows = await feed_items.changed_items(connection, topics, cursor, batch)
            if not rows:
                break
            values = [
                {
                    "subscription_id": webhook.id,
                    "material_id": row["id"],
                    "material_version": row["version"],
                    "event": (
                        WebhookEvent.material_withdrawn
                        if row["status"] == "withdrawn"
                        else WebhookEvent.material_approved
                    ).value,
                    "status": WebhookDeliveryStatus.pending.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for row in rows
            ]
            result = await session.exec(
                insert(WebhookDelivery)
                .values(values)
                .on_conflict_do_nothing(constraint="uq_webhook_delivery_announcement")
                .returning(col(WebhookDelivery.id))
            )
            added += len(result.all())
            cursor = feed_items.position_of(rows[-1])
            if len(rows) < batch:
                break
        if (cursor.xid, cursor.seq) != (int(webhook.cursor_xid), webhook.cursor_seq):
            webhook.cursor_xid, webhook.cursor_seq = cursor.xid, cursor.seq
    await session.flush()
    return added


async def _payload(
    session: AsyncSession, delivery: WebhookDelivery, organisation_id: int, now: datetime
) -> bytes:
    settings = get_settings()
    connection = await feed_items.driver_connection(session)
    row = await feed_items.material_row(connection, delivery.material_id)
    assert row is not None  # the outbox row would have been deleted with the material (cascade)
    media = await feed_items.media_by_material(connection, [delivery.material_id])
    links = LinkSigner(
        settings.public_base_url,
        settings.resolved_feed_signing_key(),
        link_expiry(now, settings.feed_link_period_s),
    )
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "event": delivery.event,
        "delivery_id": delivery.id,
        "organisation_id": organisation_id,
        "announced_version": delivery.material_version,
        "item": feed_items.item_document(row, media[delivery.material_id], links),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


async def _send(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes
) -> tuple[int | None, str | None]:
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


async def deliver_pending_webhooks(
    session: AsyncSession, now: datetime, *, client: httpx.AsyncClient | None = None
) -> WebhookPass:
    """Enqueue new announcements, then send every due one (see the module's docstring)."""
    settings = get_settings()
    outcome = WebhookPass(enqueued=await enqueue_announcements(session, now))
    due = (
        await session.exec(
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id))
            .where(
                WebhookDelivery.status == WebhookDeliveryStatus.pending.value,
                col(WebhookDelivery.next_attempt_at) <= now,
                col(WebhookSubscription.is_active),
            )
            .order_by(col(WebhookDelivery.id))
            .limit(settings.webhook_batch_size)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
    ).all()
    if not due:
        return outcome
    timestamp = int(now.timestamp())
    requests = []
    for delivery, webhook in due:
        body = await _payload(session, delivery, webhook.organisation_id, now)
        secret = decrypt_secret(webhook.secret)["secret"]
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "regional-content-hub-webhooks/1",
            "X-Hub-Event": delivery.event,
            "X-Hub-Delivery": str(delivery.id),
            "X-Hub-Signature": signature_header(secret, timestamp, body),
        }
        requests.append((delivery, webhook.url, headers, body))
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=settings.webhook_timeout_s, follow_redirects=False)
    try:
        results = await asyncio.gather(
            *(_send(http, url, headers, body) for _, url, headers, body in requests)
        )
    finally:
        if own_client:
            await http.aclose()
    for (delivery, _, _, _), (status_code, error) in zip(requests, results, strict=True):
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = status_code
        delivery.last_error = error
        if error is None:
            delivery.status = WebhookDeliveryStatus.delivered.value
            delivery.delivered_at = now
            outcome.delivered += 1
        elif delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = WebhookDeliveryStatus.failed.value
            outcome.failed += 1
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            outcome.retried += 1
        if error is not None:
            outcome.errors.append(error)
            log.info(
                "webhook.attempt_failed delivery_id=%s subscription_id=%s attempts=%s error=%s",
                delivery.id,
                delivery.subscription_id,
                delivery.attempts,
                error,
            )
    await session.flush()
    return outcome
