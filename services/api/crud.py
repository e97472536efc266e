"""Small helpers every resource uses: load-or-404 and apply a partial update with its diff."""

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.audit import changed_fields
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
