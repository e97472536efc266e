import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.json_schema import JsonDict

from services.api.schemas_common import PartialUpdate
from shared.models.enums import Platform

# The secret fields each network needs; they are write-only.
CREDENTIAL_FIELDS: dict[Platform, tuple[str, ...]] = {
    Platform.vk: ("access_token",),
    Platform.ok: ("access_token", "application_key", "application_secret_key"),
    Platform.telegram: ("bot_token",),
}
TELEGRAM_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")

EXAMPLE_CREATE: JsonDict = {
    "platform": "telegram",
    "name": "Региональный бот Хабаровского края",
    "organisation_id": None,
    "credentials": {"bot_token": "7012345678:AAH-example-token"},
}


def check_credentials(platform: Platform, credentials: dict[str, str]) -> None:
    expected = CREDENTIAL_FIELDS[platform]
    unknown = sorted(set(credentials) - set(expected))
    if unknown:
        raise ValueError(
            f"unknown fields for {platform.value}: {', '.join(unknown)}; expected {', '.join(expected)}"
        )
    missing = [field for field in expected if not credentials.get(field, "").strip()]
    if missing:
        raise ValueError(f"{platform.value} credentials need: {', '.join(missing)}")
    if platform is Platform.telegram and not TELEGRAM_TOKEN.match(credentials["bot_token"]):
        raise ValueError("bot_token must look like '123456789:AA…' (from @BotFather)")


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_CREATE]})

    platform: Platform
    name: str = Field(min_length=1, max_length=200, description="A label people recognise")
    organisation_id: int | None = Field(
        default=None, description="Owner; empty for the region's shared accounts (admin, editor only)"
    )
    credentials: dict[str, str] = Field(
        description="Write-only secrets. vk: access_token (a community admin's user token); "
        "ok: access_token, application_key, application_secret_key; telegram: bot_token",
        json_schema_extra={"writeOnly": True},
    )

    @field_validator("credentials")
    @classmethod
    def _credentials_fit_platform(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        platform = info.data.get("platform")
        if platform is not None:  # an invalid platform is reported on its own field
            check_credentials(platform, value)
        return value


class AccountUpdate(PartialUpdate):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"credentials": {"bot_token": "7012345678:AAH-rotated-token"}}]},
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    credentials: dict[str, str] | None = Field(
        default=None, description="Replaces all secrets (rotation)", json_schema_extra={"writeOnly": True}
    )


class AccountPublic(BaseModel):
    """An account without its secrets: only a fingerprint to tell two credentials apart."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "platform": "telegram",
                    "name": "Региональный бот Хабаровского края",
                    "organisation_id": None,
                    "secret_fingerprint": "9f2c1a7b3d4e",
                    "has_credentials": True,
                    "secret_updated_at": "2026-11-24T10:00:00Z",
                    "created_at": "2026-11-24T10:00:00Z",
                    "updated_at": "2026-11-24T10:00:00Z",
                }
            ]
        },
    )

    id: int
    platform: Platform
    name: str
    organisation_id: int | None
    secret_fingerprint: str
    has_credentials: bool = True
    secret_updated_at: datetime
    created_at: datetime
    updated_at: datetime
