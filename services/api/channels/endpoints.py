from fastapi import APIRouter, Response, status

from services.api.channels import service
from services.api.channels.schemas import ChannelCreate, ChannelPublic, ChannelUpdate
from services.api.crud import get_or_404
from services.api.deps import Reader, RegistryWriter, SessionDep
from services.api.pagination import Page, PageDep
from shared.models import Channel
from shared.models.enums import ChannelStatus, Platform

router = APIRouter(prefix="/channels", tags=["channels"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ChannelPublic)
async def create_channel(data: ChannelCreate, session: SessionDep, principal: RegistryWriter) -> Channel:
    """Register an organisation's official page: a VK community, an OK group or a Telegram channel.
    A page (platform + network id) can be registered once. Roles: admin, editor; operator for its
    own organisation."""
    return await service.create_channel(session, principal, data)


@router.get("", response_model=Page[ChannelPublic])
async def list_channels(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    organisation_id: int | None = None,
    platform: Platform | None = None,
    status: ChannelStatus | None = None,
    account_id: int | None = None,
) -> dict[str, object]:
    """List channels with their status (`active`, `credentials_invalid`, `disabled`) and its reason.
    Operators see their own organisation's channels."""
    items, total = await service.list_channels(
        session,
        principal,
        page,
        organisation_id=organisation_id,
        platform=platform,
        status=status,
        account_id=account_id,
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/{channel_id}", response_model=ChannelPublic)
async def get_channel(channel_id: int, session: SessionDep, principal: Reader) -> Channel:
    """One channel."""
    channel = await get_or_404(session, Channel, channel_id)
    principal.ensure_organisation(channel.organisation_id)
    return channel


@router.patch("/{channel_id}", response_model=ChannelPublic)
async def update_channel(
    channel_id: int, data: ChannelUpdate, session: SessionDep, principal: RegistryWriter
) -> Channel:
    """Change a channel's title, URL, posting account or status. A status other than `active` needs a
    `status_reason`. Roles: admin, editor; operator for its own organisation."""
    return await service.update_channel(session, principal, channel_id, data)


@router.delete("/{channel_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_channel(channel_id: int, session: SessionDep, principal: RegistryWriter) -> Response:
    """Remove a channel registered by mistake (a closed page should rather be `disabled`, which keeps
    its history). Roles: admin, editor; operator for its own organisation."""
    await service.delete_channel(session, principal, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
