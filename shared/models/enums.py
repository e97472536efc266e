"""Closed vocabularies stored as short strings (checked by the API and by CHECK constraints)."""

from enum import StrEnum


class OrganisationKind(StrEnum):
    executive_body = "executive_body"
    municipal_district = "municipal_district"
    municipal_okrug = "municipal_okrug"
    city_okrug = "city_okrug"
    settlement = "settlement"
    subordinate_organisation = "subordinate_organisation"


class Platform(StrEnum):
    vk = "vk"
    ok = "ok"
    telegram = "telegram"


class ChannelStatus(StrEnum):
    active = "active"
    credentials_invalid = "credentials_invalid"
    disabled = "disabled"


class SubscriptionMode(StrEnum):
    auto = "auto"
    feed = "feed"


class MaterialPriority(StrEnum):
    normal = "normal"
    urgent = "urgent"


class MaterialStatus(StrEnum):
    draft = "draft"
    review = "review"
    approved = "approved"
    withdrawn = "withdrawn"


class MediaKind(StrEnum):
    photo = "photo"
    video = "video"


class Role(StrEnum):
    admin = "admin"
    editor = "editor"
    operator = "operator"
    monitor = "monitor"
    # Read-only key of one organisation's own system: reads that organisation's feed, reports posts.
    feed = "feed"


def check_in(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class DeliveryStatus(StrEnum):
    scheduled = "scheduled"  # waiting for its time (or for the channel's credentials)
    sending = "sending"  # claimed by a worker under a lease
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"  # material withdrawn or expired before it was sent
    retracting = "retracting"  # material withdrawn after it was sent: the post is being removed
    retracted = "retracted"


class PublicationSource(StrEnum):
    distributor = "distributor"
    observed = "observed"
    reported = "reported"


class MatchMethod(StrEnum):
    post_id = "post_id"
    repost = "repost"
    link = "link"
    text_similarity = "text_similarity"
    reported = "reported"


class WebhookEvent(StrEnum):
    material_approved = "material.approved"  # a new item (or a new version of one) is in the feed
    material_withdrawn = "material.withdrawn"  # take it down


class WebhookDeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # gave up after the last attempt
