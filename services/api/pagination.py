"""Offset paging for registry lists: ``?limit=&offset=`` in, ``{items, total, limit, offset}`` out."""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page (1–500)")] = 50,
    offset: Annotated[int, Query(ge=0, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def paginate(
    session: AsyncSession, query: SelectOfScalar[Any], page: PageParams
) -> tuple[list[Any], int]:
    """Rows of one page and the total count of the filtered query."""
    total = (await session.exec(select(func.count()).select_from(query.order_by(None).subquery()))).one()
    rows = (await session.exec(query.limit(page.limit).offset(page.offset))).all()
    return list(rows), int(total)
