import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict

from services.api.schemas_common import PartialUpdate

PHONE = re.compile(r"^\+\d{10,15}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TELEGRAM_USERNAME = re.compile(r"^@?[A-Za-z][A-Za-z0-9_]{4,31}$")

EXAMPLE: JsonDict = {
    "organisation_id": 12,
    "channel_id": None,
    "name": "Иванова Мария Петровна",
    "position": "Главный специалист отдела информационной политики",
    "phone": "+74212000000",
    "email": "smm@example.ru",
    "telegram_username": "maria_smm",
}


class _ContactChecks(BaseModel):
    @field_validator("phone", check_fields=False)
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE.match(value):
            raise ValueError("use the international format: + and 10–15 digits, e.g. +74212000000")
        return value

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value

    @field_validator("telegram_username", check_fields=False)
    @classmethod
    def _telegram(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not TELEGRAM_USERNAME.match(value):
            raise ValueError("a Telegram username: 5–32 letters, digits or _, starting with a letter")
        return value.removeprefix("@")


class PersonCreate(_ContactChecks):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    organisation_id: int
    channel_id: int | None = Field(default=None, description="Responsible for one page only; empty: for all")
    name: str = Field(min_length=1, max_length=300)
    position: str | None = Field(default=None, max_length=300)
    phone: str | None = None
    email: str | None = Field(default=None, max_length=320)
    telegram_username: str | None = None


class PersonUpdate(_ContactChecks, PartialUpdate):
    nullable_fields = frozenset({"channel_id", "position", "phone", "email", "telegram_username"})
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"phone": "+74212111111"}]})

    channel_id: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=300)
    position: str | None = Field(default=None, max_length=300)
    phone: str | None = None
    email: str | None = Field(default=None, max_length=320)
    telegram_username: str | None = None


class PersonPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    **EXAMPLE,
                    "confirmed_at": "2026-10-02T09:00:00Z",
                    "created_at": "2026-10-01T09:00:00Z",
                    "updated_at": "2026-10-02T09:00:00Z",
                }
            ]
        },
    )

    id: int
    organisation_id: int
    channel_id: int | None
    name: str
    position: str | None
    phone: str | None
    email: str | None
    telegram_username: str | None
    confirmed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ResponsibleListStatus(BaseModel):
    """Whether an organisation's list of responsible people was confirmed in the current quarter."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": 12,
                    "organisation_name": "Администрация Хабаровского района",
                    "quarter": "2026-Q4",
                    "quarter_started_at": "2026-10-01T00:00:00+10:00",
                    "people": 2,
                    "last_confirmed_at": "2026-07-03T09:00:00Z",
                    "stale": True,
                    "reason": "list last confirmed on 2026-07-03, before the current quarter 2026-Q4",
                }
            ]
        }
    )

    organisation_id: int
    organisation_name: str
    quarter: str
    quarter_started_at: datetime
    people: int
    last_confirmed_at: datetime | None
    stale: bool
    reason: str | None
