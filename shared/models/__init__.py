"""All table models in one package, so every service and Alembic see the same metadata."""

from shared.models.account import Account
from shared.models.api_key import ApiKey
from shared.models.audit import AuditEvent
from shared.models.channel import Channel
from shared.models.material import Material
from shared.models.media import MediaAsset
from shared.models.organisation import Organisation
from shared.models.person import ResponsiblePerson
from shared.models.subscription import Subscription

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "Channel",
    "Material",
    "MediaAsset",
    "Organisation",
    "ResponsiblePerson",
    "Subscription",
]
