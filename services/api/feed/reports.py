"""Reporting back: an organisation's system says it published a feed item. The report becomes a
``reported`` publication that counts once the compliance scheduler confirms it on the network
(``confirmed_at``); reporting the same post again changes nothing."""

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.deps import Principal
from services.api.errors import Conflict, Forbidden, InvalidField
from services.api.feed.post_urls import PostAddress, channel_path_name, parse_post_url
from services.api.feed.schemas import ReportCreate
from shared.models import Channel, Material, Publication
from shared.models.enums import MatchMethod, MaterialStatus, PublicationSource, Role

ORGANISATION_BOUND = (Role.operator, Role.feed)


def _names_channel(channel: Channel, address: PostAddress) -> bool:
    if channel.platform != address.platform.value:
        return False
    if channel.external_id in address.channel_ids:
        return True
    if address.channel_name is None:
        return False
    name = address.channel_name.lower()
    return channel.external_id.lower() == f"@{name}" or channel_path_name(channel.url) == name


async def _channel(
    session: AsyncSession, principal: Principal, address: PostAddress, channel_id: int | None
) -> Channel:
    bound = principal.organisation_id if principal.role in ORGANISATION_BOUND else None
    if principal.role in ORGANISATION_BOUND and bound is None:
        raise Forbidden("this key is not bound to an organisation")
    if channel_id is not None:
        channel = await session.get(Channel, channel_id)
        if channel is None or (bound is not None and channel.organisation_id != bound):
            raise InvalidField(
                "body.channel_id", f"channel {channel_id} is not one of your organisation's channels"
            )
        if channel.platform != address.platform.value:
            raise InvalidField(
                "body.url",
                f"the URL is a {address.platform.value} post, channel {channel_id} is on {channel.platform}",
            )
        if (address.channel_ids or address.channel_name) and not _names_channel(channel, address):
            raise InvalidField("body.url", f"the URL names another channel than channel {channel_id}")
        return channel
    query = select(Channel).where(Channel.platform == address.platform.value)
    if bound is not None:
        query = query.where(Channel.organisation_id == bound)
    candidates = [
        channel for channel in (await session.exec(query)).all() if _names_channel(channel, address)
    ]
    if len(candidates) != 1:
        whose = f"organisation {bound}'s" if bound is not None else "a known"
        raise InvalidField("body.url", f"the URL does not name {whose} channel; give channel_id if it is one")
    return candidates[0]


async def report_publication(
    session: AsyncSession, principal: Principal, data: ReportCreate
) -> tuple[Publication, bool]:
    """The reported publication, and whether this call created it (False: it was already known)."""
    try:
        address = parse_post_url(data.url)
    except ValueError as exc:
        raise InvalidField("body.url", str(exc)) from exc
    material = await session.get(Material, data.material_id)
    if material is None or material.status not in (
        MaterialStatus.approved.value,
        MaterialStatus.withdrawn.value,
    ):
        raise InvalidField("body.material_id", f"material {data.material_id} is not a feed item")
    channel = await _channel(session, principal, address, data.channel_id)
    now = datetime.now(UTC)
    inserted = await session.exec(
        insert(Publication)
        .values(
            channel_id=channel.id,
            organisation_id=channel.organisation_id,
            external_post_id=address.post_id,
            url=data.url,
            published_at=data.published_at or now,
            text="",
            has_photo=False,
            has_video=False,
            source=PublicationSource.reported.value,
            material_id=material.id,
            match_method=MatchMethod.reported.value,
            reported_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_publication_channel_id_external_post_id")
        .returning(col(Publication.id))
    )
    new_id = inserted.scalar_one_or_none()
    publication = (
        await session.exec(
            select(Publication)
            .where(Publication.channel_id == channel.id, Publication.external_post_id == address.post_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    if new_id is None:
        if publication.material_id not in (None, material.id):
            raise Conflict(
                f"this post is already recorded with material {publication.material_id}, not {material.id}"
            )
        if publication.material_id is None:
            publication.material_id = material.id
            publication.match_method = MatchMethod.reported.value
        if publication.reported_at is None:
            publication.reported_at = now
        await session.flush()
    audit.record(
        session,
        principal,
        "publication.report",
        "publication",
        publication.id,
        organisation_id=channel.organisation_id,
        changes={"material_id": material.id, "url": data.url, "created": new_id is not None},
    )
    return publication, new_id is not None
