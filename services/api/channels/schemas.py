import re
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import JsonDict

from services.api.schemas_common import PartialUpdate
from shared.models.enums import ChannelStatus, Platform

URL_HOSTS: dict[Platform, frozenset[str]] = {
    Platform.vk: frozenset({"vk.com", "vk.ru", "m.vk.com", "m.vk.ru"}),
    Platform.ok: frozenset({"ok.ru", "m.ok.ru", "odnoklassniki.ru"}),
    Platform.telegram: frozenset({"t.me", "telegram.me"}),
}
EXTERNAL_ID_RULES: dict[Platform, tuple[re.Pattern[str], str]] = {
    Platform.vk: (
        re.compile(r"^[1-9]\d{0,15}$"),
        "the community's numeric id, without the minus sign (e.g. 123456)",
    ),
    Platform.ok: (re.compile(r"^[1-9]\d{0,19}$"), "the group's numeric id (e.g. 70000001234567)"),
    Platform.telegram: (
        re.compile(r"^(-100\d{5,15}|-?\d{5,15}|@[A-Za-z][A-Za-z0-9_]{4,31})$"),
        "the chat id (e.g. -1001234567890) or the public @username",
    ),
}

EXAMPLE: JsonDict = {
    "organisation_id": 12,
    "platform": "vk",
    "external_id": "212345678",
    "title": "Администрация Хабаровского района",
    "url": "https://vk.com/club212345678",
    "account_id": 3,
}


def check_url(platform: Platform, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in URL_HOSTS[platform]:
        raise ValueError(
            f"a {platform.value} page lives on {', '.join(sorted(URL_HOSTS[platform]))}, not {host}"
        )
    return url


def check_external_id(platform: Platform, external_id: str) -> str:
    pattern, explanation = EXTERNAL_ID_RULES[platform]
    if not pattern.match(external_id):
        raise ValueError(f"for {platform.value} this is {explanation}")
    return external_id


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    organisation_id: int
    platform: Platform
    external_id: str = Field(min_length=1, max_length=128, description="The network's id of the page")
    title: str | None = Field(default=None, max_length=300)
    url: str = Field(max_length=500, description="Public address of the page")
    account_id: int | None = Field(default=None, description="The account that posts here (same platform)")

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")
        return check_external_id(platform, value) if platform else value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")
        return check_url(platform, value) if platform else value


class ChannelUpdate(PartialUpdate):
    nullable_fields = frozenset({"title", "account_id", "status_reason"})
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"status": "disabled", "status_reason": "Страница закрыта 01.12.2026"}]
        },
    )

    title: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=500)
    account_id: int | None = None
    status: ChannelStatus | None = None
    status_reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _reason_with_status(self) -> "ChannelUpdate":
        if self.status not in (None, ChannelStatus.active) and not (self.status_reason or "").strip():
            raise ValueError("status_reason is required when the status is not 'active'")
        return self


class ChannelPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 40,
                    **EXAMPLE,
                    "status": "active",
                    "status_reason": None,
                    "status_changed_at": None,
                    "created_at": "2026-11-24T10:00:00Z",
                    "updated_at": "2026-11-24T10:00:00Z",
                }
            ]
        },
    )

    id: int
    organisation_id: int
    platform: Platform
    external_id: str
    title: str | None
    url: str
    account_id: int | None
    status: ChannelStatus
    status_reason: str | None
    status_changed_at: datetime | None
    created_at: datetime
    updated_at: datetime
