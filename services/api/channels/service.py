from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.accounts.service import ensure_account_visible
from services.api.channels.schemas import ChannelCreate, ChannelUpdate, check_url
from services.api.crud import apply_update, delete_owned, get_owned_or_404
from services.api.deps import Principal
from services.api.errors import Conflict, Forbidden, InvalidField
from services.api.pagination import PageParams, paginate
from shared.models import Account, Channel, Organisation
from shared.models.base import utcnow
from shared.models.enums import ChannelStatus, Platform


async def _check_account(
    session: AsyncSession, principal: Principal, account_id: int | None, platform: str
) -> None:
    if account_id is None:
        return
    account = await session.get(Account, account_id)
    if account is None:
        raise InvalidField("body.account_id", f"account {account_id} does not exist")
    try:
        ensure_account_visible(principal, account)
    except Forbidden as exc:
        raise InvalidField(
            "body.account_id", "operators may use only their own or the region's shared accounts"
        ) from exc
    if account.platform != platform:
        raise InvalidField(
            "body.account_id", f"account {account_id} is a {account.platform} account, not {platform}"
        )


async def _load_writable(session: AsyncSession, principal: Principal, channel_id: int) -> Channel:
    return await get_owned_or_404(session, principal, Channel, channel_id, for_update=True)


async def create_channel(session: AsyncSession, principal: Principal, data: ChannelCreate) -> Channel:
    principal.ensure_organisation(data.organisation_id)
    if await session.get(Organisation, data.organisation_id) is None:
        raise InvalidField("body.organisation_id", f"organisation {data.organisation_id} does not exist")
    await _check_account(session, principal, data.account_id, data.platform.value)
    duplicate = (
        await session.exec(
            select(Channel.id).where(
                Channel.platform == data.platform.value, Channel.external_id == data.external_id
            )
        )
    ).first()
    if duplicate is not None:
        raise Conflict(
            f"{data.platform.value} page {data.external_id} is already registered as channel {duplicate}"
        )
    channel = Channel.model_validate(data.model_dump())
    session.add(channel)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same page
        raise Conflict(f"{data.platform.value} page {data.external_id} is already registered") from exc
    audit.record(
        session,
        principal,
        "channel.create",
        "channel",
        channel.id,
        organisation_id=channel.organisation_id,
        changes=data.model_dump(mode="json"),
    )
    return channel


async def update_channel(
    session: AsyncSession, principal: Principal, channel_id: int, data: ChannelUpdate
) -> Channel:
    channel = await _load_writable(session, principal, channel_id)
    if data.url is not None:
        try:
            check_url(Platform(channel.platform), data.url)
        except ValueError as exc:
            raise InvalidField("body.url", str(exc)) from exc
    if "account_id" in data.model_fields_set:
        await _check_account(session, principal, data.account_id, channel.platform)
    previous_status = channel.status
    diff = apply_update(channel, data)
    if data.status is not None and data.status != previous_status:
        channel.status_changed_at = utcnow()
        if data.status is ChannelStatus.active and "status_reason" not in data.model_fields_set:
            channel.status_reason = None
    if diff:
        channel.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            principal,
            "channel.update",
            "channel",
            channel_id,
            organisation_id=channel.organisation_id,
            changes=diff,
        )
    return channel


async def delete_channel(session: AsyncSession, principal: Principal, channel_id: int) -> None:
    await delete_owned(session, principal, Channel, channel_id, "channel", "channel.delete")


async def list_channels(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    organisation_id: int | None,
    platform: Platform | None,
    status: ChannelStatus | None,
    account_id: int | None,
) -> tuple[list[Channel], int]:
    query = select(Channel).order_by(col(Channel.id))
    if principal.is_operator:
        query = query.where(Channel.organisation_id == principal.organisation_id)
    if organisation_id is not None:
        query = query.where(Channel.organisation_id == organisation_id)
    if platform is not None:
        query = query.where(Channel.platform == platform.value)
    if status is not None:
        query = query.where(Channel.status == status.value)
    if account_id is not None:
        query = query.where(Channel.account_id == account_id)
    return await paginate(session, query, page)
