from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.crud import apply_update, get_or_404
from services.api.deps import Principal
from services.api.errors import InvalidField
from services.api.organisations.schemas import OrganisationCreate, OrganisationUpdate
from services.api.pagination import PageParams, paginate
from shared.models import Organisation
from shared.models.enums import OrganisationKind


async def _check_parent(session: AsyncSession, organisation_id: int | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    if await session.get(Organisation, parent_id) is None:
        raise InvalidField("body.parent_id", f"organisation {parent_id} does not exist")
    # Walk up from the new parent: meeting ourselves would make a cycle.
    current: int | None = parent_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current == organisation_id:
            raise InvalidField("body.parent_id", "an organisation cannot be its own ancestor")
        seen.add(current)
        parent = await session.get(Organisation, current)
        current = parent.parent_id if parent else None


async def create_organisation(
    session: AsyncSession, principal: Principal, data: OrganisationCreate
) -> Organisation:
    await _check_parent(session, None, data.parent_id)
    organisation = Organisation.model_validate(data.model_dump())
    session.add(organisation)
    await session.flush()
    audit.record(
        session,
        principal,
        "organisation.create",
        "organisation",
        organisation.id,
        organisation_id=organisation.id,
        changes=data.model_dump(mode="json"),
    )
    return organisation


async def update_organisation(
    session: AsyncSession, principal: Principal, organisation_id: int, data: OrganisationUpdate
) -> Organisation:
    organisation = await get_or_404(session, Organisation, organisation_id, for_update=True)
    if "parent_id" in data.model_fields_set:
        await _check_parent(session, organisation_id, data.parent_id)
    diff = apply_update(organisation, data)
    if diff:
        await session.flush()
        audit.record(
            session,
            principal,
            "organisation.update",
            "organisation",
            organisation_id,
            organisation_id=organisation_id,
            changes=diff,
        )
    return organisation


async def list_organisations(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    region: str | None,
    kind: OrganisationKind | None,
    parent_id: int | None,
    is_active: bool | None,
    q: str | None,
) -> tuple[list[Organisation], int]:
    query = select(Organisation).order_by(col(Organisation.id))
    if principal.is_operator:
        query = query.where(Organisation.id == principal.organisation_id)
    if region is not None:
        query = query.where(Organisation.region == region)
    if kind is not None:
        query = query.where(Organisation.kind == kind.value)
    if parent_id is not None:
        query = query.where(Organisation.parent_id == parent_id)
    if is_active is not None:
        query = query.where(Organisation.is_active == is_active)
    if q:
        query = query.where(col(Organisation.name).ilike(f"%{q}%"))
    return await paginate(session, query, page)
