"""Small helpers every resource uses: load-or-404 (optionally checked against an operator's
organisation), delete with its audit event, and apply a partial update with its diff."""

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.audit import changed_fields
from services.api.deps import Principal
from services.api.errors import not_found

M = TypeVar("M", bound=SQLModel)


async def get_or_404(session: AsyncSession, model: type[M], entity_id: int, *, for_update: bool = False) -> M:
    row = await session.get(model, entity_id, with_for_update=for_update)
    if row is None:
        raise not_found(model.__name__, entity_id)
    return row


def apply_update(row: SQLModel, update: BaseModel, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """Copy the fields the client actually sent onto ``row``; return ``{field: [old, new]}``."""
    data = update.model_dump(exclude_unset=True, exclude=exclude)
    before = {field: getattr(row, field) for field in data}
    for field, value in data.items():
        setattr(row, field, value)
    return changed_fields(before, data)


async def get_owned_or_404(
    session: AsyncSession, principal: Principal, model: type[M], entity_id: int, *, for_update: bool = False
) -> M:
    """The row, if the principal may see its organisation (operators see only their own)."""
    row = await get_or_404(session, model, entity_id, for_update=for_update)
    principal.ensure_organisation(getattr(row, "organisation_id"))  # noqa: B009  (every owned model has it)
    return row


async def delete_owned(
    session: AsyncSession,
    principal: Principal,
    model: type[M],
    entity_id: int,
    entity_type: str,
    action: str,
) -> None:
    """Delete an organisation's row (checked like ``get_owned_or_404``) and audit it."""
    row = await get_owned_or_404(session, principal, model, entity_id, for_update=True)
    organisation_id = getattr(row, "organisation_id")  # noqa: B009
    await session.delete(row)
    await session.flush()
    audit.record(session, principal, action, entity_type, entity_id, organisation_id=organisation_id)
