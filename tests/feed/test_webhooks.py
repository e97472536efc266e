import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.feed_webhooks import deliver_pending_webhooks
from shared.models import Material, WebhookDelivery
from shared.models.enums import Role
from tests.factories import make_key
from tests.feed.helpers import approved, feed_organisation
from tests.feed.receiver import webhook_receiver


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(part.split("=", 1) for part in headers["x-hub-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


async def test_webhook_announces_new_and_withdrawn_items_signed_and_retried_with_backoff(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session, topics=["культура"])
    operator = await make_key(session, Role.operator, org.id)
    with webhook_receiver(statuses=[503]) as receiver:
        created = await client.post("/api/v1/feed/webhooks", json={"url": receiver.url}, headers=operator)
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        listed = await client.get("/api/v1/feed/webhooks", headers=operator)
        assert secret not in listed.text

        item = await approved(session, topics=["культура"])
        await approved(session, topics=["спорт"])  # not subscribed: never announced
        now = datetime.now(UTC)
        first = await deliver_pending_webhooks(session, now)
        assert (first.enqueued, first.delivered, first.retried) == (1, 0, 1)
        delivery = (await session.exec(select(WebhookDelivery))).one()
        assert delivery.next_attempt_at == now + timedelta(seconds=30)
        assert delivery.last_status_code == 503

        not_yet = await deliver_pending_webhooks(session, now + timedelta(seconds=29))
        assert (not_yet.enqueued, not_yet.delivered) == (0, 0)
        second = await deliver_pending_webhooks(session, now + timedelta(seconds=31))
        assert second.delivered == 1
        assert len(receiver.received) == 2
        retried = receiver.received[1]
        assert retried.headers["x-hub-delivery"] == receiver.received[0].headers["x-hub-delivery"]
        assert retried.headers["x-hub-event"] == "material.approved"
        assert verify_signature(secret, retried.headers, retried.body)
        assert json.loads(retried.body)["item"]["id"] == item.id

        item.status, item.withdrawn_reason, item.version = "withdrawn", "Ошибка в дате", item.version + 1
        session.add(item)
        await session.flush()
        third = await deliver_pending_webhooks(session, now + timedelta(seconds=40))
        assert (third.enqueued, third.delivered) == (1, 1)
        withdrawn = json.loads(receiver.received[2].body)
        assert receiver.received[2].headers["x-hub-event"] == "material.withdrawn"
        assert withdrawn["item"]["withdrawn"] is True

        again = await deliver_pending_webhooks(session, now + timedelta(seconds=50))
        assert (again.enqueued, again.delivered) == (0, 0)
    deliveries = await client.get(
        f"/api/v1/feed/webhooks/{created.json()['id']}/deliveries", headers=operator
    )
    assert [row["status"] for row in deliveries.json()] == ["delivered", "delivered"]
    assert isinstance(await session.get(Material, item.id), Material)
