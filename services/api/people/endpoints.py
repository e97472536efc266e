from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import col, select

from services.api.crud import get_or_404
from services.api.deps import Reader, RegistryWriter, SessionDep
from services.api.pagination import Page, PageDep, paginate
from services.api.people import service
from services.api.people.schemas import PersonCreate, PersonPublic, PersonUpdate, ResponsibleListStatus
from shared.models import Organisation, ResponsiblePerson

router = APIRouter(tags=["responsible people"])


@router.post("/people", status_code=status.HTTP_201_CREATED, response_model=PersonPublic)
async def create_person(
    data: PersonCreate, session: SessionDep, principal: RegistryWriter
) -> ResponsiblePerson:
    """Add a person responsible for an organisation's pages (or for one page, with `channel_id`).
    A new person is unconfirmed until the list is confirmed. Roles: admin, editor; operator for its
    own organisation."""
    return await service.create_person(session, principal, data)


@router.get("/people", response_model=Page[PersonPublic])
async def list_people(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    organisation_id: int | None = None,
    channel_id: int | None = None,
) -> dict[str, object]:
    """List responsible people. Operators see their own organisation's."""
    items, total = await service.list_people(
        session, principal, page, organisation_id=organisation_id, channel_id=channel_id
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/people/{person_id}", response_model=PersonPublic)
async def get_person(person_id: int, session: SessionDep, principal: Reader) -> ResponsiblePerson:
    """One responsible person."""
    return await service.load_person(session, principal, person_id)


@router.patch("/people/{person_id}", response_model=PersonPublic)
async def update_person(
    person_id: int, data: PersonUpdate, session: SessionDep, principal: RegistryWriter
) -> ResponsiblePerson:
    """Change a person's details. Roles: admin, editor; operator for its own organisation."""
    return await service.update_person(session, principal, person_id, data)


@router.delete("/people/{person_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_person(person_id: int, session: SessionDep, principal: RegistryWriter) -> Response:
    """Remove a person from the list. Roles: admin, editor; operator for its own organisation."""
    await service.delete_person(session, principal, person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/organisations/{organisation_id}/responsible-list", response_model=ResponsibleListStatus)
async def get_responsible_list_status(
    organisation_id: int, session: SessionDep, principal: Reader
) -> ResponsibleListStatus:
    """Whether the organisation's list of responsible people was confirmed this quarter (in its own
    time zone). A list not confirmed within the current quarter is **stale**."""
    principal.ensure_organisation(organisation_id)
    organisation = await get_or_404(session, Organisation, organisation_id)
    return (await service.list_statuses(session, [organisation]))[0]


@router.post(
    "/organisations/{organisation_id}/responsible-list/confirm", response_model=ResponsibleListStatus
)
async def confirm_responsible_list(
    organisation_id: int, session: SessionDep, principal: RegistryWriter
) -> ResponsibleListStatus:
    """Confirm that the organisation's list is current; do it once a quarter. Roles: admin, editor;
    operator for its own organisation."""
    return await service.confirm_list(session, principal, organisation_id)


@router.get("/responsible-lists", response_model=Page[ResponsibleListStatus])
async def list_responsible_list_statuses(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    region: str | None = None,
    stale: Annotated[
        bool | None, Query(description="Only stale (true) or only current (false) lists")
    ] = None,
) -> dict[str, object]:
    """Quarter staleness of every active organisation's list, for monitoring. Operators see their own."""
    query = select(Organisation).where(col(Organisation.is_active)).order_by(col(Organisation.id))
    if principal.is_operator:
        query = query.where(Organisation.id == principal.organisation_id)
    if region is not None:
        query = query.where(Organisation.region == region)
    if stale is None:
        organisations, total = await paginate(session, query, page)
        return {
            "items": await service.list_statuses(session, organisations),
            "total": total,
            "limit": page.limit,
            "offset": page.offset,
        }
    # Staleness depends on each organisation's zone, so filter after computing it.
    everything = list((await session.exec(query)).all())
    statuses = [item for item in await service.list_statuses(session, everything) if item.stale is stale]
    return {
        "items": statuses[page.offset : page.offset + page.limit],
        "total": len(statuses),
        "limit": page.limit,
        "offset": page.offset,
    }
