from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

ROW_EXAMPLE = {
    "organisation_id": 12,
    "organisation_name": "Администрация Хабаровского муниципального района",
    "region": "Хабаровский край",
    "timezone": "Asia/Vladivostok",
    "week_start": "2026-11-23T00:00:00+10:00",
    "week_end": "2026-11-30T00:00:00+10:00",
    "channel_id": 31,
    "platform": "vk",
    "channel_title": "Администрация района",
    "channel_url": "https://vk.com/club200001",
    "channel_status": "active",
    "channel_status_since": None,
    "subscribed": True,
    "posts": 2,
    "counted": 2,
    "required": 3,
    "met": False,
    "reason_code": "too_few_posts",
    "reason": "too few posts",
    "center_items": 11,
    "center_required": 10,
    "center_met": True,
    "require_media": False,
    "count_any_post": False,
    "state": "in_progress",
    "closed_at": None,
}


class ReportRow(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ROW_EXAMPLE]})

    organisation_id: int
    organisation_name: str
    region: str
    timezone: str
    week_start: datetime = Field(description="Monday 00:00 in the organisation's zone")
    week_end: datetime
    channel_id: int
    platform: str
    channel_title: str | None
    channel_url: str
    channel_status: str
    channel_status_since: datetime | None
    subscribed: bool = Field(description="An active subscription covers this channel")
    posts: int = Field(description="Publications standing at the week's end (before the rule's filters)")
    counted: int = Field(description="What counts toward the rule (same material once)")
    required: int
    met: bool
    reason_code: str | None = Field(
        description="credentials_invalid, not_subscribed, no_posts, posts_without_media, too_few_posts"
    )
    reason: str | None
    center_items: int = Field(
        description="This week's approved materials the organisation's subscriptions offer"
    )
    center_required: int
    center_met: bool
    require_media: bool
    count_any_post: bool
    state: str = Field(description="in_progress, ended (not yet closed) or closed (frozen)")
    closed_at: datetime | None


class WeekReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "week": "2026-W48",
                    "after": 0,
                    "limit": 500,
                    "organisations": 500,
                    "next_after": 512,
                    "channels": 1,
                    "channels_met": 0,
                    "rows": [ROW_EXAMPLE],
                }
            ]
        }
    )

    week: str
    after: int = Field(description="This page starts after this organisation id")
    limit: int = Field(description="Organisations per page")
    organisations: int = Field(description="Organisations on this page")
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last page")
    channels: int = Field(description="Rows on this page")
    channels_met: int = Field(description="Rows on this page that met the rule")
    rows: list[ReportRow]


class HistoryWeek(BaseModel):
    week: str
    state: str
    channels: int
    channels_met: int
    met: bool = Field(description="Every channel met the channel rule")
    center_items: int
    center_required: int
    center_met: bool
    rows: list[ReportRow]


class OrganisationHistory(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": 12,
                    "weeks": [
                        {
                            "week": "2026-W48",
                            "state": "closed",
                            "channels": 1,
                            "channels_met": 0,
                            "met": False,
                            "center_items": 11,
                            "center_required": 10,
                            "center_met": True,
                            "rows": [ROW_EXAMPLE],
                        }
                    ],
                }
            ]
        }
    )

    organisation_id: int
    weeks: list[HistoryWeek]


class SummaryWeek(BaseModel):
    week: str
    organisations: int
    organisations_met: int = Field(description="Organisations whose every channel met the channel rule")
    organisations_met_share: float
    organisations_center_met: int = Field(description="Organisations the center offered enough items")
    organisations_center_met_share: float
    channels: int
    channels_met: int
    channels_met_share: float
    reasons: dict[str, int] = Field(description="Channels falling short, by reason code")


class RegionSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "week": "2026-W48",
                    "region": "Хабаровский край",
                    "weeks": [
                        {
                            "week": "2026-W48",
                            "organisations": 3000,
                            "organisations_met": 2100,
                            "organisations_met_share": 0.7,
                            "organisations_center_met": 3000,
                            "organisations_center_met_share": 1.0,
                            "channels": 9000,
                            "channels_met": 7200,
                            "channels_met_share": 0.8,
                            "reasons": {"no_posts": 900, "too_few_posts": 900},
                        }
                    ],
                    "channels_met_share_change": 0.05,
                    "organisations_met_share_change": 0.03,
                }
            ]
        }
    )

    week: str
    region: str | None
    weeks: list[SummaryWeek] = Field(description="Oldest first; the last is the requested week")
    channels_met_share_change: float | None = Field(description="Against the previous week")
    organisations_met_share_change: float | None


class EvidenceItem(BaseModel):
    publication_id: int | None
    organisation_id: int
    channel_id: int
    external_post_id: str
    url: str | None
    published_at: datetime
    source: str
    material_id: int | None
    match_method: str | None
    has_media: bool
    counted: bool
    not_counted_reason: str | None = Field(
        description="deleted, unconfirmed, no_media, not_regional, duplicate_material"
    )
    deleted_at: datetime | None
    later_event: str | None = Field(description="For a closed week: what happened to the post after closing")


class CenterItem(BaseModel):
    material_id: int
    title: str
    link: str | None
    priority: str
    approved_at: datetime | None


class Evidence(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "week": "2026-W48",
                    "organisation_id": 12,
                    "channel_id": 31,
                    "publications": [
                        {
                            "publication_id": 501,
                            "organisation_id": 12,
                            "channel_id": 31,
                            "external_post_id": "1042",
                            "url": "https://vk.com/wall-200001_1042",
                            "published_at": "2026-11-24T09:12:00Z",
                            "source": "observed",
                            "material_id": 77,
                            "match_method": "repost",
                            "has_media": True,
                            "counted": True,
                            "not_counted_reason": None,
                            "deleted_at": None,
                            "later_event": None,
                        }
                    ],
                    "center_materials": [
                        {
                            "material_id": 77,
                            "title": "Новый сквер",
                            "link": "https://example.ru/77",
                            "priority": "normal",
                            "approved_at": "2026-11-20T10:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    week: str
    organisation_id: int
    channel_id: int | None
    publications: list[EvidenceItem]
    center_materials: list[CenterItem]


RULE_EXAMPLE = {
    "min_items_per_channel": 3,
    "center_min_items": 10,
    "require_media": True,
    "count_any_post": False,
}


class RuleSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RULE_EXAMPLE]})

    min_items_per_channel: int = Field(
        default=3, ge=0, le=100, description="Regional items per channel a week"
    )
    center_min_items: int = Field(default=10, ge=0, le=500, description="Items the center offers each week")
    require_media: bool = Field(default=False, description="Each counted post must carry photo or video")
    count_any_post: bool = Field(default=False, description="Any information post counts, not only regional")


class RuleSetPublic(RuleSetIn):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "region": "Калужская область",
                    "organisation_id": 40,
                    **RULE_EXAMPLE,
                    "updated_at": "2026-11-24T10:00:00Z",
                }
            ]
        },
    )

    id: int
    region: str
    organisation_id: int | None = Field(description="NULL for the region's default")
    updated_at: datetime


class EffectiveRule(RuleSetIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"organisation_id": 40, "source": "organisation", **RULE_EXAMPLE}]}
    )

    organisation_id: int
    source: str = Field(description="organisation, region or default")


class ReportedPublication(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 501,
                    "organisation_id": 12,
                    "channel_id": 31,
                    "external_post_id": "1042",
                    "url": "https://vk.com/wall-200001_1042",
                    "source": "reported",
                    "material_id": 77,
                    "reported_at": "2026-11-24T10:00:00Z",
                    "confirmed_at": None,
                    "confirmation_error": None,
                    "published_at": "2026-11-24T10:00:00Z",
                }
            ]
        },
    )

    id: int
    organisation_id: int
    channel_id: int
    external_post_id: str
    url: str | None
    source: str
    material_id: int | None
    reported_at: datetime | None
    confirmed_at: datetime | None
    confirmation_error: str | None = Field(description="Why the network could not confirm it (yet)")
    published_at: datetime
