from fastapi import APIRouter, status
from sqlmodel import col, select

from services.api.api_keys import service
from services.api.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from services.api.deps import Admin, SessionDep
from services.api.pagination import Page, PageDep, paginate
from shared.models import ApiKey
from shared.models.enums import Role

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(data: ApiKeyCreate, session: SessionDep, principal: Admin) -> ApiKeyCreated:
    """Issue an API key. The response carries the key **once**; only its hash is stored.
    Operator keys are bound to one organisation. Role: admin."""
    return await service.issue_key(session, principal, data)


@router.get("", response_model=Page[ApiKeyPublic])
async def list_api_keys(
    session: SessionDep,
    principal: Admin,
    page: PageDep,
    role: Role | None = None,
    organisation_id: int | None = None,
    include_revoked: bool = False,
) -> dict[str, object]:
    """List keys (never their secrets). Role: admin."""
    query = select(ApiKey).order_by(col(ApiKey.id))
    if role is not None:
        query = query.where(ApiKey.role == role.value)
    if organisation_id is not None:
        query = query.where(ApiKey.organisation_id == organisation_id)
    if not include_revoked:
        query = query.where(col(ApiKey.revoked_at).is_(None))
    items, total = await paginate(session, query, page)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.post("/{key_id}/revoke", response_model=ApiKeyPublic)
async def revoke_api_key(key_id: int, session: SessionDep, principal: Admin) -> ApiKey:
    """Revoke a key at once; requests with it get 401 from now on. Role: admin."""
    return await service.revoke_key(session, principal, key_id)
