from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.api.materials.schemas import MaterialPublic


class WeekQuota(BaseModel):
    """How one week stands against the center's quota."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "week": "2026-W48",
                    "starts_on": "2026-11-23",
                    "ends_on": "2026-11-29",
                    "count": 7,
                    "urgent_count": 1,
                    "quota": 10,
                    "quota_met": False,
                    "shortfall": 3,
                }
            ]
        }
    )

    week: str
    starts_on: date = Field(description="Monday of the week")
    ends_on: date = Field(description="Sunday of the week")
    count: int = Field(description="Approved materials in the week")
    urgent_count: int
    quota: int = Field(description="Materials a week every organisation must receive from the center")
    quota_met: bool
    shortfall: int = Field(description="Approved materials still missing to meet the quota (0 when met)")


class WeeklyPackage(WeekQuota):
    """A week's package: its approved materials (urgent first) and the quota status."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "week": "2026-W48",
                    "starts_on": "2026-11-23",
                    "ends_on": "2026-11-29",
                    "count": 1,
                    "urgent_count": 0,
                    "quota": 10,
                    "quota_met": False,
                    "shortfall": 9,
                    "materials": ["…"],
                }
            ]
        }
    )

    materials: list[MaterialPublic]


class PackageOverview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"from_week": "2026-W48", "to_week": "2026-W49", "weeks": ["…"]}]}
    )

    from_week: str
    to_week: str
    weeks: list[WeekQuota]
