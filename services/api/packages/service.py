"""Weekly packages: the approved materials of an ISO week against the center's weekly quota."""

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.materials.weeks import week_monday, weeks_between
from shared.models import Material
from shared.models.enums import MaterialPriority, MaterialStatus


def quota_status(week: str, count: int, urgent_count: int, quota: int) -> dict[str, Any]:
    monday = week_monday(week)
    return {
        "week": week,
        "starts_on": monday,
        "ends_on": monday + timedelta(days=6),
        "count": count,
        "urgent_count": urgent_count,
        "quota": quota,
        "quota_met": count >= quota,
        "shortfall": max(quota - count, 0),
    }


async def weekly_package(session: AsyncSession, week: str, quota: int) -> dict[str, Any]:
    urgent_first = case((col(Material.priority) == MaterialPriority.urgent.value, 0), else_=1)
    query = (
        select(Material)
        .where(Material.week == week, Material.status == MaterialStatus.approved.value)
        .order_by(urgent_first, col(Material.approved_at), col(Material.id))
    )
    materials = list((await session.exec(query)).all())
    urgent = sum(1 for material in materials if material.priority == MaterialPriority.urgent.value)
    return {**quota_status(week, len(materials), urgent, quota), "materials": materials}


async def package_overview(
    session: AsyncSession, from_week: str, to_week: str, quota: int
) -> list[dict[str, Any]]:
    """Every week of the range, including weeks with nothing approved."""
    is_urgent = case((col(Material.priority) == MaterialPriority.urgent.value, 1), else_=0)
    query = (
        select(Material.week, func.count(), func.sum(is_urgent))
        .where(Material.status == MaterialStatus.approved.value)
        .where(col(Material.week) >= from_week, col(Material.week) <= to_week)
        .group_by(Material.week)
    )
    counts = {
        week: (int(count), int(urgent or 0)) for week, count, urgent in (await session.exec(query)).all()
    }
    return [
        quota_status(week, *counts.get(week, (0, 0)), quota) for week in weeks_between(from_week, to_week)
    ]
