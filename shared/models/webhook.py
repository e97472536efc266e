"""Push instead of polling: an organisation's systems register webhooks; announcements of new and
withdrawn items wait in an outbox until delivered (signed, retried with backoff)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import WebhookDeliveryStatus, WebhookEvent, check_in
from shared.models.feed_change import Xid8


class WebhookSubscription(SQLModel, table=True):
    """One receiving system of one organisation. ``secret`` (encrypted) signs every delivery; the
    cursor is the change-log position up to which items have been put in the outbox."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    url: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    description: str | None = Field(default=None, sa_column=sa.Column(sa.String(300)))
    secret: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    is_active: bool = Field(default=True, nullable=False)
    cursor_xid: int = Field(sa_column=sa.Column(Xid8(), nullable=False))
    cursor_seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class WebhookDelivery(SQLModel, table=True):
    """The outbox: one announcement of one material version to one webhook, with its attempts."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint(
            "subscription_id",
            "material_id",
            "material_version",
            "event",
            name="uq_webhook_delivery_announcement",
        ),
        sa.CheckConstraint(check_in("event", WebhookEvent), name="event"),
        sa.CheckConstraint(check_in("status", WebhookDeliveryStatus), name="status"),
        sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    subscription_id: int = Field(foreign_key="webhook_subscription.id", ondelete="CASCADE", index=True)
    material_id: int = Field(foreign_key="material.id", ondelete="CASCADE")
    material_version: int = Field(nullable=False)
    event: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    status: str = Field(
        default=WebhookDeliveryStatus.pending.value, sa_column=sa.Column(sa.String(16), nullable=False)
    )
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    last_attempt_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    delivered_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    created_at: datetime = created_at_field()
