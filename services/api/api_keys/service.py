from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from services.api.crud import get_or_404
from services.api.deps import Principal
from services.api.errors import Conflict, InvalidField
from services.api.security import generate_key
from shared.models import ApiKey, Organisation
from shared.models.base import utcnow


async def issue_key(session: AsyncSession, principal: Principal | None, data: ApiKeyCreate) -> ApiKeyCreated:
    """Create a key; the plaintext is returned once. ``principal`` is None for the bootstrap command."""
    if data.organisation_id is not None and await session.get(Organisation, data.organisation_id) is None:
        raise InvalidField("body.organisation_id", f"organisation {data.organisation_id} does not exist")
    new = generate_key()
    key = ApiKey(
        name=data.name,
        role=data.role.value,
        organisation_id=data.organisation_id,
        prefix=new.prefix,
        key_hash=new.key_hash,
    )
    session.add(key)
    await session.flush()
    audit.record(
        session,
        principal,
        "api_key.create",
        "api_key",
        key.id,
        organisation_id=data.organisation_id,
        changes={"name": data.name, "role": data.role.value},
    )
    return ApiKeyCreated(**ApiKeyPublic.model_validate(key).model_dump(), key=new.plaintext)


async def revoke_key(session: AsyncSession, principal: Principal, key_id: int) -> ApiKey:
    key = await get_or_404(session, ApiKey, key_id, for_update=True)
    if key.revoked_at is not None:
        raise Conflict(f"key {key_id} was already revoked at {key.revoked_at.isoformat()}")
    if key_id == principal.key_id:
        raise Conflict("a key cannot revoke itself; use another admin key")
    key.revoked_at = utcnow()
    await session.flush()
    audit.record(session, principal, "api_key.revoke", "api_key", key_id, organisation_id=key.organisation_id)
    return key
