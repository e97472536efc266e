from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict

from services.api.schemas_common import PartialUpdate
from shared.models.enums import OrganisationKind

EXAMPLE: JsonDict = {
    "name": "Администрация Хабаровского муниципального района",
    "kind": "municipal_district",
    "parent_id": None,
    "region": "Хабаровский край",
    "timezone": "Asia/Vladivostok",
    "is_active": True,
}


def valid_timezone(value: str) -> str:
    if value not in available_timezones():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{value}' is not an IANA time zone (for example 'Asia/Vladivostok')") from exc
    return value


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    name: str = Field(min_length=1, max_length=500)
    kind: OrganisationKind
    parent_id: int | None = Field(default=None, description="The organisation this one reports to")
    region: str = Field(min_length=1, max_length=200)
    timezone: str = Field(description="IANA time zone; weeks are counted in it")
    is_active: bool = True

    _tz = field_validator("timezone")(valid_timezone)


class OrganisationUpdate(PartialUpdate):
    nullable_fields = frozenset({"parent_id"})
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"timezone": "Asia/Chita"}]})

    name: str | None = Field(default=None, min_length=1, max_length=500)
    kind: OrganisationKind | None = None
    parent_id: int | None = None
    region: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    is_active: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else valid_timezone(value)


class OrganisationPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    **EXAMPLE,
                    "created_at": "2026-11-24T10:00:00Z",
                    "updated_at": "2026-11-24T10:00:00Z",
                }
            ]
        },
    )

    id: int
    name: str
    kind: OrganisationKind
    parent_id: int | None
    region: str
    timezone: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
