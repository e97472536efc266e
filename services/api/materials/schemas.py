import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.api.materials.weeks import WEEK_EXAMPLE, valid_week
from shared.models.enums import MaterialPriority, MaterialStatus

# "#" then letters (any script, so Cyrillic tags work), digits or underscores.
HASHTAG = re.compile(r"#\w+")

EXAMPLE: dict[str, Any] = {
    "title": "Сделаем вместе: субботник в парке",
    "body": "В субботу приглашаем жителей на общегородской субботник.",
    "hashtags": ["#СДЕЛАЕМВМЕСТЕ", "#Хабаровск"],
    "topics": ["благоустройство"],
    "link": "https://example.ru/news/42",
    "priority": "normal",
    "week": WEEK_EXAMPLE,
    "publish_not_before": "2026-11-23T09:00:00+10:00",
    "expires_at": "2026-11-30T00:00:00+10:00",
}


def valid_hashtags(values: list[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        tag = value.strip()
        if not HASHTAG.fullmatch(tag):
            raise ValueError(
                f"'{value}' is not a hashtag: '#' followed by letters, digits or '_' (e.g. '#СДЕЛАЕМВМЕСТЕ')"
            )
        if len(tag) > 100:
            raise ValueError(f"hashtag '{tag[:20]}…' is longer than 100 characters")
        if tag not in seen:
            seen.append(tag)
    return seen


def valid_topics(values: list[str]) -> list[str]:
    topics: list[str] = []
    for value in values:
        topic = value.strip()
        if not topic or len(topic) > 100:
            raise ValueError("each topic must have 1–100 characters")
        if topic not in topics:
            topics.append(topic)
    return topics


def valid_link(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(char.isspace() for char in value):
        raise ValueError(f"'{value}' is not an http(s) URL such as 'https://example.ru/news/42'")
    return value


def valid_week_field(value: str) -> str:
    return valid_week(value)


class MaterialCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=50_000, description="The post text; required before approval")
    hashtags: list[str] = Field(default_factory=list, max_length=50)
    topics: list[str] = Field(default_factory=list, max_length=50, description="Subscriptions match on these")
    link: str | None = Field(default=None, max_length=2000, description="An http(s) URL to read more")
    priority: MaterialPriority = MaterialPriority.normal
    week: str = Field(description=f"The ISO week it belongs to, e.g. '{WEEK_EXAMPLE}'")
    publish_not_before: AwareDatetime | None = Field(default=None, description="With a time zone offset")
    expires_at: AwareDatetime | None = Field(default=None, description="After publish_not_before")

    _hashtags = field_validator("hashtags")(valid_hashtags)
    _topics = field_validator("topics")(valid_topics)
    _week = field_validator("week")(valid_week_field)

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        return None if value is None else valid_link(value)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the title cannot be blank")
        return value.strip()


class MaterialUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "Субботник переносится на воскресенье"}]}
    )

    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=50_000)
    hashtags: list[str] | None = Field(default=None, max_length=50)
    topics: list[str] | None = Field(default=None, max_length=50)
    link: str | None = Field(default=None, max_length=2000, description="null removes the link")
    priority: MaterialPriority | None = None
    week: str | None = None
    publish_not_before: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    version: int | None = Field(
        default=None, ge=1, description="Alternative to the If-Match header: the version you read"
    )

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else valid_hashtags(value)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else valid_topics(value)

    @field_validator("week")
    @classmethod
    def _week(cls, value: str | None) -> str | None:
        return None if value is None else valid_week(value)

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        return None if value is None else valid_link(value)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the title cannot be blank")
        return None if value is None else value.strip()

    @field_validator("title", "body", "hashtags", "topics", "priority", "week")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Ошибка в дате мероприятия"}]}
    )

    reason: str = Field(
        min_length=1, max_length=2000, description="Why it is withdrawn; shown to organisations"
    )

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the reason cannot be blank")
        return value.strip()


class ReturnToDraftRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"comment": "Добавьте фото и ссылку на афишу"}]}
    )

    comment: str | None = Field(default=None, max_length=2000, description="What the author should fix")


class MaterialPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    **EXAMPLE,
                    "status": "approved",
                    "withdrawn_reason": None,
                    "created_by": 2,
                    "approved_by": 3,
                    "approved_at": "2026-11-22T05:00:00Z",
                    "withdrawn_at": None,
                    "version": 4,
                    "created_at": "2026-11-21T10:00:00Z",
                    "updated_at": "2026-11-22T05:00:00Z",
                }
            ]
        },
    )

    id: int
    title: str
    body: str
    hashtags: list[str]
    topics: list[str]
    link: str | None
    priority: MaterialPriority
    week: str
    publish_not_before: datetime | None
    expires_at: datetime | None
    status: MaterialStatus
    withdrawn_reason: str | None
    created_by: int | None
    approved_by: int | None
    approved_at: datetime | None
    withdrawn_at: datetime | None
    version: int = Field(description="Send it back as If-Match (the ETag header carries it too)")
    created_at: datetime
    updated_at: datetime
