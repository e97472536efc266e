from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from services.api.deps import ContentReader, SessionDep
from services.api.errors import InvalidField
from services.api.materials.weeks import WEEK_EXAMPLE, current_week, shift_week, valid_week, week_monday
from services.api.packages import service
from services.api.packages.schemas import PackageOverview, WeeklyPackage
from shared.settings import get_settings

router = APIRouter(prefix="/packages", tags=["weekly packages"])

# A long range is a report, not a package overview; a year and a bit is plenty.
MAX_WEEKS = 60


def center_weekly_quota() -> int:
    """The center's weekly quota (a dependency, so tests and future per-region rules can replace it)."""
    return get_settings().center_weekly_quota


QuotaDep = Annotated[int, Depends(center_weekly_quota)]


def _week(value: str, field: str) -> str:
    try:
        return valid_week(value)
    except ValueError as exc:
        raise InvalidField(field, str(exc)) from exc


@router.get("", response_model=PackageOverview)
async def list_packages(
    session: SessionDep,
    principal: ContentReader,
    quota: QuotaDep,
    from_week: Annotated[
        str | None, Query(description=f"First ISO week, e.g. {WEEK_EXAMPLE}; default this week")
    ] = None,
    to_week: Annotated[
        str | None, Query(description="Last ISO week (included); default three weeks later")
    ] = None,
) -> dict[str, Any]:
    """Per week: how many materials are approved and whether the center's weekly quota (at least 10
    items for every organisation) is met, with the shortfall. Weeks are ISO weeks (`2026-W48`); the range
    holds at most 60 weeks. Roles: admin, editor, monitor, operator."""
    first = _week(from_week, "query.from_week") if from_week else current_week()
    last = _week(to_week, "query.to_week") if to_week else shift_week(first, 3)
    if week_monday(last) < week_monday(first):
        raise InvalidField("query.to_week", "to_week must not be before from_week")
    if (week_monday(last) - week_monday(first)).days // 7 + 1 > MAX_WEEKS:
        raise InvalidField("query.to_week", f"ask for at most {MAX_WEEKS} weeks at a time")
    weeks = await service.package_overview(session, first, last, quota)
    return {"from_week": first, "to_week": last, "weeks": weeks}


@router.get("/{week}", response_model=WeeklyPackage)
async def get_package(
    session: SessionDep,
    principal: ContentReader,
    quota: QuotaDep,
    week: Annotated[str, Path(description=f"ISO week, e.g. {WEEK_EXAMPLE}")],
) -> dict[str, Any]:
    """The week's package: its approved materials (urgent first, then in order of approval), their count,
    the center's quota, whether it is met and how many are missing. Drafts, materials in review and
    withdrawn ones are not part of it. Roles: admin, editor, monitor, operator."""
    return await service.weekly_package(session, _week(week, "path.week"), quota)
