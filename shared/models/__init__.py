"""All table models in one package, so every service and Alembic see the same metadata."""

from shared.models.account import Account
from shared.models.api_key import ApiKey
from shared.models.audit import AuditEvent
from shared.models.channel import Channel
from shared.models.compliance import ComplianceEvidence, ComplianceRule, ComplianceWeek, ComplianceWeekChannel
from shared.models.delivery import Delivery
from shared.models.feed_change import FeedState, MaterialChange
from shared.models.material import Material
from shared.models.media import MediaAsset
from shared.models.notification import Notification
from shared.models.observation import ChannelObservation, TelegramPollState
from shared.models.organisation import Organisation
from shared.models.person import ResponsiblePerson
from shared.models.publication import Publication
from shared.models.subscription import Subscription
from shared.models.webhook import WebhookDelivery, WebhookSubscription

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "Channel",
    "ChannelObservation",
    "ComplianceEvidence",
    "ComplianceRule",
    "ComplianceWeek",
    "ComplianceWeekChannel",
    "Delivery",
    "FeedState",
    "Material",
    "MaterialChange",
    "MediaAsset",
    "Notification",
    "Organisation",
    "ResponsiblePerson",
    "Publication",
    "Subscription",
    "TelegramPollState",
    "WebhookDelivery",
    "WebhookSubscription",
]
