from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.crud import apply_update, delete_owned, get_or_404, get_owned_or_404
from services.api.deps import Principal
from services.api.errors import InvalidField
from services.api.pagination import PageParams, paginate
from services.api.people.schemas import PersonCreate, PersonUpdate, ResponsibleListStatus
from shared.calendar import quarter_label, quarter_start
from shared.models import Channel, Organisation, ResponsiblePerson
from shared.models.base import utcnow


async def _check_channel(session: AsyncSession, organisation_id: int, channel_id: int | None) -> None:
    if channel_id is None:
        return
    channel = await session.get(Channel, channel_id)
    if channel is None or channel.organisation_id != organisation_id:
        raise InvalidField(
            "body.channel_id", f"channel {channel_id} is not a channel of organisation {organisation_id}"
        )


async def create_person(session: AsyncSession, principal: Principal, data: PersonCreate) -> ResponsiblePerson:
    principal.ensure_organisation(data.organisation_id)
    if await session.get(Organisation, data.organisation_id) is None:
        raise InvalidField("body.organisation_id", f"organisation {data.organisation_id} does not exist")
    await _check_channel(session, data.organisation_id, data.channel_id)
    person = ResponsiblePerson.model_validate(data.model_dump())
    session.add(person)
    await session.flush()
    # Names and contacts are personal data: the audit keeps only which fields were set.
    audit.record(
        session,
        principal,
        "person.create",
        "responsible_person",
        person.id,
        organisation_id=data.organisation_id,
        changes={"fields": sorted(data.model_fields_set)},
    )
    return person


async def load_person(
    session: AsyncSession, principal: Principal, person_id: int, *, for_update: bool = False
) -> ResponsiblePerson:
    return await get_owned_or_404(session, principal, ResponsiblePerson, person_id, for_update=for_update)


async def update_person(
    session: AsyncSession, principal: Principal, person_id: int, data: PersonUpdate
) -> ResponsiblePerson:
    person = await load_person(session, principal, person_id, for_update=True)
    if "channel_id" in data.model_fields_set:
        await _check_channel(session, person.organisation_id, data.channel_id)
    diff = apply_update(person, data)
    if diff:
        person.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            principal,
            "person.update",
            "responsible_person",
            person_id,
            organisation_id=person.organisation_id,
            changes={"fields": sorted(diff)},
        )
    return person


async def delete_person(session: AsyncSession, principal: Principal, person_id: int) -> None:
    await delete_owned(
        session, principal, ResponsiblePerson, person_id, "responsible_person", "person.delete"
    )


async def confirm_list(
    session: AsyncSession, principal: Principal, organisation_id: int
) -> ResponsibleListStatus:
    """Confirm, as of now, that the organisation's whole list of responsible people is current."""
    principal.ensure_organisation(organisation_id)
    organisation = await get_or_404(session, Organisation, organisation_id)
    now = utcnow()
    result = await session.exec(
        update(ResponsiblePerson)
        .where(col(ResponsiblePerson.organisation_id) == organisation_id)
        .values(confirmed_at=now, updated_at=now)  # type: ignore[call-overload]
    )
    if result.rowcount == 0:
        raise InvalidField("organisation_id", "the list is empty: add the responsible people first")
    audit.record(
        session,
        principal,
        "person.confirm_list",
        "organisation",
        organisation_id,
        organisation_id=organisation_id,
        changes={"people": result.rowcount},
    )
    return (await list_statuses(session, [organisation], now))[0]


async def list_statuses(
    session: AsyncSession, organisations: list[Organisation], now: datetime | None = None
) -> list[ResponsibleListStatus]:
    """The quarter staleness of each organisation's list (Obninsk rule: updated every quarter).

    A list is stale when it is empty, or when any person on it was not confirmed since the start of
    the current quarter in the organisation's own time zone."""
    now = now or utcnow()
    ids = [organisation.id for organisation in organisations]
    rows = (
        await session.exec(
            select(
                ResponsiblePerson.organisation_id,
                func.count(),
                func.min(ResponsiblePerson.confirmed_at),
                func.bool_or(col(ResponsiblePerson.confirmed_at).is_(None)),
            )
            .where(col(ResponsiblePerson.organisation_id).in_(ids))
            .group_by(col(ResponsiblePerson.organisation_id))
        )
    ).all()
    stats = {row[0]: row[1:] for row in rows}
    statuses = []
    for organisation in organisations:
        assert organisation.id is not None
        started = quarter_start(now, organisation.timezone)
        quarter = quarter_label(now, organisation.timezone)
        count, oldest, unconfirmed = stats.get(organisation.id, (0, None, False))
        reason = None
        if count == 0:
            reason = "no responsible people are listed"
        elif unconfirmed:
            reason = "someone on the list was never confirmed"
        elif oldest is not None and oldest < started:
            day = oldest.astimezone(ZoneInfo(organisation.timezone)).date().isoformat()
            reason = f"list last confirmed on {day}, before the current quarter {quarter}"
        statuses.append(
            ResponsibleListStatus(
                organisation_id=organisation.id,
                organisation_name=organisation.name,
                quarter=quarter,
                quarter_started_at=started,
                people=count,
                last_confirmed_at=oldest if not unconfirmed else None,
                stale=reason is not None,
                reason=reason,
            )
        )
    return statuses


async def list_people(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    organisation_id: int | None,
    channel_id: int | None,
) -> tuple[list[ResponsiblePerson], int]:
    query = select(ResponsiblePerson).order_by(col(ResponsiblePerson.id))
    if principal.is_operator:
        query = query.where(ResponsiblePerson.organisation_id == principal.organisation_id)
    if organisation_id is not None:
        query = query.where(ResponsiblePerson.organisation_id == organisation_id)
    if channel_id is not None:
        query = query.where(ResponsiblePerson.channel_id == channel_id)
    return await paginate(session, query, page)
