from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import JsonDict

from shared.models.enums import DeliveryStatus

EXAMPLE: JsonDict = {
    "id": 9001,
    "material_id": 55,
    "channel_id": 40,
    "organisation_id": 12,
    "platform": "vk",
    "week": "2026-W48",
    "urgent": False,
    "due_at": "2026-11-25T03:40:00Z",
    "status": "sent",
    "attempts": 2,
    "next_attempt_at": "2026-11-25T03:41:10Z",
    "last_error": "retry: [6] Too many requests per second",
    "last_error_kind": "retry",
    "external_post_id": "1842",
    "post_url": "https://vk.com/wall-212345678_1842",
    "sent_at": "2026-11-25T03:41:12Z",
    "retracted_at": None,
    "retract_result": None,
    "waiting_for_credentials": False,
}


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [EXAMPLE]})

    id: int
    material_id: int
    channel_id: int
    organisation_id: int
    platform: str
    week: str
    urgent: bool
    due_at: datetime
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_error_kind: str | None
    external_post_id: str | None
    post_url: str | None
    sent_at: datetime | None
    retracted_at: datetime | None
    retract_result: str | None
    waiting_for_credentials: bool


class NetworkSummary(BaseModel):
    planned: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    waiting_credentials: int = 0
    cancelled: int = 0
    retracted: int = 0


class DistributionSummary(BaseModel):
    """A week's distribution: how many deliveries are planned, sent, failed or waiting on credentials."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "week": "2026-W48",
                    "total": {
                        "planned": 120,
                        "sending": 3,
                        "sent": 870,
                        "failed": 4,
                        "waiting_credentials": 9,
                        "cancelled": 2,
                        "retracted": 1,
                    },
                    "by_network": {
                        "vk": {
                            "planned": 40,
                            "sending": 1,
                            "sent": 300,
                            "failed": 1,
                            "waiting_credentials": 0,
                            "cancelled": 1,
                            "retracted": 1,
                        }
                    },
                }
            ]
        }
    )

    week: str
    total: NetworkSummary
    by_network: dict[str, NetworkSummary]
