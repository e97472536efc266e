from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.api.materials.schemas import valid_link

MEDIA_EXAMPLE: dict[str, Any] = {
    "id": 31,
    "kind": "photo",
    "content_type": "image/jpeg",
    "size_bytes": 2481042,
    "width": 2048,
    "height": 1365,
    "sha256": "9f2c0e5b1d7a4c3e8f6a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e",
    "url": "https://hub.example.ru/api/v1/feed/media/31?expires=1764374400&signature=Vx2…",
}
ITEM_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "version": 4,
    "status": "approved",
    "withdrawn": False,
    "withdrawn_reason": None,
    "withdrawn_at": None,
    "urgent": False,
    "priority": "normal",
    "week": "2026-W48",
    "title": "Сделаем вместе: субботник в парке",
    "body": "В субботу приглашаем жителей на общегородской субботник.",
    "hashtags": ["#СДЕЛАЕМВМЕСТЕ"],
    "topics": ["благоустройство"],
    "link": "https://example.ru/news/42",
    "publish_not_before": "2026-11-23T00:00:00Z",
    "expires_at": None,
    "approved_at": "2026-11-22T05:00:00Z",
    "updated_at": "2026-11-22T05:00:00Z",
    "media": [MEDIA_EXAMPLE],
}
FEED_EXAMPLE: dict[str, Any] = {
    "schema_version": "1",
    "organisation": {"id": 12, "name": "Администрация города Обнинска", "timezone": "Europe/Moscow"},
    "subscribed": True,
    "week": "2026-W48",
    "cursor": None,
    "next_cursor": "NzUxLjQy",
    "has_more": False,
    "items": [ITEM_EXAMPLE],
}


class FeedMedia(BaseModel):
    id: int
    kind: Literal["photo", "video"]
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    sha256: str
    url: str = Field(description="Signed link, valid one to two days; needs no API key")


class FeedItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ITEM_EXAMPLE]})

    id: int = Field(description="The material's id: report publications with it")
    version: int = Field(description="Grows with every change; (id, version) identifies what you published")
    status: Literal["approved", "withdrawn"]
    withdrawn: bool = Field(description="True: take the item down wherever you published it")
    withdrawn_reason: str | None
    withdrawn_at: datetime | None
    urgent: bool
    priority: Literal["normal", "urgent"]
    week: str
    title: str
    body: str
    hashtags: list[str]
    topics: list[str]
    link: str | None
    publish_not_before: datetime | None = Field(description="Do not publish before this moment")
    expires_at: datetime | None = Field(description="Do not publish after this moment")
    approved_at: datetime | None
    updated_at: datetime
    media: list[FeedMedia]


class FeedOrganisation(BaseModel):
    id: int
    name: str
    timezone: str


class FeedDocument(BaseModel):
    """The JSON feed, schema version 1. New fields may be added within a version; a change that breaks
    readers gets a new ``schema_version``."""

    model_config = ConfigDict(json_schema_extra={"examples": [FEED_EXAMPLE]})

    schema_version: Literal["1"]
    organisation: FeedOrganisation
    subscribed: bool = Field(description="False when the organisation has no active subscription")
    week: str | None = Field(description="The ISO week listed (week mode); null in changes mode")
    cursor: str | None = Field(description="The cursor this page continues from (changes mode)")
    next_cursor: str = Field(description="Pass as `cursor` to get what changed after this response")
    has_more: bool = Field(description="More items wait: ask again with `cursor=next_cursor` at once")
    items: list[FeedItem] = Field(
        description="Week mode: urgent first, then by approval; changes mode: change order"
    )


REPORT_EXAMPLE: dict[str, Any] = {"material_id": 7, "url": "https://vk.com/wall-200001_345"}


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REPORT_EXAMPLE]})

    material_id: int = Field(description="The feed item's `id`")
    url: str = Field(
        max_length=500,
        description="The post's address: VK `https://vk.com/wall-<group>_<post>`, Telegram "
        "`https://t.me/<channel>/<message>`, OK `https://ok.ru/group/<group>/topic/<topic>`",
    )
    channel_id: int | None = Field(
        default=None, description="Needed only when the URL does not name the channel"
    )
    published_at: AwareDatetime | None = Field(default=None, description="Default: now")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return valid_link(value)


class ReportedPublication(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 501,
                    "organisation_id": 12,
                    "channel_id": 40,
                    "material_id": 7,
                    "external_post_id": "345",
                    "url": "https://vk.com/wall-200001_345",
                    "published_at": "2026-11-24T09:30:00Z",
                    "source": "reported",
                    "match_method": "reported",
                    "reported_at": "2026-11-24T09:31:02Z",
                    "confirmed_at": None,
                    "confirmation_error": None,
                }
            ]
        },
    )

    id: int
    organisation_id: int
    channel_id: int
    material_id: int | None
    external_post_id: str
    url: str | None
    published_at: datetime
    source: str = Field(description="`reported`, or how the hub knew the post already")
    match_method: str | None
    reported_at: datetime | None
    confirmed_at: datetime | None = Field(
        description="Set when the scheduler confirmed the post on the network"
    )
    confirmation_error: str | None


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://cms.obninsk.example.ru/hub/webhook", "description": "Сайт администрации"}
            ]
        },
    )

    url: str = Field(max_length=2000, description="Receives POSTs of JSON announcements")
    description: str | None = Field(default=None, max_length=300)
    organisation_id: int | None = Field(default=None, description="Admins and editors name the organisation")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return valid_link(value)


WEBHOOK_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "organisation_id": 12,
    "url": "https://cms.obninsk.example.ru/hub/webhook",
    "description": "Сайт администрации",
    "is_active": True,
    "created_at": "2026-11-24T10:00:00Z",
}


class WebhookPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [WEBHOOK_EXAMPLE]})

    id: int
    organisation_id: int
    url: str
    description: str | None
    is_active: bool
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """The new webhook with its signing ``secret`` — shown this once and never again."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**WEBHOOK_EXAMPLE, "secret": "whsec_3q2+7w…"}]}
    )

    secret: str


class WebhookDeliveryPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 88,
                    "material_id": 7,
                    "material_version": 4,
                    "event": "material.approved",
                    "status": "pending",
                    "attempts": 2,
                    "next_attempt_at": "2026-11-24T10:02:00Z",
                    "last_attempt_at": "2026-11-24T10:01:00Z",
                    "last_status_code": 503,
                    "last_error": "HTTP 503",
                    "delivered_at": None,
                    "created_at": "2026-11-24T10:00:00Z",
                }
            ]
        },
    )

    id: int
    material_id: int
    material_version: int
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class FeedKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Сайт администрации Обнинска", "organisation_id": 12}]},
    )

    name: str = Field(min_length=1, max_length=200, description="The system that will use the key")
    organisation_id: int | None = Field(default=None, description="Admins name it; operators get their own")
