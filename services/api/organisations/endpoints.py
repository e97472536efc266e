from typing import Annotated

from fastapi import APIRouter, Query, status

from services.api.crud import get_or_404
from services.api.deps import ContentWriter, Reader, SessionDep
from services.api.organisations import service
from services.api.organisations.schemas import OrganisationCreate, OrganisationPublic, OrganisationUpdate
from services.api.pagination import Page, PageDep
from shared.models import Organisation
from shared.models.enums import OrganisationKind

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganisationPublic)
async def create_organisation(
    data: OrganisationCreate, session: SessionDep, principal: ContentWriter
) -> Organisation:
    """Register an organisation (executive body, municipality, subordinate organisation).

    Its IANA `timezone` is required: every week of its compliance is counted in it. Roles: admin, editor."""
    return await service.create_organisation(session, principal, data)


@router.get("", response_model=Page[OrganisationPublic])
async def list_organisations(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    region: Annotated[str | None, Query(description="Exact region name")] = None,
    kind: OrganisationKind | None = None,
    parent_id: int | None = None,
    is_active: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name, case-insensitive")] = None,
) -> dict[str, object]:
    """List organisations, filtered. An operator key sees only its own organisation."""
    items, total = await service.list_organisations(
        session, principal, page, region=region, kind=kind, parent_id=parent_id, is_active=is_active, q=q
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/{organisation_id}", response_model=OrganisationPublic)
async def get_organisation(organisation_id: int, session: SessionDep, principal: Reader) -> Organisation:
    """One organisation. Operators may read only their own."""
    principal.ensure_organisation(organisation_id)
    return await get_or_404(session, Organisation, organisation_id)


@router.patch("/{organisation_id}", response_model=OrganisationPublic)
async def update_organisation(
    organisation_id: int, data: OrganisationUpdate, session: SessionDep, principal: ContentWriter
) -> Organisation:
    """Change an organisation's fields; send only what changes. Deactivate with `is_active: false`
    (organisations are never deleted: their compliance history stays). Roles: admin, editor."""
    return await service.update_organisation(session, principal, organisation_id, data)
