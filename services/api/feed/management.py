"""Feed keys for organisations' systems, and their webhooks."""

import secrets

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.api_keys.schemas import ApiKeyCreated, ApiKeyPublic
from services.api.deps import Principal
from services.api.errors import InvalidField, not_found
from services.api.feed.schemas import FeedKeyCreate, WebhookCreate, WebhookCreated, WebhookPublic
from services.api.security import generate_key
from shared import feed_items
from shared.crypto import encrypt_secret
from shared.models import ApiKey, Organisation, WebhookDelivery, WebhookSubscription
from shared.models.enums import Role

ORGANISATION_BOUND = (Role.operator, Role.feed)


async def _organisation(session: AsyncSession, principal: Principal, requested: int | None) -> int:
    """The organisation a write is for: an operator's own, or the one an admin or editor names."""
    if principal.role in ORGANISATION_BOUND:
        principal.ensure_organisation(requested if requested is not None else principal.organisation_id)
        assert principal.organisation_id is not None
        return principal.organisation_id
    if requested is None:
        raise InvalidField("body.organisation_id", "name the organisation")
    if await session.get(Organisation, requested) is None:
        raise InvalidField("body.organisation_id", f"organisation {requested} does not exist")
    return requested


async def issue_feed_key(session: AsyncSession, principal: Principal, data: FeedKeyCreate) -> ApiKeyCreated:
    organisation_id = await _organisation(session, principal, data.organisation_id)
    new = generate_key()
    key = ApiKey(
        name=data.name,
        role=Role.feed.value,
        organisation_id=organisation_id,
        prefix=new.prefix,
        key_hash=new.key_hash,
    )
    session.add(key)
    await session.flush()
    audit.record(
        session,
        principal,
        "api_key.create",
        "api_key",
        key.id,
        organisation_id=organisation_id,
        changes={"name": data.name, "role": Role.feed.value},
    )
    return ApiKeyCreated(**ApiKeyPublic.model_validate(key).model_dump(), key=new.plaintext)


async def create_webhook(session: AsyncSession, principal: Principal, data: WebhookCreate) -> WebhookCreated:
    """Register a webhook; announcements start with changes after this moment. The secret is shown once."""
    organisation_id = await _organisation(session, principal, data.organisation_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    head = await feed_items.head_position(await feed_items.driver_connection(session))
    webhook = WebhookSubscription(
        organisation_id=organisation_id,
        url=data.url,
        description=data.description,
        secret=encrypt_secret({"secret": secret}),
        cursor_xid=head.xid,
        cursor_seq=head.seq,
        created_by=principal.key_id,
    )
    session.add(webhook)
    await session.flush()
    audit.record(
        session,
        principal,
        "webhook.create",
        "webhook_subscription",
        webhook.id,
        organisation_id=organisation_id,
        changes={"url": data.url},
    )
    return WebhookCreated(**WebhookPublic.model_validate(webhook).model_dump(), secret=secret)


async def visible_webhook(
    session: AsyncSession, principal: Principal, webhook_id: int
) -> WebhookSubscription:
    webhook = await session.get(WebhookSubscription, webhook_id)
    if webhook is None or (
        principal.role in ORGANISATION_BOUND and webhook.organisation_id != principal.organisation_id
    ):
        raise not_found("Webhook", webhook_id)
    return webhook


async def list_webhooks(
    session: AsyncSession, principal: Principal, organisation_id: int | None
) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    if principal.role in ORGANISATION_BOUND:
        query = query.where(WebhookSubscription.organisation_id == principal.organisation_id)
    elif organisation_id is not None:
        query = query.where(WebhookSubscription.organisation_id == organisation_id)
    return list((await session.exec(query)).all())


async def deactivate_webhook(session: AsyncSession, principal: Principal, webhook_id: int) -> None:
    webhook = await visible_webhook(session, principal, webhook_id)
    if webhook.is_active:
        webhook.is_active = False
        await session.flush()
        audit.record(
            session,
            principal,
            "webhook.deactivate",
            "webhook_subscription",
            webhook_id,
            organisation_id=webhook.organisation_id,
        )


async def list_deliveries(
    session: AsyncSession, principal: Principal, webhook_id: int, limit: int
) -> list[WebhookDelivery]:
    await visible_webhook(session, principal, webhook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == webhook_id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())
