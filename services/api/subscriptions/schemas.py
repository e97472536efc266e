from datetime import datetime, time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict

from services.api.schemas_common import PartialUpdate
from shared.models.enums import SubscriptionMode

EXAMPLE: JsonDict = {
    "organisation_id": 12,
    "topics": ["экономика", "СВО"],
    "channel_ids": [40, 41],
    "mode": "auto",
    "items_per_week": 3,
    "window_start": "09:00",
    "window_end": "20:00",
    "weekdays": [1, 2, 3, 4, 5],
    "is_active": True,
}


def _check_weekdays(value: list[int] | None) -> list[int] | None:
    if value is None:
        return None
    if not value:
        raise ValueError("at least one weekday (1 = Monday … 7 = Sunday)")
    if any(day < 1 or day > 7 for day in value):
        raise ValueError("weekdays are 1 (Monday) … 7 (Sunday)")
    if len(set(value)) != len(value):
        raise ValueError("each weekday at most once")
    return sorted(value)


def _check_topics(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if any(not topic.strip() or len(topic) > 100 for topic in value):
        raise ValueError("topics are non-empty strings of at most 100 characters")
    return value


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    organisation_id: int
    topics: list[str] = Field(default_factory=list, description="Empty: every material")
    channel_ids: list[int] = Field(
        default_factory=list, description="Empty: every channel of the organisation"
    )
    mode: SubscriptionMode = Field(
        default=SubscriptionMode.auto,
        description="`auto`: the hub posts; `feed`: the organisation's system pulls",
    )
    items_per_week: int = Field(default=3, ge=1, le=50, description="Items a week to auto-post per channel")
    window_start: time = Field(default=time(9, 0), description="Local time, the organisation's zone")
    window_end: time = Field(default=time(20, 0))
    weekdays: list[int] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5], description="ISO weekdays, 1 = Monday"
    )
    is_active: bool = True

    _weekdays = field_validator("weekdays")(_check_weekdays)
    _topics = field_validator("topics")(_check_topics)

    @model_validator(mode="after")
    def _window(self) -> "SubscriptionCreate":
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


class SubscriptionUpdate(PartialUpdate):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"items_per_week": 5}]})

    topics: list[str] | None = None
    channel_ids: list[int] | None = None
    mode: SubscriptionMode | None = None
    items_per_week: int | None = Field(default=None, ge=1, le=50)
    window_start: time | None = None
    window_end: time | None = None
    weekdays: list[int] | None = None
    is_active: bool | None = None

    _weekdays = field_validator("weekdays")(_check_weekdays)
    _topics = field_validator("topics")(_check_topics)


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    **EXAMPLE,
                    "created_at": "2026-11-24T10:00:00Z",
                    "updated_at": "2026-11-24T10:00:00Z",
                }
            ]
        },
    )

    id: int
    organisation_id: int
    topics: list[str]
    channel_ids: list[int]
    mode: SubscriptionMode
    items_per_week: int
    window_start: time
    window_end: time
    weekdays: list[int]
    is_active: bool
    created_at: datetime
    updated_at: datetime
