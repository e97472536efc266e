from fastapi import APIRouter, Response, status

from services.api.deps import Reader, RegistryWriter, SessionDep
from services.api.pagination import Page, PageDep
from services.api.subscriptions import service
from services.api.subscriptions.schemas import SubscriptionCreate, SubscriptionPublic, SubscriptionUpdate
from shared.models import Subscription
from shared.models.enums import SubscriptionMode

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionPublic)
async def create_subscription(
    data: SubscriptionCreate, session: SessionDep, principal: RegistryWriter
) -> Subscription:
    """Subscribe an organisation to regional materials: which topics (all by default), on which of its
    channels (all by default), `auto` (the hub posts for it) or `feed` (its own system pulls), how
    many items a week to auto-post (default 3, the regulations' minimum) and the local posting window.
    Roles: admin, editor; operator for its own organisation."""
    return await service.create_subscription(session, principal, data)


@router.get("", response_model=Page[SubscriptionPublic])
async def list_subscriptions(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    organisation_id: int | None = None,
    mode: SubscriptionMode | None = None,
    is_active: bool | None = None,
) -> dict[str, object]:
    """List subscriptions. Operators see their own organisation's."""
    items, total = await service.list_subscriptions(
        session, principal, page, organisation_id=organisation_id, mode=mode, is_active=is_active
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
async def get_subscription(subscription_id: int, session: SessionDep, principal: Reader) -> Subscription:
    """One subscription."""
    return await service.load_subscription(session, principal, subscription_id)


@router.patch("/{subscription_id}", response_model=SubscriptionPublic)
async def update_subscription(
    subscription_id: int, data: SubscriptionUpdate, session: SessionDep, principal: RegistryWriter
) -> Subscription:
    """Change a subscription. Roles: admin, editor; operator for its own organisation."""
    return await service.update_subscription(session, principal, subscription_id, data)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_subscription(
    subscription_id: int, session: SessionDep, principal: RegistryWriter
) -> Response:
    """End a subscription. Roles: admin, editor; operator for its own organisation."""
    await service.delete_subscription(session, principal, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
