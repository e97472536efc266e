from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from services.api.deliveries import service
from services.api.deliveries.schemas import DeliveryPublic, DistributionSummary
from services.api.deps import ContentWriter, Reader, SessionDep
from services.api.pagination import Page, PageDep

router = APIRouter(tags=["distribution"])

StatusFilter = Literal[
    "scheduled", "sending", "sent", "failed", "cancelled", "retracting", "retracted", "waiting_credentials"
]
WEEK = Path(pattern=r"^\d{4}-W\d{2}$", description='ISO week, e.g. "2026-W48"')


@router.get("/deliveries", response_model=Page[DeliveryPublic])
async def list_deliveries(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    material_id: int | None = None,
    channel_id: int | None = None,
    organisation_id: int | None = None,
    week: Annotated[str | None, Query(pattern=r"^\d{4}-W\d{2}$", description="ISO week")] = None,
    status: StatusFilter | None = None,
) -> dict[str, object]:
    """What happened to each material on each channel: status, attempts, the post's URL, the last
    error. Filter by material, channel, organisation, week or status (`waiting_credentials`: held
    because the channel's token or admin right is gone). Operators see their own organisation's."""
    items, total = await service.list_deliveries(
        session,
        principal,
        page,
        material_id=material_id,
        channel_id=channel_id,
        organisation_id=organisation_id,
        week=week,
        status=status,
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/deliveries/{delivery_id}", response_model=DeliveryPublic)
async def get_delivery(delivery_id: int, session: SessionDep, principal: Reader) -> DeliveryPublic:
    """One delivery."""
    return await service.get_delivery(session, principal, delivery_id)


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryPublic)
async def retry_delivery(delivery_id: int, session: SessionDep, principal: ContentWriter) -> DeliveryPublic:
    """Try a failed delivery again now, with a fresh count of attempts (e.g. after fixing the
    material or the channel). Roles: admin, editor."""
    return await service.retry_delivery(session, principal, delivery_id)


@router.get("/distribution/{week}", response_model=DistributionSummary)
async def distribution_summary(
    session: SessionDep, principal: Reader, week: Annotated[str, WEEK]
) -> DistributionSummary:
    """The week's distribution at a glance: planned, sending, sent, failed, waiting on credentials,
    cancelled and retracted deliveries, in total and per network."""
    return await service.week_summary(session, principal, week)
