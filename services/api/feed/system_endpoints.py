"""What an organisation's system does besides reading: report what it published, receive webhooks;
and how it gets its key."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.api.api_keys.schemas import ApiKeyCreated
from services.api.deps import Principal, SessionDep, require_roles
from services.api.feed import management, reports
from services.api.feed.schemas import (
    FeedKeyCreate,
    ReportCreate,
    ReportedPublication,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryPublic,
    WebhookPublic,
)
from shared.models import Publication, WebhookDelivery, WebhookSubscription
from shared.models.enums import Role

router = APIRouter(prefix="/feed", tags=["feed"])

Reporter = Annotated[Principal, Depends(require_roles(Role.admin, Role.editor, Role.operator, Role.feed))]
FeedKeyIssuer = Annotated[Principal, Depends(require_roles(Role.admin, Role.operator))]
WebhookWriter = Annotated[Principal, Depends(require_roles(Role.admin, Role.editor, Role.operator))]
WebhookReader = Annotated[
    Principal, Depends(require_roles(Role.admin, Role.editor, Role.monitor, Role.operator))
]


@router.post(
    "/publications",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportedPublication,
    responses={200: {"model": ReportedPublication, "description": "Already known: nothing changed"}},
)
async def report_publication(
    data: ReportCreate, session: SessionDep, principal: Reporter, response: Response
) -> Publication:
    """Report that your organisation published a feed item: its `material_id` and the post's `url`.
    The channel is read from the URL (VK `wall-<group>_<post>`, Telegram `t.me/<channel>/<id>`, OK
    `/group/<group>/topic/<id>`) and must be one of your organisation's; give `channel_id` when the URL
    does not name it. The post becomes a `reported` publication; it counts for compliance once the
    scheduler has confirmed it on the network (`confirmed_at`). Reporting the same post again returns
    200 with the same record. Roles: feed and operator keys (their organisation's channels), admin, editor."""
    publication, created = await reports.report_publication(session, principal, data)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return publication


@router.post("/keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def issue_feed_key(data: FeedKeyCreate, session: SessionDep, principal: FeedKeyIssuer) -> ApiKeyCreated:
    """Issue a read-only `feed` key for one organisation's own system (a site, a CMS, a portal): it reads
    that organisation's feed and reports publications, nothing else. The key is shown **once**. Roles:
    admin (names `organisation_id`), operator (for its own organisation)."""
    return await management.issue_feed_key(session, principal, data)


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def create_webhook(
    data: WebhookCreate, session: SessionDep, principal: WebhookWriter
) -> WebhookCreated:
    """Push instead of polling: the hub POSTs a JSON announcement to `url` when an item enters the
    organisation's feed (`material.approved`, also for a new version) or is withdrawn (`material.withdrawn`).
    Each request carries `X-Hub-Event`, `X-Hub-Delivery` (the same on retries: deduplicate on it) and
    `X-Hub-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`. Any 2xx is
    success; anything else is retried with exponential backoff. The `secret` is shown **once**. Roles:
    admin, editor (name `organisation_id`), operator (its own organisation)."""
    return await management.create_webhook(session, principal, data)


@router.get("/webhooks", response_model=list[WebhookPublic])
async def list_webhooks(
    session: SessionDep,
    principal: WebhookReader,
    organisation_id: Annotated[int | None, Query(description="Only this organisation's")] = None,
) -> list[WebhookSubscription]:
    """Registered webhooks (never their secrets). Operators see their organisation's. Roles: admin,
    editor, monitor, operator."""
    return await management.list_webhooks(session, principal, organisation_id)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_webhook(webhook_id: int, session: SessionDep, principal: WebhookWriter) -> Response:
    """Stop a webhook: nothing more is announced to it (its delivery history stays). Roles: admin, editor,
    operator (its own organisation's)."""
    await management.deactivate_webhook(session, principal, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[WebhookDeliveryPublic])
async def list_webhook_deliveries(
    webhook_id: int,
    session: SessionDep,
    principal: WebhookReader,
    limit: Annotated[int, Query(ge=1, le=500, description="Newest first")] = 50,
) -> list[WebhookDelivery]:
    """The webhook's announcements, newest first: status (`pending`, `delivered`, `failed`), attempts,
    the receiver's last status code or error, and when the next attempt is due. Roles: admin, editor,
    monitor, operator (its own organisation's)."""
    return await management.list_deliveries(session, principal, webhook_id, limit)
